/**
 * The WGSL kernels against the CPU quantizers (src/quant/kernels.ts, themselves checked against llama-quantize):
 * every type the CPU handles, F32/F16/BF16 sources, awkward shapes, edge values, and tensors split over several
 * dispatches by lowered limits, compared byte for byte. Runs on whatever adapter exists (lavapipe in CI); without
 * one every test is reported as skipped with the reason.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlamaError } from '../../src/errors.ts';
import { canQuantize, convertInto } from '../../src/quant/kernels.ts';
import { GGML_TYPES, rowSizeBytes, type GgmlTypeName } from '../../src/quant/types.ts';
import { createGpuQuantizer, GPU_TYPES, type GpuQuantizer } from '../../src/quant/gpu/runner.ts';
import { makeTensor, type Dtype, type Tensor } from './data.ts';

// Mesa warns when it has no runtime dir; give it a private one.
process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'llama-gpu-xdg-'));

let gpu: GpuQuantizer | undefined;
let skipReason = '';

before(async () => {
  try {
    gpu = await createGpuQuantizer({ allowSoftware: true });
  } catch (error) {
    if (!(error instanceof LlamaError) || error.exitCode !== 7) throw error;
    skipReason = error.message;
  }
});
after(() => gpu?.destroy());

function cpuBytes(type: GgmlTypeName, t: Tensor): Uint8Array {
  const out = new Uint8Array(rowSizeBytes(type, t.rowLength) * t.nRows);
  convertInto(t.dtype, t.bytes, 0, t.rowLength * t.nRows, type, out, 0);
  return out;
}

function assertSameBytes(type: GgmlTypeName, t: Tensor, got: Uint8Array, want: Uint8Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const bs = GGML_TYPES[type].blockSize;
  const ts = GGML_TYPES[type].typeSize;
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      const block = Math.floor(i / ts);
      const esz = t.dtype === 'F32' ? 4 : 2;
      const src = Array.from(t.bytes.subarray(block * bs * esz, Math.min((block + 1) * bs, block * bs + 8) * esz));
      assert.fail(`${what}: first difference at byte ${i} (block ${block}, byte ${i % ts}): gpu ${got[i]} cpu ${want[i]}; ` +
        `block starts with source bytes ${JSON.stringify(src)}`);
    }
  }
}

const DTYPES: Dtype[] = ['F32', 'F16', 'BF16'];

/** [rowLength, nRows] in blocks: one block; several rows; an odd number of blocks per row; many short rows. */
function shapes(type: GgmlTypeName): Array<[number, number]> {
  const bs = GGML_TYPES[type].blockSize;
  if (bs === 256) return [[256, 1], [512, 3], [768, 5], [256, 17]];
  if (bs === 32) return [[32, 1], [96, 7], [288, 5], [32, 61]]; // 288 = 9 blocks: the k-quant fallback row length
  return [[1, 1], [7, 3], [255, 4], [64, 33]];
}

test('every type the CPU quantizes has a GPU kernel', (t) => {
  if (gpu === undefined) return t.skip(skipReason);
  const cpuTypes = (Object.keys(GGML_TYPES) as GgmlTypeName[]).filter((x) => canQuantize(x));
  assert.ok(cpuTypes.length >= 13);
  for (const type of cpuTypes) assert.ok(gpu.supports(type), `${type} has no GPU kernel`);
  assert.deepEqual([...GPU_TYPES].sort(), [...cpuTypes].sort());
});

for (const type of GPU_TYPES) {
  test(`${type}: byte-identical to the CPU path for F32, F16 and BF16 sources`, async (t) => {
    if (gpu === undefined) return t.skip(skipReason);
    let seed = 1 + GGML_TYPES[type].id * 100;
    for (const dtype of DTYPES) {
      for (const [rowLength, nRows] of shapes(type)) {
        const tensor = makeTensor(seed++, dtype, rowLength, nRows, GGML_TYPES[type].blockSize);
        const got = await gpu.quantizeRows(type, { dtype, bytes: tensor.bytes }, rowLength, nRows);
        assertSameBytes(type, tensor, got, cpuBytes(type, tensor), `${type} from ${dtype}, ${nRows} x ${rowLength}`);
      }
    }
  });
}

test('lowered limits split a tensor over several dispatches and a 2-D grid, same bytes', async (t) => {
  if (gpu === undefined) return t.skip(skipReason);
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
  if (gpu === undefined) return t.skip(skipReason);
  const a = makeTensor(21, 'F16', 256, 4, 256);
  const b = makeTensor(22, 'F32', 64, 9, 32);
  const [ga, gb] = await Promise.all([
    gpu.quantizeRows('Q4_K', { dtype: 'F16', bytes: a.bytes }, 256, 4),
    gpu.quantizeRows('Q5_1', { dtype: 'F32', bytes: b.bytes }, 64, 9),
  ]);
  assertSameBytes('Q4_K', a, ga, cpuBytes('Q4_K', a), 'Q4_K');
  assertSameBytes('Q5_1', b, gb, cpuBytes('Q5_1', b), 'Q5_1');
});

test('wrong sizes and types are usage errors', async (t) => {
  if (gpu === undefined) return t.skip(skipReason);
  await assert.rejects(gpu.quantizeRows('Q8_0', { dtype: 'F32', bytes: new Uint8Array(100) }, 32, 1), (e: LlamaError) => e.code === 'GPU_SOURCE_SIZE' && e.exitCode === 2);
  await assert.rejects(gpu.quantizeRows('Q4_K', { dtype: 'F32', bytes: new Uint8Array(4 * 100) }, 100, 1), (e: LlamaError) => e.code === 'QUANT_ROW_LENGTH');
  await assert.rejects(gpu.quantizeRows('Q8_K', { dtype: 'F32', bytes: new Uint8Array(4 * 256) }, 256, 1), (e: LlamaError) => e.code === 'GPU_TYPE_UNSUPPORTED');
  assert.equal((await gpu.quantizeRows('Q8_0', { dtype: 'F32', bytes: new Uint8Array(0) }, 32, 0)).length, 0);
});
