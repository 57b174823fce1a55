/** The NaN/Inf test on raw F32/F16/BF16 data that every path into a block quantizer makes. */
import type { GgmlTypeName } from './types.ts';

/** Words per block of the NaN/Inf scan: a block with a hit is scanned again element by element. */
const NONFINITE_BLOCK = 4096;

/**
 * Index of the first NaN/Inf element of raw F32/F16/BF16 data, or -1. An element is NaN/Inf when its exponent bits
 * are all ones; adding the exponent's lowest bit then carries into the sign bit. So one and, one add and one or per
 * 32-bit word (two halves at once for F16/BF16) test a whole block, and only a block with a hit is looked at again.
 * (On the GPU path this check is most of the main thread's work.)
 */
export function firstNonFinite(type: GgmlTypeName, bytes: Uint8Array): number {
  const f32 = type === 'F32';
  const exponent = f32 ? 0x7f800000 : type === 'F16' ? 0x7c007c00 : 0x7f807f80;
  const lowBit = f32 ? 0x00800000 : type === 'F16' ? 0x04000400 : 0x00800080;
  const sign = f32 ? 0x80000000 : 0x80008000;
  const halfExponent = type === 'F16' ? 0x7c00 : 0x7f80;
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 2);
  for (let b = 0; b < words.length; b += NONFINITE_BLOCK) {
    const end = Math.min(b + NONFINITE_BLOCK, words.length);
    let any = 0;
    for (let i = b; i < end; i++) any |= (words[i]! & exponent) + lowBit;
    if ((any & sign) !== 0) return firstNonFiniteIn(f32, halfExponent, aligned, b * 4, end * 4);
  }
  return firstNonFiniteIn(f32, halfExponent, aligned, words.length * 4, aligned.length);
}

/** Element by element (little-endian) over bytes [from, to): the first element whose exponent is all ones (halfExponent: F16/BF16). */
function firstNonFiniteIn(f32: boolean, halfExponent: number, bytes: Uint8Array, from: number, to: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (f32) {
    for (let o = from; o + 3 < to; o += 4) if ((view.getUint32(o, true) & 0x7f800000) === 0x7f800000) return o >> 2;
    return -1;
  }
  for (let o = from; o + 1 < to; o += 2) if ((view.getUint16(o, true) & halfExponent) === halfExponent) return o >> 1;
  return -1;
}
