/**
 * The worker pool gives the same bytes as the single-thread kernels for any number of workers and any split.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { QuantPool } from '../../src/quant/pool.ts';
import { quantizeRows } from '../../src/quant/kernels.ts';
import type { GgmlTypeName } from '../../src/quant/types.ts';
import { LlamaError } from '../../src/errors.ts';

function pseudoRandom(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s / 2 ** 32 - 0.5) * (i % 97 === 0 ? 40 : 2);
  }
  return x;
}

const pools: QuantPool[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

test('pool output equals single-thread output for 1, 2 and 3 workers (rows not divisible by the worker count)', async () => {
  const rowLength = 512;
  const rows = 37;
  const x = pseudoRandom(rowLength * rows, 7);
  const types: GgmlTypeName[] = ['Q8_0', 'Q4_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'F16', 'BF16'];
  for (const threads of [1, 2, 3]) {
    const pool = new QuantPool({ threads, inlineBelow: 0 });
    pools.push(pool);
    for (const type of types) {
      const got = await pool.quantize(type, x, rowLength);
      assert.deepEqual(new Uint8Array(got), quantizeRows(type, x, rowLength), `${type} with ${threads} workers`);
    }
  }
});

test('pool converts F16 and BF16 sources and writes into a caller-provided shared buffer', async () => {
  const pool = new QuantPool({ threads: 2, inlineBelow: 0 });
  pools.push(pool);
  const x = pseudoRandom(256 * 9, 3);
  const f16 = quantizeRows('F16', x, 256);
  const bf16 = quantizeRows('BF16', x, 256);
  const fromF16 = await pool.convert({ srcType: 'F16', src: f16, dstType: 'Q4_K', rowLength: 256 });
  const ref = await new QuantPool({ threads: 1 }).convert({ srcType: 'F16', src: f16, dstType: 'Q4_K', rowLength: 256 }); // inline path
  assert.deepEqual(new Uint8Array(fromF16), new Uint8Array(ref));
  const dst = new Uint8Array(new SharedArrayBuffer(9 * 34 * 8 + 5));
  const out = await pool.convert({ srcType: 'BF16', src: bf16, dstType: 'Q8_0', rowLength: 256, dst });
  assert.equal(out.buffer, dst.buffer);
  assert.equal(out.length, 9 * 34 * 8);
  assert.equal(dst[dst.length - 1], 0);
  const copy = await pool.convert({ srcType: 'F16', src: f16, dstType: 'F16', rowLength: 256 });
  assert.deepEqual(new Uint8Array(copy), f16);
});

test('staging buffers are reused safely: sequential and concurrent calls each get their own result', async () => {
  const pool = new QuantPool({ threads: 2, inlineBelow: 0 });
  pools.push(pool);
  const inputs = [1, 2, 3, 4].map((seed) => pseudoRandom(256 * 16, seed));
  for (const x of inputs) assert.deepEqual(new Uint8Array(await pool.quantize('Q8_0', x, 256)), quantizeRows('Q8_0', x, 256));
  const together = await Promise.all(inputs.map((x) => pool.quantize('Q5_K', x, 256)));
  together.forEach((got, i) => assert.deepEqual(new Uint8Array(got), quantizeRows('Q5_K', inputs[i]!, 256), `input ${i}`));
});

test('a worker that dies fails the jobs in flight, and the pool recovers with fresh workers', async () => {
  const pool = new QuantPool({ threads: 2, inlineBelow: 0 });
  pools.push(pool);
  const x = pseudoRandom(256 * 8, 5);
  const expected = quantizeRows('Q4_K', x, 256);
  assert.deepEqual(new Uint8Array(await pool.quantize('Q4_K', x, 256)), expected);
  const workers = (pool as unknown as { workers: { terminate(): Promise<number> }[] }).workers;
  const inFlight = assert.rejects(
    pool.quantize('Q6_K', pseudoRandom(256 * 4096, 9), 256),
    (e: unknown) => e instanceof LlamaError && e.code === 'QUANT_WORKER_EXIT',
  );
  await workers[0]!.terminate();
  await inFlight;
  assert.deepEqual(new Uint8Array(await pool.quantize('Q4_K', x, 256)), expected);
});

test('pool errors are typed and a closed pool refuses work', async () => {
  const pool = new QuantPool({ threads: 2, inlineBelow: 0 });
  await assert.rejects(pool.quantize('Q4_K', new Float32Array(300), 100), (e: unknown) => e instanceof LlamaError && e.code === 'QUANT_ROW_LENGTH');
  await pool.close();
  await assert.rejects(pool.quantize('Q8_0', new Float32Array(64), 32), (e: unknown) => e instanceof LlamaError && e.code === 'QUANT_POOL_CLOSED');
  assert.throws(() => new QuantPool({ threads: 0 }), (e: unknown) => e instanceof LlamaError && e.code === 'QUANT_THREADS');
});

test('NaN/Inf input is refused in the workers with a typed error naming the element of the whole request', async () => {
  const pool = new QuantPool({ threads: 3, inlineBelow: 0 });
  try {
    const x = pseudoRandom(256 * 30, 9);
    x[256 * 25 + 7] = NaN;
    await assert.rejects(pool.quantize('Q8_0', x, 256), (e: unknown) => {
      assert.ok(e instanceof LlamaError, String(e));
      assert.equal(e.code, 'QUANT_NONFINITE');
      assert.equal(e.exitCode, 4);
      assert.equal(e.details?.element, 256 * 25 + 7);
      return true;
    });
  } finally {
    await pool.close();
  }
});
