/**
 * The WGSL kernels against the CPU quantizers (src/quant/kernels.ts, themselves checked against llama-quantize):
 * the float and 32-element types and Q6_K here (Q2_K..Q5_K in kquants-*.test.ts), F32/F16/BF16 sources, awkward
 * shapes, edge values, and tensors split over several dispatches by lowered limits, compared byte for byte. Runs on
 * whatever adapter exists (lavapipe in CI); without one every test is reported as skipped with the reason.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LlamaError } from '../../src/errors.ts';
import { canQuantize, kernelBackend, setKernelBackend } from '../../src/quant/kernels.ts';
import { GGML_TYPES, type GgmlTypeName } from '../../src/quant/types.ts';
import { createGpuQuantizer, GPU_TYPES } from '../../src/quant/gpu/runner.ts';
import { assertSameBytes, cpuBytes, defineTypeTests, shared, TYPE_GROUPS, useGpu } from './compare.ts';
import { makeTensor, type Dtype } from './data.ts';

useGpu();

test('every type the CPU quantizes has a GPU kernel', (t) => {
  const gpu = shared.gpu;
  if (gpu === undefined) return t.skip(shared.skipReason);
  const cpuTypes = (Object.keys(GGML_TYPES) as GgmlTypeName[]).filter((x) => canQuantize(x));
  assert.ok(cpuTypes.length >= 13);
  for (const type of cpuTypes) assert.ok(gpu.supports(type), `${type} has no GPU kernel`);
  assert.deepEqual([...GPU_TYPES].sort(), [...cpuTypes].sort());
  // the test files between them compare every type
  assert.deepEqual(Object.values(TYPE_GROUPS).flat().sort(), [...GPU_TYPES].sort());
});

// the k-quants are in kquants-*.test.ts (their pipelines compile in parallel processes)
defineTypeTests(TYPE_GROUPS.quantize);

test('lowered limits split a tensor over several dispatches and a 2-D grid, same bytes', async (t) => {
  const gpu = shared.gpu;
  if (gpu === undefined) return t.skip(shared.skipReason);
  // 4 KiB buffers: a few blocks per dispatch; 2 workgroups per dimension: 2-D grids within a chunk
  const small = await createGpuQuantizer({ limits: { maxStorageBufferBindingSize: 4096 } });
  const grid = await createGpuQuantizer({ limits: { maxComputeWorkgroupsPerDimension: 2 } });
  try {
    assert.equal(small.limits.maxStorageBufferBindingSize, 4096);
    for (const [type, dtype, rowLength, nRows] of [
      ['Q4_0', 'F16', 96, 50], // 18-byte blocks: chunks end half-way into a word
      ['Q8_0', 'F32', 320, 9],
      ['Q6_K', 'BF16', 512, 10],
      ['F16', 'F32', 33, 101], // odd element counts
    ] as Array<[GgmlTypeName, Dtype, number, number]>) {
      const tensor = makeTensor(7, dtype, rowLength, nRows, GGML_TYPES[type].blockSize);
      const want = cpuBytes(type, tensor);
      const before = small.stats.dispatches;
      const got = await small.quantizeRows(type, { dtype, bytes: tensor.bytes }, rowLength, nRows);
      assert.ok(small.stats.dispatches - before >= 3, `${type}: ${small.stats.dispatches - before} dispatches`);
      assertSameBytes(type, tensor, got, want, `${type} from ${dtype} in 4 KiB chunks`);
    }
    // 1000 Q8_0 blocks, at most 2 x 2 workgroups of 64 per dispatch: 4 dispatches, each a 2-D grid
    const tensor = makeTensor(11, 'F32', 32 * 40, 25, 32);
    const got = await grid.quantizeRows('Q8_0', { dtype: 'F32', bytes: tensor.bytes }, 32 * 40, 25);
    assert.equal(grid.stats.dispatches, 4);
    assertSameBytes('Q8_0', tensor, got, cpuBytes('Q8_0', tensor), 'Q8_0 on a 2 x 2 grid');
  } finally {
    small.destroy();
    grid.destroy();
  }
});

test('concurrent calls are serialised and each gets its own result', async (t) => {
  const gpu = shared.gpu;
  if (gpu === undefined) return t.skip(shared.skipReason);
  const a = makeTensor(21, 'F16', 256, 4, 256);
  const b = makeTensor(22, 'F32', 64, 9, 32);
  const [ga, gb] = await Promise.all([
    gpu.quantizeRows('Q6_K', { dtype: 'F16', bytes: a.bytes }, 256, 4),
    gpu.quantizeRows('Q5_1', { dtype: 'F32', bytes: b.bytes }, 64, 9),
  ]);
  assertSameBytes('Q6_K', a, ga, cpuBytes('Q6_K', a), 'Q6_K');
  assertSameBytes('Q5_1', b, gb, cpuBytes('Q5_1', b), 'Q5_1');
});

test('sources in SharedArrayBuffers and at odd byte offsets', async (t) => {
  const gpu = shared.gpu;
  if (gpu === undefined) return t.skip(shared.skipReason);
  for (const [offset, dtype] of [[0, 'F32'], [6, 'F32'], [3, 'F16'], [0, 'BF16']] as Array<[number, Dtype]>) {
    const tensor = makeTensor(31 + offset, dtype, 64, 5, 32);
    const bytes = new Uint8Array(new SharedArrayBuffer(tensor.bytes.length + offset), offset, tensor.bytes.length);
    bytes.set(tensor.bytes);
    const got = await gpu.quantizeRows('Q4_1', { dtype, bytes }, 64, 5);
    assertSameBytes('Q4_1', tensor, got, cpuBytes('Q4_1', tensor), `Q4_1 from a shared ${dtype} source at byte offset ${offset}`);
  }
});

test('non-finite inputs (NaN, ±Inf) give the bytes of the reference port', async (t) => {
  const gpu = shared.gpu;
  if (gpu === undefined) return t.skip(shared.skipReason);
  // llama-quantize refuses such tensors, but the kernels still follow ggml's comparisons and casts on them. Compared
  // with the TypeScript port (legacy.ts / kquants.ts), the line-by-line transcription of ggml's C.
  const previous = kernelBackend();
  setKernelBackend('ts');
  try {
    for (const type of TYPE_GROUPS.quantize) {
      const bs = Math.max(32, GGML_TYPES[type].blockSize);
      const f = new Float32Array(bs * 4);
      for (let i = 0; i < f.length; i++) f[i] = Math.sin(i);
      f[3] = Infinity;
      f[bs + 5] = NaN;
      f[2 * bs + 1] = -Infinity;
      f[3 * bs] = NaN;
      f[3 * bs + 1] = Infinity;
      const tensor = { dtype: 'F32' as const, bytes: new Uint8Array(f.buffer), rowLength: bs, nRows: 4 };
      const got = await gpu.quantizeRows(type, tensor, bs, 4);
      assertSameBytes(type, tensor, got, cpuBytes(type, tensor), `${type} with NaN and infinities`);
    }
  } finally {
    setKernelBackend(previous);
  }
});

test('wrong sizes and types are usage errors', async (t) => {
  const gpu = shared.gpu;
  if (gpu === undefined) return t.skip(shared.skipReason);
  await assert.rejects(gpu.quantizeRows('Q8_0', { dtype: 'F32', bytes: new Uint8Array(100) }, 32, 1), (e: LlamaError) => e.code === 'GPU_SOURCE_SIZE' && e.exitCode === 2);
  await assert.rejects(gpu.quantizeRows('Q6_K', { dtype: 'F32', bytes: new Uint8Array(4 * 100) }, 100, 1), (e: LlamaError) => e.code === 'QUANT_ROW_LENGTH');
  await assert.rejects(gpu.quantizeRows('Q8_K', { dtype: 'F32', bytes: new Uint8Array(4 * 256) }, 256, 1), (e: LlamaError) => e.code === 'GPU_TYPE_UNSUPPORTED');
  assert.equal((await gpu.quantizeRows('Q8_0', { dtype: 'F32', bytes: new Uint8Array(0) }, 32, 0)).length, 0);
});
