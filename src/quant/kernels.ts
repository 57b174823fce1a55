/**
 * One entry point per direction over the type table: float32 rows → bytes of any handled type, and back.
 *
 * API
 * - `quantizeRows(type, src, rowLength)`: Float32Array (whole rows) → Uint8Array in `type` (F32, F16, BF16 or a
 *   block type), bit-identical to llama-quantize's output for that tensor (ggml `quantize_row_*_ref`, no imatrix).
 *   NaN/Inf input for a block type is refused (IntegrityError QUANT_NONFINITE), as llama-quantize refuses it.
 * - `quantizeInto(type, src, srcOffset, nElements, dst, dstOffset)`: the same without allocating; `srcOffset` in
 *   elements, `dstOffset` in bytes; `nElements` must be a multiple of the type's block size.
 * - `dequantizeRows(type, bytes, rowLength)`: bytes → Float32Array (ggml `dequantize_row_*`; for tests and tolerance
 *   checks). `dequantizeInto(...)` without allocating.
 * - `convertInto(srcType, srcBytes, srcByteOffset, nElements, dstType, dst, dstOffset, scratch?)`: raw F32/F16/BF16
 *   source bytes (as stored in safetensors/GGUF, little-endian) → `dstType`, converting to float32 exactly first as
 *   llama-quantize does. A copy when the types are equal. The pool workers run this.
 * - `canQuantize(type)`: whether `type` has a kernel here.
 * - `setKernelBackend('wasm' | 'ts')` / `kernelBackend()`: which implementation runs the block quantizers in this
 *   thread. The default is WebAssembly (wasm-kernels.ts, 2-4× faster) when available, else TypeScript (legacy.ts,
 *   kquants.ts); both give the same bytes (the golden tests run both).
 *
 * Every block is independent of every other, so any split of the rows gives the same bytes.
 */
import { EnvironmentError, IntegrityError, UsageError } from '../errors.ts';
import { bf16ToF32Row, f16ToF32Row, f32ToBf16Row, f32ToF16Row } from './fp16.ts';
import {
  dequantizeQ2_K, dequantizeQ3_K, dequantizeQ4_K, dequantizeQ5_K, dequantizeQ6_K,
  quantizeQ2_K, quantizeQ3_K, quantizeQ4_K, quantizeQ5_K, quantizeQ6_K,
} from './kquants.ts';
import {
  dequantizeQ4_0, dequantizeQ4_1, dequantizeQ5_0, dequantizeQ5_1, dequantizeQ8_0,
  quantizeQ4_0, quantizeQ4_1, quantizeQ5_0, quantizeQ5_1, quantizeQ8_0,
} from './legacy.ts';
import { firstNonFinite } from './nonfinite.ts';
import { GGML_TYPES, isFloatTypeName, rowSizeBytes, type FloatTypeName, type GgmlTypeName } from './types.ts';
import { isWasmQuantType, wasmKernels, type WasmQuantType } from './wasm-kernels.ts';

type BlockQuantizer = (x: Float32Array, xOff: number, nBlocks: number, y: Uint8Array, yOff: number) => void;
type BlockDequantizer = (y: Uint8Array, yOff: number, nBlocks: number, x: Float32Array, xOff: number) => void;

const TS_QUANTIZERS: Record<WasmQuantType, BlockQuantizer> = {
  Q8_0: quantizeQ8_0,
  Q4_0: quantizeQ4_0,
  Q4_1: quantizeQ4_1,
  Q5_0: quantizeQ5_0,
  Q5_1: quantizeQ5_1,
  Q2_K: quantizeQ2_K,
  Q3_K: quantizeQ3_K,
  Q4_K: quantizeQ4_K,
  Q5_K: quantizeQ5_K,
  Q6_K: quantizeQ6_K,
};

export type KernelBackend = 'wasm' | 'ts';
let backend: KernelBackend = wasmKernels() === undefined ? 'ts' : 'wasm';

export function kernelBackend(): KernelBackend {
  return backend;
}

/** Select the block-quantizer implementation for this thread; returns the previous one. */
export function setKernelBackend(next: KernelBackend): KernelBackend {
  if (next === 'wasm' && wasmKernels() === undefined) {
    throw new EnvironmentError('QUANT_NO_WASM', 'WebAssembly is not available in this JavaScript runtime.', {
      hint: 'Use the TypeScript kernels (the default when WebAssembly is missing); they give the same bytes, slower.',
    });
  }
  const previous = backend;
  backend = next;
  return previous;
}

/**
 * The TypeScript transcription of ggml's reference quantizers, with no input check: for comparing other kernels (the
 * GPU's) with ggml on any input, NaN and infinities included. Everything that writes a file goes through the
 * checked entry points below.
 */
export function quantizeWithReferencePort(type: WasmQuantType, src: Float32Array, nBlocks: number, dst: Uint8Array): void {
  TS_QUANTIZERS[type](src, 0, nBlocks, dst, 0);
}

function blockQuantizer(name: WasmQuantType): BlockQuantizer {
  const ts = TS_QUANTIZERS[name];
  return (x, xOff, n, y, yOff) => {
    const wasm = backend === 'wasm' ? wasmKernels() : undefined;
    if (wasm === undefined) ts(x, xOff, n, y, yOff);
    else wasm.quantize(name, x, xOff, n, y, yOff);
  };
}

const QUANTIZERS: Partial<Record<GgmlTypeName, BlockQuantizer>> = {
  Q8_0: blockQuantizer('Q8_0'),
  Q4_0: blockQuantizer('Q4_0'),
  Q4_1: blockQuantizer('Q4_1'),
  Q5_0: blockQuantizer('Q5_0'),
  Q5_1: blockQuantizer('Q5_1'),
  Q2_K: blockQuantizer('Q2_K'),
  Q3_K: blockQuantizer('Q3_K'),
  Q4_K: blockQuantizer('Q4_K'),
  Q5_K: blockQuantizer('Q5_K'),
  Q6_K: blockQuantizer('Q6_K'),
  F32: (x, xOff, n, y, yOff) => y.set(new Uint8Array(x.buffer, x.byteOffset + xOff * 4, n * 4), yOff),
  F16: (x, xOff, n, y, yOff) => f32ToF16Row(x, xOff, n, y, yOff),
  BF16: (x, xOff, n, y, yOff) => f32ToBf16Row(x, xOff, n, y, yOff),
};

const DEQUANTIZERS: Partial<Record<GgmlTypeName, BlockDequantizer>> = {
  Q8_0: dequantizeQ8_0,
  Q4_0: dequantizeQ4_0,
  Q4_1: dequantizeQ4_1,
  Q5_0: dequantizeQ5_0,
  Q5_1: dequantizeQ5_1,
  Q2_K: dequantizeQ2_K,
  Q3_K: dequantizeQ3_K,
  Q4_K: dequantizeQ4_K,
  Q5_K: dequantizeQ5_K,
  Q6_K: dequantizeQ6_K,
  F32: (y, yOff, n, x, xOff) => new Uint8Array(x.buffer, x.byteOffset + xOff * 4, n * 4).set(y.subarray(yOff, yOff + n * 4)),
  F16: (y, yOff, n, x, xOff) => f16ToF32Row(y, yOff, n, x, xOff),
  BF16: (y, yOff, n, x, xOff) => bf16ToF32Row(y, yOff, n, x, xOff),
};

export function canQuantize(type: GgmlTypeName): boolean {
  return QUANTIZERS[type] !== undefined;
}

function unsupported(type: string): UsageError {
  return new UsageError('QUANT_UNSUPPORTED_TYPE', `Tensor type ${type} is not supported by the CPU kernels.`, {
    hint: 'Choose one of F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.',
    details: { type },
  });
}

/**
 * A block type cannot hold NaN/Inf (llama-quantize's validation refuses what the reference quantizers make of them,
 * and what they make of them is undefined behaviour in C); the F32/F16/BF16 conversions keep them, as ggml does.
 */
function refuseNonFinite(srcType: FloatTypeName, bytes: Uint8Array, dstType: GgmlTypeName): void {
  const element = firstNonFinite(srcType, bytes);
  if (element < 0) return;
  throw new IntegrityError('QUANT_NONFINITE', `element ${element} of the input is NaN or Inf, which ${dstType} blocks cannot hold`, {
    hint: 'The weights are corrupt or the model diverged in training; llama.cpp refuses such tensors too. Fix or re-download them.',
    details: { element, type: dstType },
  });
}

function checkWhole(type: GgmlTypeName, nElements: number): number {
  const bs = GGML_TYPES[type].blockSize;
  if (!Number.isInteger(nElements) || nElements < 0 || nElements % bs !== 0) {
    throw new UsageError('QUANT_ROW_LENGTH', `${nElements} elements do not fill whole ${type} blocks of ${bs}.`, {
      hint: 'Pass whole rows whose length is a multiple of the block size (the type choice falls back otherwise).',
      details: { type, nElements, blockSize: bs },
    });
  }
  return nElements / bs;
}

export function quantizeInto(
  type: GgmlTypeName, src: Float32Array, srcOffset: number, nElements: number, dst: Uint8Array, dstOffset: number,
): number {
  const kernel = QUANTIZERS[type];
  if (kernel === undefined) throw unsupported(type);
  const nBlocks = checkWhole(type, nElements);
  const bytes = nBlocks * GGML_TYPES[type].typeSize;
  if (srcOffset + nElements > src.length || dstOffset + bytes > dst.length) {
    throw new RangeError(`quantizeInto: ${type} range outside the buffers`);
  }
  if (!isFloatTypeName(type)) refuseNonFinite('F32', new Uint8Array(src.buffer, src.byteOffset + srcOffset * 4, nElements * 4), type);
  kernel(src, srcOffset, nBlocks, dst, dstOffset);
  return bytes;
}

export function quantizeRows(type: GgmlTypeName, src: Float32Array, rowLength: number): Uint8Array {
  const rowBytes = rowSizeBytes(type, rowLength);
  if (rowLength === 0 || src.length % rowLength !== 0) {
    throw new UsageError('QUANT_ROW_LENGTH', `${src.length} elements are not whole rows of ${rowLength}.`, {
      hint: 'Pass the tensor data as whole rows of ne[0] elements.',
      details: { elements: src.length, rowLength },
    });
  }
  const out = new Uint8Array((src.length / rowLength) * rowBytes);
  quantizeInto(type, src, 0, src.length, out, 0);
  return out;
}

export function dequantizeInto(
  type: GgmlTypeName, src: Uint8Array, srcOffset: number, nElements: number, dst: Float32Array, dstOffset: number,
): void {
  const kernel = DEQUANTIZERS[type];
  if (kernel === undefined) throw unsupported(type);
  const nBlocks = checkWhole(type, nElements);
  if (srcOffset + nBlocks * GGML_TYPES[type].typeSize > src.length || dstOffset + nElements > dst.length) {
    throw new RangeError(`dequantizeInto: ${type} range outside the buffers`);
  }
  kernel(src, srcOffset, nBlocks, dst, dstOffset);
}

export function dequantizeRows(type: GgmlTypeName, bytes: Uint8Array, rowLength: number): Float32Array {
  const rowBytes = rowSizeBytes(type, rowLength);
  if (rowBytes === 0 || bytes.length % rowBytes !== 0) {
    throw new UsageError('QUANT_ROW_LENGTH', `${bytes.length} bytes are not whole ${type} rows of ${rowLength}.`, {
      hint: 'Pass the tensor bytes of whole rows.',
      details: { bytes: bytes.length, rowLength, type },
    });
  }
  const out = new Float32Array((bytes.length / rowBytes) * rowLength);
  dequantizeInto(type, bytes, 0, out.length, out, 0);
  return out;
}

/** Whether convertInto needs a float32 scratch buffer for this pair (the WebAssembly path widens internally). */
export function convertNeedsScratch(srcType: FloatTypeName, dstType: GgmlTypeName): boolean {
  if (srcType === dstType || srcType === 'F32') return false;
  return !(backend === 'wasm' && isWasmQuantType(dstType) && wasmKernels() !== undefined);
}

/**
 * Convert `nElements` source elements (raw little-endian F32/F16/BF16 bytes at `srcByteOffset`) to `dstType` at
 * `dst[dstOffset..]`. `scratch` (≥ nElements floats) avoids an allocation when the source is not F32-aligned.
 * Returns the bytes written.
 */
export function convertInto(
  srcType: FloatTypeName, src: Uint8Array, srcByteOffset: number, nElements: number,
  dstType: GgmlTypeName, dst: Uint8Array, dstOffset: number, scratch?: Float32Array,
): number {
  if (srcType === dstType) {
    const n = nElements * GGML_TYPES[srcType].typeSize;
    dst.set(src.subarray(srcByteOffset, srcByteOffset + n), dstOffset);
    return n;
  }
  const wasm = backend === 'wasm' && isWasmQuantType(dstType) ? wasmKernels() : undefined;
  if (wasm !== undefined && isWasmQuantType(dstType)) {
    checkWhole(dstType, nElements);
    const bytes = (nElements / GGML_TYPES[dstType].blockSize) * GGML_TYPES[dstType].typeSize;
    if (srcByteOffset + nElements * GGML_TYPES[srcType].typeSize > src.length || dstOffset + bytes > dst.length) {
      throw new RangeError(`convertInto: ${srcType} → ${dstType} range outside the buffers`);
    }
    refuseNonFinite(srcType, src.subarray(srcByteOffset, srcByteOffset + nElements * GGML_TYPES[srcType].typeSize), dstType);
    return wasm.convert(srcType, src, srcByteOffset, nElements, dstType, dst, dstOffset);
  }
  let f32: Float32Array;
  const absolute = src.byteOffset + srcByteOffset;
  if (srcType === 'F32' && absolute % 4 === 0) {
    f32 = new Float32Array(src.buffer, absolute, nElements);
  } else {
    f32 = scratch !== undefined && scratch.length >= nElements ? scratch : new Float32Array(nElements);
    if (srcType === 'F32') new Uint8Array(f32.buffer, f32.byteOffset, nElements * 4).set(src.subarray(srcByteOffset, srcByteOffset + nElements * 4));
    else if (srcType === 'F16') f16ToF32Row(src, srcByteOffset, nElements, f32, 0);
    else bf16ToF32Row(src, srcByteOffset, nElements, f32, 0);
  }
  return quantizeInto(dstType, f32, 0, nElements, dst, dstOffset);
}

/** Byte offsets inside a block of the f16 scale fields that ggml_validate_row_data checks. */
const HALF_FIELDS: Partial<Record<GgmlTypeName, readonly number[]>> = {
  Q8_0: [0],
  Q4_0: [0],
  Q5_0: [0],
  Q4_1: [0, 2],
  Q5_1: [0, 2],
  Q2_K: [80, 82],
  Q3_K: [108],
  Q4_K: [0, 2],
  Q5_K: [0, 2],
  Q6_K: [208],
};

/**
 * ggml_validate_row_data: index of the first block (element for F32/F16/BF16) whose scales or values are inf/NaN,
 * or -1 when all are finite. llama-quantize refuses to write such data ("quantized data validation failed").
 */
export function findInvalidBlock(type: GgmlTypeName, bytes: Uint8Array): number {
  const info = GGML_TYPES[type];
  const n = Math.floor(bytes.length / info.typeSize);
  if (type === 'F32') {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) if (!Number.isFinite(dv.getFloat32(4 * i, true))) return i;
    return -1;
  }
  if (type === 'F16' || type === 'BF16') {
    const mask = type === 'F16' ? 0x7c00 : 0x7f80;
    for (let i = 0; i < n; i++) if (((bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) & mask) === mask) return i;
    return -1;
  }
  const fields = HALF_FIELDS[type];
  if (fields === undefined) throw unsupported(type);
  for (let i = 0; i < n; i++) {
    for (const f of fields) {
      const o = i * info.typeSize + f;
      if (((bytes[o]! | (bytes[o + 1]! << 8)) & 0x7c00) === 0x7c00) return i;
    }
  }
  return -1;
}
