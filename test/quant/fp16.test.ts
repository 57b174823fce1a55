/**
 * fp16 / bf16 conversions against independent oracles: the platform's Float16Array (IEEE round-to-nearest-even) for
 * half, exact rational reasoning on the float32 bit pattern for bfloat16.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  bf16BitsToFp32, bf16ToF32Row, f16ToF32Row, f32ToBf16Row, f32ToF16Row,
  fp16BitsToFp32, fp32BitsToFp16Bits, fp32ToBf16Bits, fp32ToFp16Bits,
} from '../../src/quant/fp16.ts';
import { wasmKernels } from '../../src/quant/wasm-kernels.ts';

const H = new Float16Array(1);
const HU = new Uint16Array(H.buffer);
const F = new Float32Array(1);
const FU = new Uint32Array(F.buffer);

function oracleHalf(bits: number): number {
  FU[0] = bits;
  const v = F[0]!;
  if (Number.isNaN(v)) return ((bits >>> 16) & 0x8000) | 0x7e00; // ggml: quiet NaN, sign kept
  H[0] = v;
  return HU[0]!;
}

test('f32 → f16 agrees with IEEE round-to-nearest-even on a sweep of every exponent and many mantissas', () => {
  let checked = 0;
  for (let hi = 0; hi < 0x10000; hi++) {
    // all exponents and sign, the top 7 mantissa bits, and low mantissa patterns that hit ties and near-ties
    for (const lo of [0x0000, 0x0001, 0x0fff, 0x1000, 0x1001, 0x1fff, 0x2000, 0x7fff, 0x8000, 0xffff]) {
      const bits = ((hi << 16) | lo) >>> 0;
      assert.equal(fp32BitsToFp16Bits(bits), oracleHalf(bits), `bits 0x${bits.toString(16)}`);
      checked++;
    }
  }
  assert.ok(checked > 600_000);
});

test('f32 → f16 random bit patterns (fast-check)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => fp32BitsToFp16Bits(bits) === oracleHalf(bits)),
    { numRuns: 20_000 },
  );
});

test('f32 → f16 named cases: overflow, subnormals, ±0, NaN', () => {
  assert.equal(fp32ToFp16Bits(65504), 0x7bff);
  assert.equal(fp32ToFp16Bits(65519.996), 0x7bff); // below the rounding boundary
  assert.equal(fp32ToFp16Bits(65520), 0x7c00); // ties to even → inf
  assert.equal(fp32ToFp16Bits(-1e10), 0xfc00);
  assert.equal(fp32ToFp16Bits(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(fp32ToFp16Bits(2 ** -25), 0x0000); // tie → even (0)
  assert.equal(fp32ToFp16Bits(Math.fround(2 ** -25 * 1.0000001)), 0x0001);
  assert.equal(fp32ToFp16Bits(3 * 2 ** -25), 0x0002); // 1.5 ulp → 2 (even)
  assert.equal(fp32ToFp16Bits(-0), 0x8000);
  assert.equal(fp32ToFp16Bits(1e-40), 0x0000);
  assert.equal(fp32ToFp16Bits(NaN), 0x7e00);
  assert.equal(fp32BitsToFp16Bits(0xffc00000), 0xfe00);
  assert.equal(fp32ToFp16Bits(Infinity), 0x7c00);
});

test('f16 → f32 is exact for all 65536 halves', () => {
  for (let h = 0; h < 0x10000; h++) {
    HU[0] = h;
    const want = H[0]!;
    const got = fp16BitsToFp32(h);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(got));
    else assert.ok(Object.is(got, want), `half 0x${h.toString(16)}`);
  }
});

test('f32 → bf16 is round-to-nearest-even on the bit pattern, NaN → quiet (ggml_compute_fp32_to_bf16)', () => {
  fc.assert(
    // NaN bit patterns are checked below through the row helper: a NaN read into a number may lose its payload
    fc.property(fc.integer({ min: 0, max: 0xffffffff }).filter((b) => (b & 0x7fffffff) <= 0x7f800000), (bits) => {
      FU[0] = bits;
      const got = fp32ToBf16Bits(F[0]!);
      // oracle: choose between truncation t and t+1 by comparing the dropped 16 bits with one half
      const t = bits >>> 16;
      const rest = bits & 0xffff;
      const want = rest > 0x8000 || (rest === 0x8000 && (t & 1) === 1) ? t + 1 : t;
      return got === (want & 0xffff);
    }),
    { numRuns: 20_000 },
  );
  // NaN handling on exact bit patterns through the row helper (no number round trip)
  const src = new Uint32Array([0x7f800001, 0xffc00000, 0x7fffffff, 0x7f800000, 0x3f808000, 0x3f818000]);
  const out = new Uint8Array(12);
  f32ToBf16Row(new Float32Array(src.buffer), 0, 6, out, 0);
  const got = Array.from(new Uint16Array(out.buffer));
  assert.deepEqual(got, [0x7fc0, 0xffc0, 0x7fff, 0x7f80, 0x3f80, 0x3f82]);
  assert.ok(Object.is(bf16BitsToFp32(0x8000), -0));
  assert.equal(bf16BitsToFp32(0x3f80), 1);
});

test('row helpers round-trip at unaligned byte offsets', () => {
  const x = new Float32Array([1, -2.5, 65504, 1e-7, -0, 3.140625]);
  const b = new Uint8Array(3 + 12);
  f32ToF16Row(x, 0, 6, b, 3);
  const back = new Float32Array(6);
  f16ToF32Row(b, 3, 6, back, 0);
  assert.deepEqual(Array.from(back), Array.from(x).map((v) => fp16BitsToFp32(fp32ToFp16Bits(v))));
  f32ToBf16Row(x, 0, 6, b, 3);
  const aligned = new Uint8Array(b.subarray(3));
  bf16ToF32Row(aligned, 0, 6, back, 0);
  assert.deepEqual(Array.from(back), Array.from(x).map((v) => bf16BitsToFp32(fp32ToBf16Bits(v))));
});

test('WebAssembly F16/BF16 widening (SIMD + scalar tail) is bit-exact for every 16-bit pattern, NaN payloads included', () => {
  const k = wasmKernels();
  assert.ok(k !== undefined);
  // 65536 + 3 patterns: the last 3 go through the scalar tail
  const n = 65536 + 3;
  const src = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) {
    src[2 * i] = i & 0xff;
    src[2 * i + 1] = (i >>> 8) & 0xff;
  }
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  const ref = new Float32Array(n);
  const refBits = new Uint32Array(ref.buffer);
  k.widen('F16', src, 0, n, out, 0);
  f16ToF32Row(src, 0, n, ref, 0);
  for (let i = 0; i < n; i++) assert.equal(bits[i], refBits[i], `half 0x${(i & 0xffff).toString(16)}`);
  k.widen('BF16', src, 0, n, out, 0);
  for (let i = 0; i < n; i++) assert.equal(bits[i], ((i & 0xffff) << 16) >>> 0, `bf16 0x${(i & 0xffff).toString(16)}`);
});
