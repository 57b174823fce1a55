/**
 * Requantizing an F32 GGUF must give llama-quantize's file byte for byte (header, KV order, tensor order, per-tensor
 * types, quantized blocks, padding) for every type: the hashes of llama.cpp's own outputs are in fixtures/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { quantize } from '../../src/quantize/quantize.ts';
import { ggmlNbytes, readGguf } from '../../src/formats/gguf.ts';
import type { ProgressEvent } from '../../src/progress/events.ts';
import { generateCheckpoint } from '../support/checkpoint/index.ts';

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

/** llama-quantize from LLAMA_QUANTIZE or PATH (e.g. built from the llama.cpp source node-llama-cpp bundles); else skip. */
function findLlamaQuantize(): string | undefined {
  if (process.env.LLAMA_QUANTIZE) return process.env.LLAMA_QUANTIZE;
  const r = spawnSync('sh', ['-c', 'command -v llama-quantize'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
const llamaQuantize = findLlamaQuantize();

test('when llama-quantize is available: the same bytes for a converted Llama 3.1-style checkpoint', { skip: llamaQuantize === undefined ? 'llama-quantize not on PATH (set LLAMA_QUANTIZE)' : false }, async () => {
  const ckpt = join(dir, 'ckpt');
  await generateCheckpoint(ckpt, { version: '3.1', seed: 12, shards: 2 });
  const f32 = join(dir, 'ckpt-F32.gguf');
  await quantize({ input: ckpt, type: 'F32', out: f32 });
  for (const type of ['Q4_K_M', 'Q3_K_M', 'Q5_1']) {
    const ours = join(dir, `ours-${type}.gguf`);
    const theirs = join(dir, `theirs-${type}.gguf`);
    await quantize({ input: ckpt, type, out: ours });
    const r = spawnSync(llamaQuantize!, [f32, theirs, type, '2'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(Buffer.compare(await readFile(ours), await readFile(theirs)), 0, `${type} differs from llama-quantize`);
  }
});

test('progress: bytes of tensor data, monotonic, ending at the total', async () => {
  const events: ProgressEvent[] = [];
  const out = join(dir, 'progress.gguf');
  await quantize({ input: INPUT, type: 'Q4_0', out, threads: 1, onProgress: (e) => events.push(e) });
  const start = events.find((e) => e.type === 'start');
  assert.ok(start?.type === 'start' && start.unit === 'bytes' && start.total !== undefined);
  const advances = events.filter((e) => e.type === 'advance').map((e) => (e.type === 'advance' ? e.done : 0));
  assert.ok(advances.every((v, i) => i === 0 || v > advances[i - 1]!));
  const file = await readGguf(out);
  assert.equal(advances[advances.length - 1], file.tensors.reduce((s, t) => s + ggmlNbytes(t.type, t.ne), 0));
  assert.deepEqual(events[events.length - 1], { type: 'end', task: 'quantize', ok: true, note: `${file.tensors.length} tensors` });
});

test('an aborted run removes its temporary file and leaves the previous output untouched', async () => {
  const out = join(dir, 'aborted.gguf');
  await writeFile(out, 'previous');
  const controller = new AbortController();
  let chunks = 0;
  await assert.rejects(
    quantize({
      input: INPUT, type: 'Q4_K_M', out, threads: 1, signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'advance' && ++chunks === 3) controller.abort();
      },
    }),
    (e: unknown) => e instanceof Error && e.name === 'AbortError',
  );
  assert.equal(await readFile(out, 'utf8'), 'previous');
  assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), []);
});
