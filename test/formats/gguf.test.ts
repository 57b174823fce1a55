import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { IntegrityError, UsageError } from '../../src/errors.ts';
import {
  encodeGgufMetadata,
  getKv,
  ggmlNbytes,
  ggmlTypeId,
  GgufTensorReader,
  GgufWriter,
  kv,
  readGguf,
  type GgufKv,
} from '../../src/formats/gguf.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'quant');
const QUANTIZE_FIXTURES = join(import.meta.dirname, '..', 'quantize', 'fixtures');

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llama-gguf-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('every llama.cpp-written header reads and re-encodes byte for byte', async () => {
  const names = (await readdir(FIXTURES)).filter((n) => n.endsWith('.header.gguf'));
  assert.ok(names.length >= 20);
  for (const name of names) {
    const bytes = await readFile(join(FIXTURES, name));
    // the fixtures hold only the metadata part: pad a data section of the right size so the reader's checks pass
    const path = join(dir, name);
    const parsed = await readGgufHeaderOnly(bytes, path);
    const { bytes: again } = encodeGgufMetadata(
      parsed.kvs.map((k) => ({ key: k.key, value: k.value })),
      parsed.tensors.map((t) => ({ name: t.name, ne: t.ne, type: t.type, nDims: t.nDims })),
    );
    assert.equal(Buffer.compare(again, bytes.subarray(0, parsed.dataStart)), 0, `${name}: re-encoded metadata differs`);
    assert.equal(getKv(parsed, 'general.architecture'), 'llama');
  }
});

/** The fixtures hold only the metadata part: give them a zero data section (16 MB is more than any needs). */
async function readGgufHeaderOnly(bytes: Buffer, path: string) {
  await writeFile(path, Buffer.concat([bytes, Buffer.alloc(16 << 20)]));
  return readGguf(path);
}

test('writer → reader round trip: every KV type, tensor infos, contiguous padded data', async () => {
  const kvs: GgufKv[] = [
    kv.str('general.architecture', 'llama'),
    { key: 't.u8', value: { type: 0, value: 250 } },
    { key: 't.i8', value: { type: 1, value: -5 } },
    { key: 't.u16', value: { type: 2, value: 65000 } },
    { key: 't.i16', value: { type: 3, value: -32000 } },
    kv.u32('t.u32', 4_000_000_000),
    kv.i32('t.i32', -2_000_000_000),
    kv.f32('t.f32', 1e-5),
    kv.bool('t.bool', true),
    { key: 't.u64', value: { type: 10, value: 2n ** 63n + 5n } },
    { key: 't.i64', value: { type: 11, value: -(2n ** 62n) } },
    { key: 't.f64', value: { type: 12, value: Math.PI } },
    kv.strArray('t.strs', ['a', 'Ġthe', '你好', '🦙', '']),
    kv.f32Array('t.f32s', [0.5, -1000]),
    kv.i32Array('t.i32s', [1, -2, 3]),
    kv.str('t.empty', ''),
  ];
  const tensors = [
    { name: 'a.weight', ne: [64, 3], type: ggmlTypeId('F32') },
    { name: 'b.weight', ne: [5], type: ggmlTypeId('F16') },
    { name: 'c.weight', ne: [32, 2], type: ggmlTypeId('Q8_0') },
  ];
  const path = join(dir, 'roundtrip.gguf');
  const writer = await GgufWriter.create(path, kvs, tensors);
  const payloads = tensors.map((t, i) => Buffer.alloc(ggmlNbytes(t.type, t.ne), i + 1));
  // tensor 0 in two pieces, then the others whole
  await writer.write(payloads[0]!.subarray(0, 100));
  await writer.write(payloads[0]!.subarray(100));
  await writer.write(payloads[1]!);
  await writer.write(payloads[2]!);
  await writer.close();
  const file = await readGguf(path);
  assert.deepEqual(file.kvs.map((k) => k.key), kvs.map((k) => k.key));
  assert.deepEqual(file.kvs.map((k) => k.value), kvs.map((k) => (k.value.type === 6 ? { type: 6, value: Math.fround(k.value.value) } : k.value.type === 9 && k.value.itemType === 6 ? { ...k.value, value: k.value.value.map((v) => Math.fround(v as number)) } : k.value)));
  assert.deepEqual(file.tensors.map((t) => [t.name, t.ne, t.type]), tensors.map((t) => [t.name, t.ne, t.type]));
  assert.deepEqual(file.tensors.map((t) => t.offset), [0, 768, 800]);
  assert.equal(file.fileSize, file.dataStart + 800 + 96, 'the last tensor is padded too');
  const reader = new GgufTensorReader(file);
  try {
    for (let i = 0; i < tensors.length; i++) {
      assert.equal(Buffer.compare(await reader.read(file.tensors[i]!, 0, payloads[i]!.length), payloads[i]!), 0);
    }
  } finally {
    await reader.close();
  }
});

test('the writer refuses too much or too little data', async () => {
  const path = join(dir, 'short.gguf');
  const writer = await GgufWriter.create(path, [kv.str('general.architecture', 'llama')], [{ name: 'a', ne: [4], type: 0 }]);
  await assert.rejects(writer.write(new Uint8Array(20)), /more tensor data/);
  const w2 = await GgufWriter.create(path, [], [{ name: 'a', ne: [4], type: 0 }]);
  await w2.write(new Uint8Array(8));
  await assert.rejects(w2.close(), /incomplete/);
});

test('corrupt GGUF files are integrity errors; other files are usage errors', async () => {
  const source = join(QUANTIZE_FIXTURES, 'golden-f32.gguf');
  const bytes = await readFile(source);
  const truncated = join(dir, 'truncated.gguf');
  await writeFile(truncated, bytes);
  await truncate(truncated, bytes.length - 100);
  await assert.rejects(readGguf(truncated), (e: unknown) => e instanceof IntegrityError && /past the end/.test(e.message));
  const cut = join(dir, 'cut-header.gguf');
  await writeFile(cut, bytes.subarray(0, 200));
  await assert.rejects(readGguf(cut), IntegrityError);
  const badOffset = Buffer.from(bytes);
  const file = await readGguf(source);
  // the first tensor info's offset field sits right before the second tensor's name: flip a byte of the last one
  const lastInfoOffsetPos = (await findLastOffsetField(source, file.tensors.length)) ?? 0;
  badOffset[lastInfoOffsetPos] = (badOffset[lastInfoOffsetPos]! + 32) & 0xff;
  const bad = join(dir, 'bad-offset.gguf');
  await writeFile(bad, badOffset);
  await assert.rejects(readGguf(bad), (e: unknown) => e instanceof IntegrityError && /offset/.test(e.message));
  const notGguf = join(dir, 'not.gguf');
  await writeFile(notGguf, Buffer.alloc(64, 0x41));
  await assert.rejects(readGguf(notGguf), UsageError);
});

/** File position of the u64 offset of the last tensor info (just before the data padding). */
async function findLastOffsetField(path: string, n: number): Promise<number | undefined> {
  const file = await readGguf(path);
  const last = file.tensors[n - 1]!;
  const bytes = await readFile(path);
  // search backwards from the data start for the offset value of the last tensor
  for (let pos = file.dataStart - 8; pos > 0; pos--) {
    if (bytes.readBigUInt64LE(pos) === BigInt(last.offset) && bytes.readUInt32LE(pos - 4) === last.type) return pos;
  }
  return undefined;
}
