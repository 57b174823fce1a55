import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { IntegrityError, LlamaError, UsageError } from '../../src/errors.ts';
import {
  decodeFloats,
  parseSafetensorsHeader,
  readSafetensorsHeader,
  SafetensorsCheckpoint,
} from '../../src/formats/safetensors.ts';
import {
  bf16BitsToF32,
  encodeRawHeader,
  f32ToBf16Bits,
  encodeValues,
  generateCheckpoint,
  MALFORMED_SAFETENSORS_KINDS,
  writeMalformedSafetensors,
  writeSafetensors,
} from '../support/checkpoint/index.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llama-st-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('reads F32, F16 and BF16 tensors exactly, a range of rows at a time', async () => {
  const values = [1.5, -2.25, 0, -0, 65504, 1e-7, 3.140625, -1024];
  const path = join(dir, 'model.safetensors');
  await writeSafetensors(path, {
    a: { dtype: 'F32', shape: [2, 4], values },
    b: { dtype: 'F16', shape: [4, 2], values },
    c: { dtype: 'BF16', shape: [8], values },
  });
  const header = await readSafetensorsHeader(path);
  assert.deepEqual(header.tensors.map((t) => [t.name, t.dtype, t.shape]), [['a', 'F32', [2, 4]], ['b', 'F16', [4, 2]], ['c', 'BF16', [8]]]);
  const ckpt = await SafetensorsCheckpoint.open(dir);
  try {
    assert.deepEqual([...(await ckpt.readTensor(ckpt.get('a')!))], [...new Float32Array(values)]);
    // F16: rows 1..2 of [4, 2] are elements 2..5, as the platform's half rounding stores them
    assert.deepEqual([...(await ckpt.readRows(ckpt.get('b')!, 1, 2))], values.slice(2, 6).map((v) => Math.f16round(v)));
    // BF16: the values as the writer rounded them (the test support's own conversion)
    assert.deepEqual([...(await ckpt.readTensor(ckpt.get('c')!))], values.map((v) => bf16BitsToF32(f32ToBf16Bits(v))));
    assert.deepEqual(decodeFloats('F16', new Uint8Array([0x00, 0x7c, 0x00, 0xfc, 0x01, 0x00])), new Float32Array([Infinity, -Infinity, 2 ** -24]));
  } finally {
    await ckpt.close();
  }
});

for (const kind of MALFORMED_SAFETENSORS_KINDS) {
  test(`malformed file (${kind}) → a typed error naming the file`, async () => {
    const path = join(dir, `bad-${kind}.safetensors`);
    const bad = await writeMalformedSafetensors(path, kind);
    const error = await readSafetensorsHeader(path).then(
      () => assert.fail(`accepted: ${bad.description}`),
      (e: unknown) => e,
    );
    assert.ok(error instanceof LlamaError, `not a LlamaError: ${String(error)}`);
    const expected = kind === 'bad-dtype' ? UsageError : IntegrityError;
    assert.ok(error instanceof expected, `${kind}: expected ${expected.name}, got ${error.name} (${error.message})`);
    assert.match(error.message, new RegExp(`bad-${kind}\\.safetensors`));
    assert.ok(error.hint.length > 0);
    if (kind === 'overlapping-offsets' || kind === 'offsets-size-mismatch' || kind === 'offsets-reversed' || kind === 'bad-shape') {
      assert.match(error.message, /tensor/);
    }
  });
}

test('an unsupported but valid dtype is read, then refused as usage error (exit 2) when converted', async () => {
  const sub = await mkdtemp(join(dir, 'i32-'));
  await writeSafetensors(join(sub, 'model.safetensors'), { ids: { dtype: 'I32', shape: [2], values: [1, 2] } });
  const ckpt = await SafetensorsCheckpoint.open(sub);
  try {
    await assert.rejects(ckpt.readTensor(ckpt.get('ids')!), (e: unknown) => e instanceof UsageError && e.exitCode === 2 && /ids/.test(e.message) && /I32/.test(e.message));
  } finally {
    await ckpt.close();
  }
});

test('sharded checkpoint: tensors from every shard; a shard missing from disk is an integrity error', async () => {
  const sub = join(dir, 'sharded');
  const desc = await generateCheckpoint(sub, { version: '2', shards: 3, generationConfig: false, card: false, license: { files: 'none' } });
  const ckpt = await SafetensorsCheckpoint.open(sub);
  try {
    assert.equal(ckpt.files.length, 3);
    assert.deepEqual(new Set(ckpt.tensors.map((t) => t.name)), new Set(desc.tensors.map((t) => t.name)));
    const names = ckpt.tensors.filter((t) => t.file === ckpt.files[0]).map((t) => t.name);
    assert.deepEqual(names, [...names].sort(), 'within a shard, names sorted as safe_open().keys() gives them');
  } finally {
    await ckpt.close();
  }
  await unlink(join(sub, desc.weightFiles[1]!));
  await assert.rejects(SafetensorsCheckpoint.open(sub), (e: unknown) => e instanceof IntegrityError && e.code === 'SAFETENSORS_SHARD_MISSING' && e.message.includes(desc.weightFiles[1]!));
});

test('an index naming a tensor that its shard lacks is an integrity error', async () => {
  const sub = join(dir, 'index-lies');
  await generateCheckpoint(sub, { version: '2', shards: 2, generationConfig: false, card: false, license: { files: 'none' } });
  const indexPath = join(sub, 'model.safetensors.index.json');
  const index = JSON.parse(await readFile(indexPath, 'utf8')) as { weight_map: Record<string, string> };
  index.weight_map['model.layers.9.mlp.up_proj.weight'] = Object.values(index.weight_map)[0]!;
  await writeFile(indexPath, JSON.stringify(index));
  await assert.rejects(SafetensorsCheckpoint.open(sub), (e: unknown) => e instanceof IntegrityError && /model\.layers\.9\.mlp\.up_proj\.weight/.test(e.message));
});

test('fuzz: mutated headers give only typed errors or a valid parse, never a crash or hang', async () => {
  const data = encodeValues('F32', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const good = JSON.stringify({ __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] }, b: { dtype: 'F32', shape: [4], data_offsets: [24, 40] } });
  const file = Buffer.concat([encodeRawHeader(good), data]);
  const headerEnd = 8 + Number(file.readBigUInt64LE(0));
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('byte' as const), at: fc.nat(headerEnd - 1), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(file.length) }),
    fc.record({ kind: fc.constant('length' as const), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
    fc.record({ kind: fc.constant('digit' as const), at: fc.nat(good.length - 1), value: fc.constantFrom('0', '9', '-', '1e9', '99999999999999999999', '"', ']', '}') }),
  );
  const path = join(dir, 'fuzz.safetensors');
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
      let bytes = Buffer.from(file);
      for (const m of mutations) {
        if (m.kind === 'byte') bytes[m.at] = m.value;
        else if (m.kind === 'truncate') bytes = bytes.subarray(0, m.at);
        else if (m.kind === 'length' && bytes.length >= 8) bytes.writeBigUInt64LE(m.value, 0);
        else if (m.kind === 'digit') {
          const text = good.slice(0, m.at) + m.value + good.slice(m.at + 1);
          bytes = Buffer.concat([encodeRawHeader(text), data]);
        }
      }
      await writeFile(path, bytes);
      try {
        const header = await readSafetensorsHeader(path);
        // accepted: then every tensor must lie inside the file and tile the data exactly
        for (const t of header.tensors) assert.ok(t.begin >= header.dataStart && t.end <= header.fileSize);
      } catch (error) {
        assert.ok(error instanceof LlamaError, `untyped error: ${String(error)}`);
      }
    }),
    { numRuns: 300, seed: 42 },
  );
});

test('parseSafetensorsHeader rejects non-UTF-8 header bytes', () => {
  assert.throws(() => parseSafetensorsHeader('x.safetensors', 100, new Uint8Array([0x7b, 0xff, 0x7d])), IntegrityError);
});

/** IEEE binary16 → number, written from the definition: the oracle for the decoder. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

test('F16 decoding is exact for every one of the 65536 bit patterns', () => {
  const bytes = new Uint8Array(65536 * 2);
  for (let h = 0; h < 65536; h++) {
    bytes[2 * h] = h & 0xff;
    bytes[2 * h + 1] = h >> 8;
  }
  const fast = decodeFloats('F16', bytes);
  // and at an odd byte offset
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const slow = decodeFloats('F16', shifted.subarray(1));
  for (let h = 0; h < 65536; h++) {
    const want = halfToFloat(h);
    assert.ok(Object.is(fast[h], Math.fround(want)) || (Number.isNaN(want) && Number.isNaN(fast[h])), `0x${h.toString(16)}: ${fast[h]} vs ${want}`);
    assert.ok(Object.is(slow[h], fast[h]) || Number.isNaN(fast[h]));
  }
});
