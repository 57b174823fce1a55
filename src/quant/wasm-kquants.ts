/**
 * WebAssembly k-quant kernels (Q2_K … Q6_K): the same algorithms as kquants.ts, compiled from wasm/kquants.as.
 * WebAssembly f32 arithmetic is binary32 with one rounding per op and no fusing — exactly what ggml-base's C does on
 * x86-64 — so the kernels need none of the Math.fround round trips that make the TypeScript ones ~4× slower.
 *
 * API
 * - `wasmKQuantizers()`: `{ Q2_K, Q3_K, Q4_K, Q5_K, Q6_K }` block quantizers with the kquants.ts signature
 *   `(x, xOff, nBlocks, y, yOff)`, or undefined when WebAssembly is unavailable. One instance per thread, created
 *   on first use; data passes through its linear memory in chunks (copy cost ≪ compute).
 */
import { KQUANTS_WASM_BASE64 } from './wasm/kquants-wasm.ts';

type BlockQuantizer = (x: Float32Array, xOff: number, nBlocks: number, y: Uint8Array, yOff: number) => void;
export type KQuantName = 'Q2_K' | 'Q3_K' | 'Q4_K' | 'Q5_K' | 'Q6_K';

const BLOCK_BYTES: Record<KQuantName, number> = { Q2_K: 84, Q3_K: 110, Q4_K: 144, Q5_K: 176, Q6_K: 210 };
const EXPORT: Record<KQuantName, string> = {
  Q2_K: 'quantize_q2_K',
  Q3_K: 'quantize_q3_K',
  Q4_K: 'quantize_q4_K',
  Q5_K: 'quantize_q5_K',
  Q6_K: 'quantize_q6_K',
};
/** Blocks per call: 256 KiB of input, 54 KiB of output at most. */
const CHUNK = 256;

let cached: Record<KQuantName, BlockQuantizer> | null | undefined;

// The project's lib settings (ES2023, no DOM) carry no WebAssembly types: declare the little used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

function instantiate(): Record<KQuantName, BlockQuantizer> | null {
  const WebAssembly = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (WebAssembly === undefined) return null;
  const bytes = Uint8Array.from(atob(KQUANTS_WASM_BASE64), (c) => c.charCodeAt(0));
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: {
      abort: () => {
        throw new Error('kquants.wasm aborted');
      },
    },
  });
  const ex = instance.exports;
  const memory = ex.memory as WasmMemory;
  const heapBase = (ex.heapBase as () => number)();
  const xAddr = (heapBase + 15) & ~15;
  const yAddr = xAddr + CHUNK * 1024;
  const need = yAddr + CHUNK * 256;
  if (memory.buffer.byteLength < need) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
  // the memory never grows again, so these views stay valid
  const xView = new Float32Array(memory.buffer, xAddr, CHUNK * 256);
  const yView = new Uint8Array(memory.buffer, yAddr, CHUNK * 256);
  const make = (name: KQuantName): BlockQuantizer => {
    const fn = ex[EXPORT[name]] as (x: number, y: number, n: number) => void;
    const size = BLOCK_BYTES[name];
    return (x, xOff, nBlocks, y, yOff) => {
      for (let b = 0; b < nBlocks; b += CHUNK) {
        const n = Math.min(CHUNK, nBlocks - b);
        xView.set(x.subarray(xOff + b * 256, xOff + (b + n) * 256));
        fn(xAddr, yAddr, n);
        y.set(yView.subarray(0, n * size), yOff + b * size);
      }
    };
  };
  return { Q2_K: make('Q2_K'), Q3_K: make('Q3_K'), Q4_K: make('Q4_K'), Q5_K: make('Q5_K'), Q6_K: make('Q6_K') };
}

export function wasmKQuantizers(): Record<KQuantName, BlockQuantizer> | undefined {
  if (cached === undefined) cached = instantiate();
  return cached ?? undefined;
}
