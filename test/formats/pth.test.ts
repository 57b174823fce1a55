/**
 * The .pth reader (src/formats/pth.ts): tensors read exactly from a torch.save-shaped zip without extracting it; a
 * hostile pickle (os.system, builtins.eval, NEWOBJ, …) is a typed error and nothing runs; truncated and mutated files
 * give only typed errors or a valid parse, as the safetensors reader's fuzz test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPth, restrictedUnpickle } from '../../src/formats/pth.ts';
import { LlamaError } from '../../src/errors.ts';
import { pthFile, stateDictPickle, zipStored, type PthTensorSpec } from '../support/pth/writer.ts';

function f32(values: number[]): Buffer {
  return Buffer.from(new Float32Array(values).buffer);
}

const TENSORS: Record<string, PthTensorSpec> = {
  'tok_embeddings.weight': { dtype: 'F32', shape: [4, 3], data: f32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) },
  'layers.0.attention_norm.weight': { dtype: 'BF16', shape: [3], data: Buffer.from([0x80, 0x3f, 0x00, 0x40, 0x40, 0x40]) },
  'norm.weight': { dtype: 'F16', shape: [2], data: Buffer.from([0x00, 0x3c, 0x00, 0xc0]) },
};

async function withFile(t: { after(fn: () => Promise<void>): void }, bytes: Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-pth-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'consolidated.00.pth');
  await writeFile(path, bytes);
  return path;
}

test('reads every tensor of a torch.save zip: names, dtypes, shapes, exact bytes', async (t) => {
  const path = await withFile(t, pthFile(TENSORS));
  const ckpt = await openPth(path);
  t.after(() => ckpt.close());
  assert.deepEqual([...ckpt.tensors.keys()], Object.keys(TENSORS));
  for (const [name, spec] of Object.entries(TENSORS)) {
    const info = ckpt.tensors.get(name);
    assert.equal(info?.dtype, spec.dtype);
    assert.deepEqual(info?.shape, spec.shape);
    assert.deepEqual(await ckpt.read(name), Buffer.from(spec.data));
  }
});

test("the test writer's pickle is one Python's pickle module reads as torch.load would (persistent ids, rebuild calls)", (t) => {
  const pickle = stateDictPickle(TENSORS);
  const script = `
import pickle, sys, io
class U(pickle.Unpickler):
    def find_class(self, m, n):
        if (m, n) == ('collections', 'OrderedDict'):
            import collections; return collections.OrderedDict
        if m == 'torch._utils' and n == '_rebuild_tensor_v2':
            return lambda s, o, size, stride, g, h: ('tensor', s, o, size, stride)
        if m == 'torch': return n
        raise pickle.UnpicklingError(m + '.' + n)
    def persistent_load(self, pid): return pid
d = U(io.BytesIO(sys.stdin.buffer.read())).load()
print(sorted((k, v[1][1], v[1][2], v[3]) for k, v in d.items()))
`;
  let out: string;
  try {
    out = execFileSync('python3', ['-c', script], { input: pickle }).toString();
  } catch (error) {
    t.skip(`python3 unavailable (${(error as Error).message.slice(0, 60)})`);
    return;
  }
  assert.match(out, /\('layers\.0\.attention_norm\.weight', 'BFloat16Storage', '1', \(3,\)\)/);
  assert.match(out, /\('tok_embeddings\.weight', 'FloatStorage', '0', \(4, 3\)\)/);
});

test('hostile pickles are typed errors and nothing is called', async (t) => {
  const hostile: Array<[string, Buffer]> = [
    ['os.system', Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('cos\nsystem\nX\x0a\x00\x00\x00touch /tmp/x\x85R.', 'latin1')])],
    ['builtins.eval via STACK_GLOBAL', Buffer.concat([Buffer.from([0x80, 0x04]), Buffer.from('\x8c\x08builtins\x8c\x04eval\x93\x8c\x011\x85R.', 'latin1')])],
    ['NEWOBJ', Buffer.from('\x80\x02ccollections\nOrderedDict\n)\x81.', 'latin1')],
    ['INST', Buffer.from('(ios\nsystem\n.', 'latin1')],
    ['torch.load of a non-storage persistent id', Buffer.from('\x80\x02(X\x03\x00\x00\x00evilt\x51.', 'latin1')],
    ['REDUCE of a non-global', Buffer.from('\x80\x02X\x01\x00\x00\x00a)R.', 'latin1')],
  ];
  for (const [what, pickle] of hostile) {
    assert.throws(() => restrictedUnpickle(pickle), (e: unknown) => e instanceof LlamaError && e.exitCode === 4 && /PTH_/.test(e.code), what);
    const path = await withFile(t, pthFile({}, { rawPickle: pickle }));
    await assert.rejects(openPth(path), (e: unknown) => e instanceof LlamaError && e.exitCode === 4, what);
  }
  assert.throws(() => restrictedUnpickle(Buffer.from('cos\nsystem\n.', 'latin1')), (e: LlamaError) => e.code === 'PTH_UNSAFE_PICKLE' && /os\.system/.test(e.message));
});

test('compressed entries, missing storages, views past their storage and non-zips are typed errors', async (t) => {
  const pickle = stateDictPickle({ w: { dtype: 'F32', shape: [2, 2], data: f32([1, 2, 3, 4]) } });
  const shortStorage = zipStored([['c/data.pkl', pickle], ['c/data/0', f32([1, 2, 3])]]);
  await assert.rejects(openPth(await withFile(t, shortStorage)), (e: LlamaError) => e.code === 'PTH_CORRUPT' && /outside its storage/.test(e.message));
  const missing = zipStored([['c/data.pkl', pickle]]);
  await assert.rejects(openPth(await withFile(t, missing)), (e: LlamaError) => /missing/.test(e.message));
  const compressed = zipStored([['c/data.pkl', pickle], ['c/data/0', f32([1, 2, 3, 4])]]);
  const directory = compressed.readUInt32LE(compressed.length - 22 + 16);
  compressed.writeUInt16LE(8, directory + 10); // deflate, in the first directory entry (data.pkl)
  await assert.rejects(openPth(await withFile(t, compressed)), (e: LlamaError) => e.code === 'PTH_COMPRESSED');
  await assert.rejects(openPth(await withFile(t, Buffer.from('not a zip at all'))), (e: LlamaError) => e.code === 'PTH_CORRUPT');
});

test('fuzz: every truncation and random mutations give only typed errors or a valid parse, never a crash or hang', async (t) => {
  const good = pthFile(TENSORS);
  const path = await withFile(t, good);
  const { writeFile: write } = await import('node:fs/promises');
  const check = async (bytes: Buffer, what: string): Promise<void> => {
    await write(path, bytes);
    try {
      const ckpt = await openPth(path);
      for (const name of ckpt.tensors.keys()) await ckpt.read(name);
      await ckpt.close();
    } catch (error) {
      assert.ok(error instanceof LlamaError, `${what}: ${String((error as Error).stack ?? error).slice(0, 400)}`);
    }
  };
  for (let cut = 0; cut < good.length; cut += 7) await check(good.subarray(0, cut), `truncated at ${cut}`);
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 400; i++) {
    const bytes = Buffer.from(good);
    for (let k = 0; k <= rand(4); k++) bytes[rand(bytes.length)] = rand(256);
    await check(bytes, `mutation ${i}`);
  }
  // The pickle alone, mutated: only typed errors.
  const pickle = stateDictPickle(TENSORS);
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.from(pickle);
    bytes[rand(bytes.length)] = rand(256);
    try {
      restrictedUnpickle(bytes);
    } catch (error) {
      assert.ok(error instanceof LlamaError, `pickle mutation ${i}: ${String(error)}`);
    }
  }
});
