/**
 * IEEE 754 conversions between binary32 and the two 16-bit formats HF checkpoints use, done on bit patterns so
 * the rounding is exact: round-to-nearest, ties-to-even, gradual underflow, overflow to ±Inf.
 *
 * NaN handling follows the writers whose output we imitate: F16 NaN → sign | 0x7E00 (PyTorch's
 * `fp16_ieee_from_fp32_value` and ggml's `ggml_compute_fp32_to_fp16`); BF16 NaN → `(bits >>> 16) | 0x40`, the quiet
 * bit set with sign and top payload kept (ggml's `ggml_compute_fp32_to_bf16`, see shared/research/gguf.md §2).
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary32 bit pattern of `value` (after rounding it to float32). */
export function f32Bits(value: number): number {
  f32[0] = value;
  return u32[0] as number;
}

/** The float32 value with bit pattern `bits`. */
export function f32FromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0] as number;
}

/** binary32 bits → binary16 bits, round-to-nearest-even. */
export function f32BitsToF16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00;
  // Re-bias the exponent from 127 to 15.
  const e = exp - 112;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal (or zero): below 2^-25 everything rounds to ±0 (2^-25 itself is a tie that goes to even 0).
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    let h = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (h & 1) === 1)) h += 1; // may carry into the smallest normal: still right
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h += 1; // a carry may reach 0x7c00 = Inf, as it should
  return sign | h;
}

/** binary16 bits → the exact float32 (every half value is representable in binary32). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** binary32 bits → bfloat16 bits, round-to-nearest-even (NaN: quiet bit set, see the file comment). */
export function f32BitsToBf16Bits(bits: number): number {
  const u = bits >>> 0;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits → float32 (exact: bf16 is the top half of a binary32). */
export function bf16BitsToF32(h: number): number {
  return f32FromBits((h & 0xffff) << 16);
}

export function f32ToF16Bits(value: number): number {
  return f32BitsToF16Bits(f32Bits(value));
}

export function f32ToBf16Bits(value: number): number {
  return f32BitsToBf16Bits(f32Bits(value));
}
