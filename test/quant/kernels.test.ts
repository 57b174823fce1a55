/**
 * Properties of the quantizers on random and hand-made blocks (fast-check): exact C semantics on inputs whose
 * result can be worked out by hand (roundf ties, truncation, ±0), scale equivariance under powers of two, error
 * bounds of the round trip, block independence, finite output on NaN-free input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fp32ToFp16Bits } from '../../src/quant/fp16.ts';
import {
  canQuantize, convertInto, dequantizeRows, findInvalidBlock, kernelBackend, quantizeRows, setKernelBackend,
} from '../../src/quant/kernels.ts';
import { GGML_TYPES, type GgmlTypeName } from '../../src/quant/types.ts';
import { IntegrityError, LlamaError } from '../../src/errors.ts';

const ALL: GgmlTypeName[] = ['Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K'];
const LEGACY: GgmlTypeName[] = ['Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1'];

function block(values: number[], n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = values[i % values.length]!;
  return x;
}

test('Q8_0: roundf rounds halves away from zero', () => {
  // amax 127 → d = 1, id = 1, so q = roundf(x)
  const x = block([127, 2.5, -2.5, 0.5, -0.5, 1.5, -1.5, 0.49999997, -126.5, 0], 32);
  const q = quantizeRows('Q8_0', x, 32);
  assert.equal(q[0]! | (q[1]! << 8), fp32ToFp16Bits(1));
  const qs = Array.from(new Int8Array(q.buffer, 2, 10));
  assert.deepEqual(qs, [127, 3, -3, 1, -1, 2, -2, 0, -127, 0]);
});

test('subnormal d: id = 1/d overflows and the level casts behave like x86 cvttss2si (0x80000000 → byte 0)', () => {
  // max = 1e-40 → d = -1.25e-41 (f16 -0), id = -inf; x*id = ∓inf → (int8_t) gives 0 on x86-64, so every level is 0
  for (const backend of ['ts', 'wasm'] as const) {
    const previous = setKernelBackend(backend);
    try {
      const q40 = quantizeRows('Q4_0', block([1e-40, -1e-40, 5e-41, 0], 32), 32);
      assert.deepEqual(Array.from(q40), [0x00, 0x80, ...new Array<number>(16).fill(0)], backend);
      // Q4_1: d = (max - min)/15 subnormal, id = +inf: the min element gives 0*inf = NaN, the others +inf → 0
      const q41 = quantizeRows('Q4_1', block([1e-40, -1e-40], 32), 32);
      assert.deepEqual(Array.from(q41.subarray(4)), new Array<number>(16).fill(0), backend);
    } finally {
      setKernelBackend(previous);
    }
  }
});

test('Q4_0: d = max/-8 keeps the sign of the largest magnitude; levels truncate x*id + 8.5', () => {
  // max = -8 → d = 1, id = 1 → xi = MIN(15, trunc(x + 8.5))
  const x = block([-8, 0.5, -0.5, 1.49, 6.5, 7.9, -7.6, 0], 32);
  const q = quantizeRows('Q4_0', x, 32);
  assert.equal(q[0]! | (q[1]! << 8), fp32ToFp16Bits(1));
  const lo = Array.from(q.subarray(2, 2 + 8), (b) => b & 0xf);
  assert.deepEqual(lo, [0, 9, 8, 9, 15, 15, 0, 8]);
  // a positive maximum gives a negative d
  const p = quantizeRows('Q4_0', block([8, 1], 32), 32);
  assert.equal(p[0]! | (p[1]! << 8), fp32ToFp16Bits(-1));
});

test('all zeros and alternating ±0 dequantize to zeros for every type; Q8_0/K-quant bytes are all zero', () => {
  for (const type of ALL) {
    const n = GGML_TYPES[type].blockSize * 2;
    for (const x of [new Float32Array(n), block([0, -0], n)]) {
      const q = quantizeRows(type, x, n);
      assert.equal(findInvalidBlock(type, q), -1);
      const y = dequantizeRows(type, q, n);
      assert.ok(y.every((v) => v === 0), type);
    }
    if (type === 'Q8_0' || type.endsWith('_K')) {
      assert.ok(quantizeRows(type, new Float32Array(n), n).every((b) => b === 0), `${type} zero bytes`);
    }
  }
});

test('one huge value among small ones: the huge one survives, output stays finite', () => {
  for (const type of ALL) {
    const n = GGML_TYPES[type].blockSize;
    for (const huge of [60000, -60000, 1000]) {
      const x = block([0.01, -0.02, 0.03], n);
      x[5] = huge;
      const q = quantizeRows(type, x, n);
      assert.equal(findInvalidBlock(type, q), -1, `${type} ${huge}`);
      const y = dequantizeRows(type, q, n);
      assert.ok(Math.abs(y[5]! - huge) <= Math.abs(huge) * 0.07, `${type}: ${y[5]} for ${huge}`);
    }
  }
});

test('subnormal and tiny inputs give finite blocks (scales may flush to zero, as in ggml)', () => {
  for (const type of ALL) {
    const n = GGML_TYPES[type].blockSize;
    for (const v of [1e-40, -1e-45, 1e-38, 1e-20]) {
      const q = quantizeRows(type, block([v, -v / 2, v / 3, 0], n), n);
      assert.equal(findInvalidBlock(type, q), -1, `${type} ${v}`);
      assert.ok(dequantizeRows(type, q, n).every((y) => Number.isFinite(y) && Math.abs(y) <= Math.abs(v) * 2));
    }
  }
});

// values k/64 with |k| < 2048 are exact in f16 and normal, so every stored scale/min scales exactly by 2^e
const gridValue = fc.integer({ min: -2047, max: 2047 }).map((k) => k / 64);

for (const type of [...LEGACY, 'Q3_K', 'Q6_K'] as GgmlTypeName[]) {
  test(`${type}: quantizing x·2^e gives the same levels and scales ×2^e (fast-check)`, () => {
    const n = GGML_TYPES[type].blockSize;
    fc.assert(
      fc.property(
        fc.array(gridValue, { minLength: n, maxLength: n }),
        fc.integer({ min: 0, max: n - 1 }),
        fc.constantFrom(4, -4, 8, -31.5),
        fc.integer({ min: -2, max: 2 }),
        (values, at, big, e) => {
          values[at] = big; // amax ≥ 4 keeps every scale a normal f16 after scaling by 2^-2
          const x = Float32Array.from(values);
          const xs = x.map((v) => v * 2 ** e);
          const a = dequantizeRows(type, quantizeRows(type, x, n), n);
          const b = dequantizeRows(type, quantizeRows(type, xs, n), n);
          return a.every((v, i) => Object.is(v * 2 ** e, b[i]) || (v === 0 && b[i] === 0));
        },
      ),
      { numRuns: type.endsWith('_K') ? 150 : 400 },
    );
  });
}

/** Round-trip error bound relative to the block's largest magnitude. */
const MAX_REL_ERROR: Record<string, number> = {
  Q8_0: 0.5 / 127 + 2 ** -10,
  // the grid is -8..7 (-16..15) steps of d = |max|/8 (/16): the side opposite the max is clipped at 7/8 (15/16)
  Q4_0: 1 / 8 + 2 ** -9,
  Q5_0: 1 / 16 + 2 ** -9,
  Q4_1: 1 / 15 + 2 ** -9,
  Q5_1: 1 / 31 + 2 ** -9,
};
/** K-quants minimise a weighted error with quantized sub-block scales: bound the RMS error instead (vs RMS of x). */
const MAX_REL_RMS: Record<string, number> = { Q2_K: 0.5, Q3_K: 0.3, Q4_K: 0.15, Q5_K: 0.08, Q6_K: 0.04 };

const finite32 = fc.float({ min: Math.fround(-1000), max: Math.fround(1000), noNaN: true, noDefaultInfinity: true });

for (const type of ALL) {
  test(`${type}: round-trip error stays within the format's bound on random blocks (fast-check)`, () => {
    const n = GGML_TYPES[type].blockSize;
    const bound = MAX_REL_ERROR[type];
    // legacy types: a hard bound on any input, including fast-check's biased edge values (zeros, extremes)
    // K-quants: their weighted fit has no hard per-element bound, so the RMS bound is checked on unbiased uniform
    // data, and edge-biased data must still reconstruct every element within ±2·amax
    const values = bound === undefined
      ? fc.oneof(
        fc.array(fc.noBias(fc.integer({ min: -1_000_000, max: 1_000_000 })).map((k) => ({ v: k / 1000, uniform: true })), { minLength: n, maxLength: n }),
        fc.array(finite32.map((v) => ({ v, uniform: false })), { minLength: n, maxLength: n }),
      )
      : fc.array(finite32.map((v) => ({ v, uniform: false })), { minLength: n, maxLength: n });
    fc.assert(
      fc.property(values, (items) => {
        const x = Float32Array.from(items, (it) => it.v);
        const uniform = items.every((it) => it.uniform);
        const q = quantizeRows(type, x, n);
        if (findInvalidBlock(type, q) !== -1) return false;
        const y = dequantizeRows(type, q, n);
        let amax = 0;
        let maxErr = 0;
        let se = 0;
        let sx = 0;
        for (let i = 0; i < n; i++) {
          amax = Math.max(amax, Math.abs(x[i]!));
          maxErr = Math.max(maxErr, Math.abs(y[i]! - x[i]!));
          se += (y[i]! - x[i]!) ** 2;
          sx += x[i]! ** 2;
        }
        if (amax < 1e-3) return maxErr <= 1e-3; // f16 scales underflow, as in ggml
        if (bound !== undefined) return maxErr <= amax * bound;
        if (maxErr > 2 * amax) return false;
        return !uniform || Math.sqrt(se) <= Math.sqrt(sx) * MAX_REL_RMS[type]!;
      }),
      { numRuns: type.endsWith('_K') ? 150 : 500 },
    );
  });
}

test('blocks are independent: quantizing a concatenation equals concatenating the quantized parts', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...ALL),
      fc.array(finite32, { minLength: 512, maxLength: 512 }),
      (type, values) => {
        const x = Float32Array.from(values);
        const whole = quantizeRows(type, x, 256);
        const a = quantizeRows(type, x.subarray(0, 256), 256);
        const b = quantizeRows(type, x.subarray(256), 256);
        return Buffer.compare(whole, Buffer.concat([a, b])) === 0;
      },
    ),
    { numRuns: 40 },
  );
});

test('convertInto: F16/BF16 sources are widened exactly before quantizing; equal types are copied', () => {
  const x = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i) * 3);
  const f16 = quantizeRows('F16', x, 256);
  const widened = dequantizeRows('F16', f16, 256);
  const out = new Uint8Array(144);
  assert.equal(convertInto('F16', f16, 0, 256, 'Q4_K', out, 0), 144);
  assert.deepEqual(out, quantizeRows('Q4_K', widened, 256));
  const copy = new Uint8Array(512);
  convertInto('F16', f16, 0, 256, 'F16', copy, 0);
  assert.deepEqual(copy, f16);
  // F32 source at an unaligned byte offset
  const raw = new Uint8Array(1 + 1024);
  raw.set(new Uint8Array(x.buffer), 1);
  const q8 = new Uint8Array(8 * 34);
  convertInto('F32', raw, 1, 256, 'Q8_0', q8, 0);
  assert.deepEqual(q8, quantizeRows('Q8_0', x, 256));
});

test('bad shapes and types are typed usage errors', () => {
  assert.throws(() => quantizeRows('Q4_K', new Float32Array(128), 128), (e: unknown) => e instanceof LlamaError && e.code === 'QUANT_ROW_LENGTH');
  assert.throws(() => quantizeRows('Q8_0', new Float32Array(96), 64), (e: unknown) => e instanceof LlamaError && e.code === 'QUANT_ROW_LENGTH');
  assert.throws(() => quantizeRows('Q8_K', new Float32Array(256), 256), (e: unknown) => e instanceof LlamaError && e.code === 'QUANT_UNSUPPORTED_TYPE');
  assert.equal(canQuantize('Q8_K'), false);
  assert.equal(canQuantize('Q6_K'), true);
});

test('findInvalidBlock flags inf/NaN scales as ggml_validate_row_data does', () => {
  const q = quantizeRows('Q8_0', block([1e30, 1], 64), 32); // d = 1e30/127 overflows f16
  assert.equal(findInvalidBlock('Q8_0', q), 0);
  const ok = quantizeRows('Q4_K', block([1, -2, 3], 256), 256);
  assert.equal(findInvalidBlock('Q4_K', ok), -1);
  ok[2] = 0x00;
  ok[3] = 0x7c; // dmin = inf
  assert.equal(findInvalidBlock('Q4_K', ok), 0);
  assert.equal(findInvalidBlock('F16', new Uint8Array([0, 0x3c, 0, 0x7e])), 1);
});

test('quantizeRows and convertInto refuse NaN/Inf input for block types with a typed error, on both backends', () => {
  for (const backend of ['ts', 'wasm'] as const) {
    const previous = setKernelBackend(backend);
    try {
      for (const type of ALL) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const x = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i));
          x[300] = bad;
          assert.throws(() => quantizeRows(type, x, 256), (e: unknown) => {
            assert.ok(e instanceof IntegrityError, `${backend} ${type} ${bad}: ${String(e)}`);
            assert.equal(e.code, 'QUANT_NONFINITE');
            assert.equal(e.details?.element, 300);
            return true;
          });
          for (const src of ['F32', 'F16', 'BF16'] as const) {
            const raw = quantizeRows(src, x, 256); // F32/F16/BF16 hold NaN/Inf: the reference conversion, no refusal
            const dst = new Uint8Array(2 * GGML_TYPES[type].typeSize * (256 / GGML_TYPES[type].blockSize));
            assert.throws(() => convertInto(src, raw, 0, 512, type, dst, 0), (e: unknown) => e instanceof IntegrityError && e.code === 'QUANT_NONFINITE', `${backend} ${src} → ${type}`);
          }
        }
      }
    } finally {
      setKernelBackend(previous);
    }
  }
});

test('the WebAssembly and TypeScript kernels give the same bytes on random and edge blocks (fast-check)', () => {
  assert.equal(kernelBackend(), 'wasm');
  const both = (type: GgmlTypeName, x: Float32Array): [Uint8Array, Uint8Array] => {
    const previous = setKernelBackend('ts');
    try {
      const ts = quantizeRows(type, x, 256);
      setKernelBackend('wasm');
      return [ts, quantizeRows(type, x, 256)];
    } finally {
      setKernelBackend(previous);
    }
  };
  // every float32, NaN and ±Inf included (issue 17 §16: they were excluded, and the WebAssembly kernels read out of
  // bounds on a Q4_0/Q5_0 block holding NaN): the same bytes, or both refuse with the same typed error
  const anyFloat = fc.float();
  const outcome = (type: GgmlTypeName, x: Float32Array): Uint8Array | string => {
    try {
      return both(type, x)[0];
    } catch (error) {
      return error instanceof LlamaError ? error.code : `untyped: ${String(error)}`;
    }
  };
  fc.assert(
    fc.property(
      fc.constantFrom<GgmlTypeName>(...ALL),
      fc.oneof(fc.array(finite32, { minLength: 256, maxLength: 256 }), fc.array(anyFloat, { minLength: 256, maxLength: 256 })),
      (type, values) => {
        const x = Float32Array.from(values);
        const finite = x.every((v) => Number.isFinite(v));
        if (finite) {
          const [ts, wasm] = both(type, x);
          return Buffer.compare(ts, wasm) === 0;
        }
        return outcome(type, x) === 'QUANT_NONFINITE';
      },
    ),
    { numRuns: 300 },
  );
  // more than one wasm chunk (256 blocks) and an offset destination
  const x = Float32Array.from({ length: 256 * 300 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 251)));
  for (const type of ['Q4_K', 'Q6_K', 'Q8_0', 'Q5_1'] as const) {
    const [ts, wasm] = both(type, x);
    assert.equal(Buffer.compare(ts, wasm), 0, type);
  }
  // the fused F16/BF16 → block path of convertInto against widen-then-quantize in TypeScript
  for (const src of ['F16', 'BF16'] as const) {
    const raw = quantizeRows(src, x, 256);
    for (const type of ['Q4_0', 'Q4_K'] as const) {
      const viaWasm = new Uint8Array(300 * (type === 'Q4_0' ? 8 * 18 : 144));
      convertInto(src, raw, 0, x.length, type, viaWasm, 0);
      const previous = setKernelBackend('ts');
      try {
        assert.deepEqual(viaWasm, quantizeRows(type, dequantizeRows(src, raw, 256), 256), `${src} → ${type}`);
      } finally {
        setKernelBackend(previous);
      }
    }
  }
});
