/**
 * Test data for the GPU quantizer: seeded tensors whose blocks mix ordinary random values with the cases where
 * float semantics bite (zeros of both signs, constant blocks, huge values and overflow of max - min, subnormals,
 * values whose products underflow, exact .5 ties for roundf / nearest_int), stored as F32, F16 or BF16 bytes.
 */
import { fp32ToBf16Bits, fp32ToFp16Bits } from '../../src/quant/fp16.ts';
import type { FloatTypeName } from '../../src/quant/types.ts';

export type Dtype = FloatTypeName;

/** mulberry32: small seeded PRNG, uniform in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Gen = (r: () => number, i: number, dtype: Dtype) => number;

const F32_MAX = 3.4028234663852886e38;

/** One generator per block kind; the tensor cycles through them block by block. */
export const BLOCK_KINDS: Record<string, Gen> = {
  random: (r) => (r() - 0.5) * 10 ** Math.floor(r() * 7 - 3),
  gaussianish: (r) => (r() + r() + r() - 1.5) * 0.02,
  zeros: () => 0,
  negzeros: (_r, i) => (i % 2 === 0 ? -0 : 0),
  constant: () => 1.5,
  constantNeg: () => -0.375,
  sparse: (r) => (r() < 0.1 ? (r() - 0.5) * 4 : 0),
  // halves and integers: x*id lands exactly on .5 for roundf and on ties for nearest_int
  ties: (r, i) => (i === 0 ? 127 : Math.floor(r() * 254 - 127) + (r() < 0.5 ? 0.5 : 0)),
  smallTies: (r, i) => (i === 0 ? -8 : Math.floor(r() * 16 - 8) + 0.5),
  huge: (r, _i, d) => (r() - 0.5) * (d === 'F16' ? 131000 : 6e38), // |x| < 65504 resp. 3e38: finite, as llama-quantize requires
  overflow: (r, i, d) => (d === 'F16' ? (i % 2 ? 65504 : -65504) : i % 3 === 0 ? F32_MAX : i % 3 === 1 ? -F32_MAX : (r() - 0.5) * 1e38),
  subnormal: (r, _i, d) => (r() - 0.5) * (d === 'F16' ? 1e-7 : d === 'BF16' ? 1e-39 : 2e-40),
  tiny: (r) => (r() - 0.5) * 1e-20, // normal, but x*x underflows
  mixedScale: (r, i) => (i % 16 === 0 ? (r() - 0.5) * 1e6 : (r() - 0.5) * 1e-6),
  oneBig: (r, i) => (i === 5 ? 1000 : (r() - 0.5) * 0.01),
};

export interface Tensor {
  dtype: Dtype;
  bytes: Uint8Array;
  rowLength: number;
  nRows: number;
}

/** nRows x rowLength elements, blocks of `blockSize` cycling through `kinds`, stored as `dtype`. */
export function makeTensor(seed: number, dtype: Dtype, rowLength: number, nRows: number, blockSize: number, kinds = Object.keys(BLOCK_KINDS)): Tensor {
  const r = rng(seed);
  const n = rowLength * nRows;
  const values = new Float32Array(n);
  const gens = kinds.map((k) => BLOCK_KINDS[k]!);
  for (let i = 0; i < n; i++) {
    const block = Math.floor(i / blockSize);
    values[i] = gens[(block + seed) % gens.length]!(r, i % blockSize, dtype);
  }
  if (dtype === 'F32') return { dtype, bytes: new Uint8Array(values.buffer), rowLength, nRows };
  const bytes = new Uint8Array(n * 2);
  for (let i = 0; i < n; i++) {
    const h = dtype === 'F16' ? fp32ToFp16Bits(values[i]!) : fp32ToBf16Bits(values[i]!);
    bytes[2 * i] = h & 0xff;
    bytes[2 * i + 1] = h >>> 8;
  }
  return { dtype, bytes, rowLength, nRows };
}
