/**
 * Shared by the GPU test files: one GPU quantizer per test process (or the reason to skip when there is no
 * adapter), the CPU reference bytes, a byte-for-byte comparison that names the first differing block, and
 * `defineTypeTests(types)`, which registers the CPU-vs-GPU comparison of each type over F32/F16/BF16 sources and
 * awkward shapes. The types are spread over several test files so their pipelines compile in parallel processes
 * (a k-quant pipeline takes lavapipe several seconds to build).
 */
import { gpuSkipReason } from '../support/gpu.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LlamaError } from '../../src/errors.ts';
import { convertInto, quantizeWithReferencePort } from '../../src/quant/kernels.ts';
import { bf16ToF32Row, f16ToF32Row } from '../../src/quant/fp16.ts';
import type { WasmQuantType } from '../../src/quant/wasm-kernels.ts';
import { GGML_TYPES, rowSizeBytes, type GgmlTypeName } from '../../src/quant/types.ts';
import { createGpuQuantizer, type GpuQuantizer } from '../../src/quant/gpu/runner.ts';
import { makeTensor, type Dtype, type Tensor } from './data.ts';

/** Mesa warns when it has no runtime dir: give it a private one for this test file, removed afterwards. */
export function useRuntimeDir(): void {
  if (process.env.XDG_RUNTIME_DIR !== undefined) return;
  const dir = mkdtempSync(join(tmpdir(), 'llama-gpu-xdg-'));
  process.env.XDG_RUNTIME_DIR = dir;
  after(() => rmSync(dir, { recursive: true, force: true }));
}

export const shared: { gpu?: GpuQuantizer; skipReason: string } = { skipReason: '' };

/** Open the shared quantizer before this file's tests and close it after them. */
export function useGpu(): void {
  useRuntimeDir();
  before(async () => {
    try {
      shared.gpu = await createGpuQuantizer({ allowSoftware: true });
    } catch (error) {
      if (!(error instanceof LlamaError) || error.exitCode !== 7) throw error;
      shared.skipReason = gpuSkipReason(error);
    }
  });
  after(() => shared.gpu?.destroy());
}

/** The CPU reference for `t`: ggml's quantizers as ported (unchecked, so NaN/Inf blocks compare too). */
export function cpuBytes(type: GgmlTypeName, t: Tensor): Uint8Array {
  const n = t.rowLength * t.nRows;
  const out = new Uint8Array(rowSizeBytes(type, t.rowLength) * t.nRows);
  if (type === 'F32' || type === 'F16' || type === 'BF16') {
    convertInto(t.dtype, t.bytes, 0, n, type, out, 0);
    return out;
  }
  const f32 = new Float32Array(n);
  if (t.dtype === 'F32') new Uint8Array(f32.buffer).set(t.bytes.subarray(0, n * 4));
  else if (t.dtype === 'F16') f16ToF32Row(t.bytes, 0, n, f32, 0);
  else bf16ToF32Row(t.bytes, 0, n, f32, 0);
  quantizeWithReferencePort(type as WasmQuantType, f32, n / GGML_TYPES[type].blockSize, out);
  return out;
}

export function assertSameBytes(type: GgmlTypeName, t: Tensor, got: Uint8Array, want: Uint8Array, what: string): void {
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

export const DTYPES: Dtype[] = ['F32', 'F16', 'BF16'];

/** Which test file compares which types; quantize.test.ts checks that together they are every GPU type. */
export const TYPE_GROUPS: Readonly<Record<'quantize' | 'kquantsA' | 'kquantsB', readonly GgmlTypeName[]>> = {
  quantize: ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q6_K'],
  kquantsA: ['Q2_K', 'Q3_K'],
  kquantsB: ['Q4_K', 'Q5_K'],
};

/** [rowLength, nRows]: one block; several rows; an odd number of blocks per row; many short rows. */
function shapes(type: GgmlTypeName): Array<[number, number]> {
  const bs = GGML_TYPES[type].blockSize;
  if (bs === 256) return [[256, 1], [512, 3], [768, 5], [256, 17]];
  if (bs === 32) return [[32, 1], [96, 7], [288, 5], [32, 61]]; // 288 = 9 blocks: the k-quant fallback row length
  return [[1, 1], [7, 3], [255, 4], [64, 33]];
}

/** One test per type: every block kind of data.ts, every source dtype, every shape, byte for byte. */
export function defineTypeTests(types: readonly GgmlTypeName[]): void {
  for (const type of types) {
    test(`${type}: byte-identical to the CPU path for F32, F16 and BF16 sources`, async (t) => {
      const gpu = shared.gpu;
      if (gpu === undefined) return t.skip(shared.skipReason);
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
}
