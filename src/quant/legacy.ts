/**
 * The 32-element ("legacy") block quantizers Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and their dequantizers, bit-identical to
 * ggml's `quantize_row_*_ref` / `dequantize_row_*` (ggml/src/ggml-quants.c; facts in shared/research/gguf.md §2-3).
 *
 * API (all kernels work on whole blocks, no allocation):
 * - `quantizeQ8_0(x, xOff, nBlocks, y, yOff)` and likewise Q4_0, Q4_1, Q5_0, Q5_1: read `nBlocks * 32` floats of `x`
 *   starting at element `xOff`, write `nBlocks` blocks into `y` starting at byte `yOff`.
 * - `dequantizeQ8_0(y, yOff, nBlocks, x, xOff)` and likewise: the inverse direction (ggml's dequantize_row_*).
 *
 * Exactness: ggml-base computes in IEEE binary32 with one rounding per C operator and no FMA, so every float
 * operation here is `Math.fround(a op b)` on float32 operands (binary64 then one rounding to binary32 is exact for
 * + - * / of binary32 values). Casts to integers truncate toward zero as in C; Q8_0 uses roundf (half away from 0).
 */
import { getHalf, putHalf } from './fp16.ts';
import { signedMaxAbs } from './scan.ts';

const fround = Math.fround;
const FLT_MAX = 3.4028234663852886e38;

/**
 * C's float → small-integer cast as GCC emits it on x86-64: cvttss2si to int32 (truncation; NaN, ±inf and
 * out-of-range give 0x80000000), then the low byte. Matters only when d is subnormal and id = 1/d overflows.
 */
function cvtI8(v: number): number {
  return v > -2147483649 && v < 2147483648 ? (Math.trunc(v) << 24) >> 24 : 0;
}

// ---------------------------------------------------------------- Q8_0: f16 d; i8 qs[32]
export function quantizeQ8_0(x: Float32Array, xOff: number, nBlocks: number, y: Uint8Array, yOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = xOff + i * 32;
    const yb = yOff + i * 34;
    let amax = 0;
    for (let j = 0; j < 32; j++) {
      const a = Math.abs(x[xb + j]!);
      amax = amax > a ? amax : a; // MAX(amax, fabsf(v))
    }
    const d = fround(amax / 127);
    const id = d !== 0 ? fround(1 / d) : 0;
    putHalf(y, yb, d);
    for (let j = 0; j < 32; j++) {
      const v = fround(x[xb + j]! * id);
      // roundf: half away from zero; the int8 store keeps the low byte
      const q = v >= 0 ? Math.floor(v + 0.5) : -Math.floor(0.5 - v);
      y[yb + 2 + j] = cvtI8(q) & 0xff;
    }
  }
}

// ---------------------------------------------------------------- Q4_0: f16 d; u8 qs[16]
export function quantizeQ4_0(x: Float32Array, xOff: number, nBlocks: number, y: Uint8Array, yOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = xOff + i * 32;
    const yb = yOff + i * 18;
    const max = signedMaxAbs(x, xb, 32);
    const d = fround(max / -8);
    const id = d !== 0 ? fround(1 / d) : 0;
    putHalf(y, yb, d);
    for (let j = 0; j < 16; j++) {
      // x*id is rounded to float before the bias is added (no FMA in ggml-base)
      const x0 = fround(x[xb + j]! * id);
      const x1 = fround(x[xb + 16 + j]! * id);
      const xi0 = Math.min(15, cvtI8(fround(x0 + 8.5))) & 0xff;
      const xi1 = Math.min(15, cvtI8(fround(x1 + 8.5))) & 0xff;
      y[yb + 2 + j] = (xi0 | (xi1 << 4)) & 0xff;
    }
  }
}

// ---------------------------------------------------------------- Q4_1: f16 d; f16 m; u8 qs[16]
export function quantizeQ4_1(x: Float32Array, xOff: number, nBlocks: number, y: Uint8Array, yOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = xOff + i * 32;
    const yb = yOff + i * 20;
    let min = FLT_MAX;
    let max = -FLT_MAX;
    for (let j = 0; j < 32; j++) {
      const v = x[xb + j]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = fround(fround(max - min) / 15);
    const id = d !== 0 ? fround(1 / d) : 0;
    putHalf(y, yb, d);
    putHalf(y, yb + 2, min);
    for (let j = 0; j < 16; j++) {
      const x0 = fround(fround(x[xb + j]! - min) * id);
      const x1 = fround(fround(x[xb + 16 + j]! - min) * id);
      const xi0 = Math.min(15, cvtI8(fround(x0 + 0.5))) & 0xff;
      const xi1 = Math.min(15, cvtI8(fround(x1 + 0.5))) & 0xff;
      y[yb + 4 + j] = (xi0 | (xi1 << 4)) & 0xff;
    }
  }
}

// ---------------------------------------------------------------- Q5_0: f16 d; u8 qh[4]; u8 qs[16]
export function quantizeQ5_0(x: Float32Array, xOff: number, nBlocks: number, y: Uint8Array, yOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = xOff + i * 32;
    const yb = yOff + i * 22;
    const max = signedMaxAbs(x, xb, 32);
    const d = fround(max / -16);
    const id = d !== 0 ? fround(1 / d) : 0;
    putHalf(y, yb, d);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const x0 = fround(x[xb + j]! * id);
      const x1 = fround(x[xb + 16 + j]! * id);
      const xi0 = Math.min(31, cvtI8(fround(x0 + 16.5))) & 0xff;
      const xi1 = Math.min(31, cvtI8(fround(x1 + 16.5))) & 0xff;
      y[yb + 6 + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
      qh |= ((xi0 & 0x10) >>> 4) << j;
      qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
    }
    y[yb + 2] = qh & 0xff;
    y[yb + 3] = (qh >>> 8) & 0xff;
    y[yb + 4] = (qh >>> 16) & 0xff;
    y[yb + 5] = (qh >>> 24) & 0xff;
  }
}

// ---------------------------------------------------------------- Q5_1: f16 d; f16 m; u8 qh[4]; u8 qs[16]
export function quantizeQ5_1(x: Float32Array, xOff: number, nBlocks: number, y: Uint8Array, yOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = xOff + i * 32;
    const yb = yOff + i * 24;
    let min = FLT_MAX;
    let max = -FLT_MAX;
    for (let j = 0; j < 32; j++) {
      const v = x[xb + j]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = fround(fround(max - min) / 31);
    const id = d !== 0 ? fround(1 / d) : 0;
    putHalf(y, yb, d);
    putHalf(y, yb + 2, min);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const x0 = fround(fround(x[xb + j]! - min) * id);
      const x1 = fround(fround(x[xb + 16 + j]! - min) * id);
      // (uint8_t) cast, no MIN clamp in ggml
      const xi0 = cvtI8(fround(x0 + 0.5)) & 0xff;
      const xi1 = cvtI8(fround(x1 + 0.5)) & 0xff;
      y[yb + 8 + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
      qh |= ((xi0 & 0x10) >>> 4) << j;
      qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
    }
    y[yb + 4] = qh & 0xff;
    y[yb + 5] = (qh >>> 8) & 0xff;
    y[yb + 6] = (qh >>> 16) & 0xff;
    y[yb + 7] = (qh >>> 24) & 0xff;
  }
}

// ---------------------------------------------------------------- dequantizers (ggml dequantize_row_*)
export function dequantizeQ8_0(y: Uint8Array, yOff: number, nBlocks: number, x: Float32Array, xOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const yb = yOff + i * 34;
    const d = getHalf(y, yb);
    for (let j = 0; j < 32; j++) {
      const q = (y[yb + 2 + j]! << 24) >> 24;
      x[xOff + i * 32 + j] = q * d;
    }
  }
}

export function dequantizeQ4_0(y: Uint8Array, yOff: number, nBlocks: number, x: Float32Array, xOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const yb = yOff + i * 18;
    const d = getHalf(y, yb);
    const xb = xOff + i * 32;
    for (let j = 0; j < 16; j++) {
      const q = y[yb + 2 + j]!;
      x[xb + j] = ((q & 0x0f) - 8) * d;
      x[xb + 16 + j] = ((q >>> 4) - 8) * d;
    }
  }
}

export function dequantizeQ4_1(y: Uint8Array, yOff: number, nBlocks: number, x: Float32Array, xOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const yb = yOff + i * 20;
    const d = getHalf(y, yb);
    const m = getHalf(y, yb + 2);
    const xb = xOff + i * 32;
    for (let j = 0; j < 16; j++) {
      const q = y[yb + 4 + j]!;
      x[xb + j] = fround((q & 0x0f) * d) + m;
      x[xb + 16 + j] = fround((q >>> 4) * d) + m;
    }
  }
}

function readQh(y: Uint8Array, o: number): number {
  return (y[o]! | (y[o + 1]! << 8) | (y[o + 2]! << 16) | (y[o + 3]! << 24)) >>> 0;
}

export function dequantizeQ5_0(y: Uint8Array, yOff: number, nBlocks: number, x: Float32Array, xOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const yb = yOff + i * 22;
    const d = getHalf(y, yb);
    const qh = readQh(y, yb + 2);
    const xb = xOff + i * 32;
    for (let j = 0; j < 16; j++) {
      const q = y[yb + 6 + j]!;
      const h0 = ((qh >>> j) << 4) & 0x10;
      const h1 = (qh >>> (j + 12)) & 0x10;
      x[xb + j] = (((q & 0x0f) | h0) - 16) * d;
      x[xb + 16 + j] = (((q >>> 4) | h1) - 16) * d;
    }
  }
}

export function dequantizeQ5_1(y: Uint8Array, yOff: number, nBlocks: number, x: Float32Array, xOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const yb = yOff + i * 24;
    const d = getHalf(y, yb);
    const m = getHalf(y, yb + 2);
    const qh = readQh(y, yb + 4);
    const xb = xOff + i * 32;
    for (let j = 0; j < 16; j++) {
      const q = y[yb + 8 + j]!;
      const h0 = ((qh >>> j) << 4) & 0x10;
      const h1 = (qh >>> (j + 12)) & 0x10;
      x[xb + j] = fround(((q & 0x0f) | h0) * d) + m;
      x[xb + 16 + j] = fround(((q >>> 4) | h1) * d) + m;
    }
  }
}
