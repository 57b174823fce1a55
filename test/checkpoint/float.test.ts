import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  bf16BitsToF32,
  f16BitsToF32,
  f32Bits,
  f32BitsToBf16Bits,
  f32BitsToF16Bits,
  f32FromBits,
  f32ToBf16Bits,
  f32ToF16Bits,
} from '../support/checkpoint/index.ts';

// The platform's own binary16 conversion (V8's Float16Array / Math.f16round) is the independent reference.
const nativeF16 = new Float16Array(1);
const nativeF16Bits = new Uint16Array(nativeF16.buffer);
function nativeToF16Bits(value: number): number {
  nativeF16[0] = value;
  return nativeF16Bits[0] as number;
}
function nativeF16Value(bits: number): number {
  nativeF16Bits[0] = bits;
  return nativeF16[0] as number;
}
const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

describe('float32 → float16', () => {
  // Encodings from the IEEE 754 binary16 definition: 1 sign, 5 exponent (bias 15), 10 fraction bits.
  const known: Array<[string, number, number]> = [
    ['+0', 0, 0x0000],
    ['-0', -0, 0x8000],
    ['1', 1, 0x3c00],
    ['-2', -2, 0xc000],
    ['0.5', 0.5, 0x3800],
    ['0.1 (rounded up)', 0.1, 0x2e66],
    ['largest finite 65504', 65504, 0x7bff],
    ['65519 rounds down to 65504', 65519, 0x7bff],
    ['65520 is a tie with 2^16: to even = Inf', 65520, 0x7c00],
    ['1e6 overflows', 1e6, 0x7c00],
    ['-1e6 overflows', -1e6, 0xfc00],
    ['+Inf', Infinity, 0x7c00],
    ['-Inf', -Infinity, 0xfc00],
    ['smallest normal 2^-14', 2 ** -14, 0x0400],
    ['smallest subnormal 2^-24', 2 ** -24, 0x0001],
    ['largest subnormal 1023·2^-24', 1023 * 2 ** -24, 0x03ff],
    ['2^-25 is a tie with 0: to even = 0', 2 ** -25, 0x0000],
    ['-2^-25 keeps its sign', -(2 ** -25), 0x8000],
    ['0.75·2^-24 rounds up to 1 ulp', 0.75 * 2 ** -24, 0x0001],
    ['1.5·2^-24 tie: to even 2', 1.5 * 2 ** -24, 0x0002],
    ['2.5·2^-24 tie: to even 2', 2.5 * 2 ** -24, 0x0002],
    ['1023.5·2^-24 tie carries into the smallest normal', 1023.5 * 2 ** -24, 0x0400],
    ['float32 subnormal 1e-40 → +0', 1e-40, 0x0000],
    ['-1e-40 → -0', -1e-40, 0x8000],
    ['1 + 2^-11 tie: to even 1', 1 + 2 ** -11, 0x3c00],
    ['1 + 3·2^-11 tie: to even 1 + 2^-9', 1 + 3 * 2 ** -11, 0x3c02],
    ['just above the tie rounds up', 1 + 2 ** -11 + 2 ** -20, 0x3c01],
    ['just below the tie rounds down', 1 + 2 ** -11 - 2 ** -20, 0x3c00],
  ];
  for (const [label, value, bits] of known) {
    it(`${label} → ${hex(bits)}`, () => {
      assert.equal(hex(f32ToF16Bits(value)), hex(bits));
    });
  }

  it('NaN becomes the quiet NaN 0x7e00 with its sign (as PyTorch and ggml write it)', () => {
    assert.equal(hex(f32BitsToF16Bits(0x7fc00000)), '0x7e00');
    assert.equal(hex(f32BitsToF16Bits(0xffc00000)), '0xfe00');
    assert.equal(hex(f32BitsToF16Bits(0x7f800001)), '0x7e00'); // a signaling NaN must not become Inf
  });

  it('every finite binary16 value converts back to itself (all 63488 of them)', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      const value = nativeF16Value(h);
      assert.equal(f32ToF16Bits(value), h, `value ${value}`);
      assert.ok(Object.is(f16BitsToF32(h), value), `decode ${hex(h)}`);
    }
  });

  it('halfway between neighbours goes to the even one; a float32 ulp off the tie goes to the nearer', () => {
    for (const sign of [0, 0x8000]) {
      for (let h = 0; h < 0x7bff; h++) {
        const a = nativeF16Value(sign | h);
        const b = nativeF16Value(sign | (h + 1));
        const mid = (a + b) / 2; // exact in float32: 12 significant bits
        assert.equal(Math.fround(mid), mid);
        const even = (h & 1) === 0 ? h : h + 1;
        assert.equal(f32ToF16Bits(mid), sign | even, `tie between ${hex(h)} and ${hex(h + 1)}`);
        const midBits = f32Bits(mid);
        const towardB = f32FromBits(midBits + 1); // magnitude grows with the bit pattern
        const towardA = f32FromBits(midBits - 1);
        assert.equal(f32ToF16Bits(towardB), sign | (h + 1));
        assert.equal(f32ToF16Bits(towardA), sign | h);
      }
    }
  });

  it('agrees with the platform conversion on 200000 random float32 bit patterns', () => {
    let state = 0x9e3779b9;
    for (let i = 0; i < 200_000; i++) {
      // xorshift32: spreads over all exponents, so subnormal, overflow and NaN inputs all occur.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const bits = state >>> 0;
      const value = f32FromBits(bits);
      const ours = f32BitsToF16Bits(bits);
      if (Number.isNaN(value)) {
        assert.equal(ours & 0x7e00, 0x7e00, `NaN ${bits.toString(16)} stays a quiet NaN`);
        continue;
      }
      assert.equal(hex(ours), hex(nativeToF16Bits(value)), `input bits ${bits.toString(16)}`);
    }
  });
});

describe('float32 → bfloat16', () => {
  const known: Array<[string, number, number]> = [
    ['+0', 0x00000000, 0x0000],
    ['-0', 0x80000000, 0x8000],
    ['1', 0x3f800000, 0x3f80],
    ['0.1 = 0x3dcccccd rounds up', 0x3dcccccd, 0x3dcd],
    ['1 + 2^-8 tie: to even 1', 0x3f808000, 0x3f80],
    ['1 + 3·2^-8 tie: to even', 0x3f818000, 0x3f82],
    ['just above the tie', 0x3f808001, 0x3f81],
    ['largest float32 rounds to Inf', 0x7f7fffff, 0x7f80],
    ['below the last tie stays finite', 0x7f7f7fff, 0x7f7f],
    ['+Inf', 0x7f800000, 0x7f80],
    ['-Inf', 0xff800000, 0xff80],
    ['subnormal tie to even 0', 0x00008000, 0x0000],
    ['subnormal tie to even 2', 0x00018000, 0x0002],
    ['subnormal exact', 0x00010000, 0x0001],
    ['negative subnormal', 0x80018001, 0x8002],
  ];
  for (const [label, bits, expected] of known) {
    it(`${label} → ${hex(expected)}`, () => {
      assert.equal(hex(f32BitsToBf16Bits(bits)), hex(expected));
    });
  }

  it('NaN gets the quiet bit, keeps sign and top payload (never becomes Inf)', () => {
    assert.equal(hex(f32BitsToBf16Bits(0x7fc00000)), '0x7fc0');
    assert.equal(hex(f32BitsToBf16Bits(0x7f800001)), '0x7fc0');
    assert.equal(hex(f32BitsToBf16Bits(0xff800001)), '0xffc0');
    assert.equal(hex(f32BitsToBf16Bits(0x7fa50000)), '0x7fe5');
  });

  it('is the nearest bfloat16, ties to even, on 200000 random finite inputs', () => {
    let state = 0x1234567;
    for (let i = 0; i < 200_000; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const bits = state >>> 0;
      const x = f32FromBits(bits);
      if (!Number.isFinite(x)) continue;
      const r = f32BitsToBf16Bits(bits);
      // Candidates: truncation toward zero and the next magnitude up (2^128 stands in for the overflow to Inf).
      const lo = bits >>> 16;
      const loValue = bf16BitsToF32(lo);
      const hiValue = (lo & 0x7fff) === 0x7f7f ? Math.sign(x) * 2 ** 128 : bf16BitsToF32(lo + 1);
      const dLo = Math.abs(x - loValue);
      const dHi = Math.abs(hiValue - x);
      const expected = dLo < dHi ? lo : dHi < dLo ? lo + 1 : (lo & 1) === 0 ? lo : lo + 1;
      assert.equal(hex(r), hex(expected & 0xffff), `input ${bits.toString(16)}`);
      assert.equal(f32ToBf16Bits(x), r);
    }
  });

  it('decodes to the top half of a float32', () => {
    assert.equal(bf16BitsToF32(0x3f80), 1);
    assert.equal(bf16BitsToF32(0xc040), -3);
    assert.ok(Object.is(bf16BitsToF32(0x8000), -0));
    assert.equal(bf16BitsToF32(0xff80), -Infinity);
  });
});
