/**
 * WebAssembly kernels: the same algorithms as legacy.ts and kquants.ts, compiled from wasm/kernels.as.
 * WebAssembly f32 arithmetic is binary32 with one rounding per op and no fusing — exactly what ggml-base's C does on
 * x86-64 — so the kernels need none of the Math.fround round trips that make the TypeScript ones several times
 * slower. Both give the same bytes (test/quant runs the golden vectors and a cross-check through both).
 *
 * API
 * - `wasmKernels()`: `{ quantize, convert }` or undefined when WebAssembly is unavailable. One instance per thread,
 *   created on first use; data passes through its linear memory in chunks of 64 Ki elements (copy ≪ compute).
 *   - `quantize(type, x, xOff, nBlocks, y, yOff)`: block quantizer for Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K…Q6_K.
 *   - `convert(srcType, src, srcByteOffset, nElements, dstType, dst, dstOffset)`: raw F32/F16/BF16 bytes →
 *     quantized blocks, widening inside WebAssembly (no intermediate Float32Array).
 *   - `widen(srcType, src, srcByteOffset, nElements, dst, dstOffset)`: F16/BF16 bytes → float32 (exact; tests).
 */
import type { FloatTypeName } from './types.ts';
import { KERNELS_WASM_BASE64 } from './wasm/kernels-wasm.ts';

export type WasmQuantType = 'Q8_0' | 'Q4_0' | 'Q4_1' | 'Q5_0' | 'Q5_1' | 'Q2_K' | 'Q3_K' | 'Q4_K' | 'Q5_K' | 'Q6_K';

const LAYOUT: Record<WasmQuantType, { block: number; bytes: number; fn: string }> = {
  Q8_0: { block: 32, bytes: 34, fn: 'quantize_q8_0' },
  Q4_0: { block: 32, bytes: 18, fn: 'quantize_q4_0' },
  Q4_1: { block: 32, bytes: 20, fn: 'quantize_q4_1' },
  Q5_0: { block: 32, bytes: 22, fn: 'quantize_q5_0' },
  Q5_1: { block: 32, bytes: 24, fn: 'quantize_q5_1' },
  Q2_K: { block: 256, bytes: 84, fn: 'quantize_q2_K' },
  Q3_K: { block: 256, bytes: 110, fn: 'quantize_q3_K' },
  Q4_K: { block: 256, bytes: 144, fn: 'quantize_q4_K' },
  Q5_K: { block: 256, bytes: 176, fn: 'quantize_q5_K' },
  Q6_K: { block: 256, bytes: 210, fn: 'quantize_q6_K' },
};

export function isWasmQuantType(type: string): type is WasmQuantType {
  return Object.hasOwn(LAYOUT, type);
}

/** Elements per call into WebAssembly. */
const CHUNK = 65536;

export interface WasmKernels {
  quantize(type: WasmQuantType, x: Float32Array, xOff: number, nBlocks: number, y: Uint8Array, yOff: number): void;
  convert(
    srcType: FloatTypeName, src: Uint8Array, srcByteOffset: number, nElements: number,
    dstType: WasmQuantType, dst: Uint8Array, dstOffset: number,
  ): number;
  widen(srcType: Exclude<FloatTypeName, 'F32'>, src: Uint8Array, srcByteOffset: number, nElements: number, dst: Float32Array, dstOffset: number): void;
}

// The project's lib settings (ES2023, no DOM) carry no WebAssembly types: declare the little used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

let cached: WasmKernels | null | undefined;

function instantiate(): WasmKernels | null {
  const WebAssembly = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (WebAssembly === undefined) return null;
  const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: {
      abort: () => {
        throw new Error('kernels.wasm aborted');
      },
    },
  }).exports;
  const memory = ex.memory as WasmMemory;
  const heapBase = (ex.heapBase as () => number)();
  // regions: raw source bytes (≤ 4 B/element), f32 input, output (≤ 34/32 B/element)
  const rawAddr = (heapBase + 15) & ~15;
  const xAddr = rawAddr + CHUNK * 4;
  const yAddr = xAddr + CHUNK * 4;
  const end = yAddr + CHUNK * 2;
  if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  // the memory never grows again, so these views stay valid
  const raw = new Uint8Array(memory.buffer, rawAddr, CHUNK * 4);
  const xView = new Float32Array(memory.buffer, xAddr, CHUNK);
  const xBytes = new Uint8Array(memory.buffer, xAddr, CHUNK * 4);
  const yView = new Uint8Array(memory.buffer, yAddr, CHUNK * 2);
  const fns = {} as Record<WasmQuantType, (x: number, y: number, n: number) => void>;
  for (const t of Object.keys(LAYOUT) as WasmQuantType[]) fns[t] = ex[LAYOUT[t].fn] as (x: number, y: number, n: number) => void;
  const f16 = ex.f16_to_f32 as (src: number, dst: number, n: number) => void;
  const bf16 = ex.bf16_to_f32 as (src: number, dst: number, n: number) => void;

  return {
    quantize(type, x, xOff, nBlocks, y, yOff) {
      const { block, bytes } = LAYOUT[type];
      const fn = fns[type];
      const per = CHUNK / block;
      for (let b = 0; b < nBlocks; b += per) {
        const n = Math.min(per, nBlocks - b);
        xView.set(x.subarray(xOff + b * block, xOff + (b + n) * block));
        fn(xAddr, yAddr, n);
        y.set(yView.subarray(0, n * bytes), yOff + b * bytes);
      }
    },
    widen(srcType, src, srcByteOffset, nElements, dst, dstOffset) {
      for (let e = 0; e < nElements; e += CHUNK) {
        const n = Math.min(CHUNK, nElements - e);
        raw.set(src.subarray(srcByteOffset + e * 2, srcByteOffset + (e + n) * 2));
        (srcType === 'F16' ? f16 : bf16)(rawAddr, xAddr, n);
        new Uint8Array(dst.buffer, dst.byteOffset + (dstOffset + e) * 4, n * 4).set(xBytes.subarray(0, n * 4));
      }
    },
    convert(srcType, src, srcByteOffset, nElements, dstType, dst, dstOffset) {
      const { block, bytes } = LAYOUT[dstType];
      const fn = fns[dstType];
      const srcSize = srcType === 'F32' ? 4 : 2;
      let written = 0;
      for (let e = 0; e < nElements; e += CHUNK) {
        const n = Math.min(CHUNK, nElements - e);
        const from = srcByteOffset + e * srcSize;
        if (srcType === 'F32') {
          xBytes.set(src.subarray(from, from + n * 4));
        } else {
          raw.set(src.subarray(from, from + n * 2));
          (srcType === 'F16' ? f16 : bf16)(rawAddr, xAddr, n);
        }
        const nb = n / block;
        fn(xAddr, yAddr, nb);
        dst.set(yView.subarray(0, nb * bytes), dstOffset + written);
        written += nb * bytes;
      }
      return written;
    },
  };
}

export function wasmKernels(): WasmKernels | undefined {
  if (cached === undefined) cached = instantiate();
  return cached ?? undefined;
}
