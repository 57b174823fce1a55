/**
 * Exact half (IEEE binary16) and bfloat16 conversions, bit-identical to ggml.
 *
 * API
 * - `fp32ToFp16Bits(x)`: float32 value → half bits, round-to-nearest-even, subnormals exact, overflow → ±inf,
 *   NaN → 0x7E00 with the sign kept (ggml-impl.h `ggml_compute_fp32_to_fp16`, the software path ggml-base uses).
 * - `fp16BitsToFp32(h)`: half bits → float value (exact).
 * - `fp32ToBf16Bits(x)`: ggml-impl.h `ggml_compute_fp32_to_bf16`: NaN → `(u >> 16) | 64` (quiet), else RNE.
 * - `bf16BitsToFp32(h)`: `h << 16` reinterpreted.
 * - Row helpers: `f32ToF16Row`, `f32ToBf16Row` (write little-endian bytes), `f16ToF32Row`, `bf16ToF32Row`
 *   (read little-endian bytes at any byte offset).
 *
 * The input of the fp32 → * functions must be a float32 value (e.g. read from a Float32Array); a double that is not
 * representable in float32 is first rounded by Math.fround, as a C `float` parameter would be.
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Table of all 65536 half values as float32 (like ggml_table_f32_f16). */
const HALF_TABLE = /* @__PURE__ */ buildHalfTable();
const HALF_TABLE_BITS = new Uint32Array(HALF_TABLE.buffer);

function buildHalfTable(): Float32Array {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    let v: number;
    if (exp === 0) v = mant * 2 ** -24;
    else if (exp === 31) v = mant === 0 ? Infinity : NaN;
    else v = (1024 + mant) * 2 ** (exp - 25);
    table[h] = sign * v;
  }
  // NaN payloads are not representable through `number`; write them as bits so f16 → f32 keeps them.
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) {
      bits[h] = ((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13);
    }
  }
  return table;
}

export function fp32ToFp16Bits(x: number): number {
  F32[0] = x;
  return fp32BitsToFp16Bits(U32[0]!);
}

/** Same as fp32ToFp16Bits, on the float32 bit pattern. */
export function fp32BitsToFp16Bits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a >= 0x477ff000) {
    // ≥ 65520 rounds to infinity; NaN → quiet 0x7E00 as ggml does.
    return sign | (a > 0x7f800000 ? 0x7e00 : 0x7c00);
  }
  if (a >= 0x38800000) {
    // normal half: rebias exponent (127 - 15 = 112), keep 10 mantissa bits, round half to even
    const m = a - 0x38000000;
    const h = m >>> 13;
    const rem = m & 0x1fff;
    return sign | (h + (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0) ? 1 : 0));
  }
  if (a < 0x33000000) return sign; // < 2^-25 (2^-25 itself ties to the even 0)
  // half subnormal: value / 2^-24, rounded half to even
  const e = a >>> 23;
  const mant = (a & 0x7fffff) | 0x800000;
  const shift = 126 - e;
  const h = mant >>> shift;
  const rem = mant & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return sign | (h + (rem > half || (rem === half && (h & 1) !== 0) ? 1 : 0));
}

export function fp16BitsToFp32(h: number): number {
  return HALF_TABLE[h & 0xffff]!;
}

/** Store `x` as a little-endian F16 at `y[o]` (the `ggml_half` fields of quantized blocks). */
export function putHalf(y: Uint8Array, o: number, x: number): void {
  const h = fp32ToFp16Bits(x);
  y[o] = h & 0xff;
  y[o + 1] = h >>> 8;
}

/** Read the little-endian F16 at `y[o]` as a float. */
export function getHalf(y: Uint8Array, o: number): number {
  return fp16BitsToFp32(y[o]! | (y[o + 1]! << 8));
}

export function fp32ToBf16Bits(x: number): number {
  F32[0] = x;
  return fp32BitsToBf16Bits(U32[0]!);
}

function fp32BitsToBf16Bits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 64) & 0xffff;
  return ((u + (0x7fff + ((u >>> 16) & 1))) / 65536) & 0xffff;
}

export function bf16BitsToFp32(h: number): number {
  U32[0] = (h & 0xffff) << 16;
  return F32[0]!;
}

/** Write `n` halves of `src[srcOff..]` as little-endian bytes at `dst[dstOff..]`. */
export function f32ToF16Row(src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset + srcOff * 4, n);
  for (let i = 0, o = dstOff; i < n; i++, o += 2) {
    const h = fp32BitsToFp16Bits(bits[i]!);
    dst[o] = h & 0xff;
    dst[o + 1] = h >>> 8;
  }
}

export function f32ToBf16Row(src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset + srcOff * 4, n);
  for (let i = 0, o = dstOff; i < n; i++, o += 2) {
    const h = fp32BitsToBf16Bits(bits[i]!);
    dst[o] = h & 0xff;
    dst[o + 1] = h >>> 8;
  }
}

/**
 * Read `n` little-endian halves at `src[srcOff..]` (byte offset) into `dst[dstOff..]`. Copies bit patterns, so NaN
 * payloads survive (a float32 NaN read into a JS number may come back quieted).
 */
export function f16ToF32Row(src: Uint8Array, srcOff: number, n: number, dst: Float32Array, dstOff: number): void {
  const table = HALF_TABLE_BITS;
  const out = new Uint32Array(dst.buffer, dst.byteOffset + dstOff * 4, n);
  for (let i = 0, o = srcOff; i < n; i++, o += 2) {
    out[i] = table[src[o]! | (src[o + 1]! << 8)]!;
  }
}

export function bf16ToF32Row(src: Uint8Array, srcOff: number, n: number, dst: Float32Array, dstOff: number): void {
  const out = new Uint32Array(dst.buffer, dst.byteOffset + dstOff * 4, n);
  for (let i = 0, o = srcOff; i < n; i++, o += 2) {
    out[i] = (src[o]! << 16) | (src[o + 1]! << 24);
  }
}
