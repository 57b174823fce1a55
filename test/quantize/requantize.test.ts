/**
 * Requantizing an F32 GGUF must give llama-quantize's file byte for byte (header, KV order, tensor order, per-tensor
 * types, quantized blocks, padding) for every type: the hashes of llama.cpp's own outputs are in fixtures/.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { quantize } from '../../src/convert/quantize.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const INPUT = join(FIXTURES, 'golden-f32.gguf');
const expected = JSON.parse(await readFile(join(FIXTURES, 'llama-quantize-outputs.json'), 'utf8')) as Record<string, { bytes: number; sha256: string }>;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llama-requant-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

for (const [file, want] of Object.entries(expected)) {
  const m = /^(pure|mix)-(\w+)\.gguf$/.exec(file);
  if (m === null) continue;
  const [, kind, type] = m as unknown as [string, 'pure' | 'mix', string];
  test(`${kind === 'pure' ? '--pure ' : ''}${type}: byte-identical to llama-quantize (${file})`, async () => {
    const out = join(dir, file);
    const result = await quantize({ input: INPUT, type, out, pure: kind === 'pure', threads: 2 });
    assert.equal(result.mode, 'quantize');
    const bytes = await readFile(out);
    assert.equal(bytes.length, want.bytes, 'size');
    assert.equal(createHash('sha256').update(bytes).digest('hex'), want.sha256, 'sha256');
    await rm(out);
  });
}

test('the output does not depend on the thread count', async () => {
  const a = join(dir, 'a.gguf');
  const b = join(dir, 'b.gguf');
  await quantize({ input: INPUT, type: 'Q4_K_M', out: a, threads: 1 });
  await quantize({ input: INPUT, type: 'Q4_K_M', out: b, threads: 3 });
  assert.equal(Buffer.compare(await readFile(a), await readFile(b)), 0);
  assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), [], 'no temporary files left');
});
