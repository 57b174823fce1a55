/**
 * Deterministic weights: xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2018)
 * seeded per tensor from sha256(seed, tensor name), so a tensor's bytes depend only on the seed, its name and its
 * shape — not on which other tensors exist, the shard layout or the chunk size used while streaming.
 *
 * Values are Irwin–Hall sums of four 16-bit uniforms, scaled to the requested standard deviation: close to normal,
 * bounded at ±2·√3·std, and made only of integer and IEEE multiply steps, so they are the same on every platform.
 */
import { createHash } from 'node:crypto';

export interface WeightStream {
  /** Fill `out[0..n)` with the next n values: mean `mean`, standard deviation `std`, rounded to float32. */
  fill(out: Float32Array, n: number): void;
}

export function seedWords(seed: number | string, name: string): [number, number, number, number] {
  const digest = createHash('sha256').update(`llama-dist tiny checkpoint\0${String(seed)}\0${name}`).digest();
  const w: [number, number, number, number] = [
    digest.readUInt32LE(0),
    digest.readUInt32LE(4),
    digest.readUInt32LE(8),
    digest.readUInt32LE(12),
  ];
  if ((w[0] | w[1] | w[2] | w[3]) === 0) w[0] = 1; // the all-zero state is the one fixed point of xoshiro
  return w;
}

/** A stream of values for one tensor. */
export function weightStream(seed: number | string, name: string, mean: number, std: number): WeightStream {
  let [s0, s1, s2, s3] = seedWords(seed, name);
  // Four 16-bit uniforms sum to [0, 4·65535], mean 2·65535, variance 4·(65536²-1)/12 ≈ 65536²/3.
  const k = (std * Math.sqrt(3)) / 65536;
  return {
    fill(out: Float32Array, n: number): void {
      for (let i = 0; i < n; i++) {
        let r1 = Math.imul(s1, 5);
        r1 = Math.imul((r1 << 7) | (r1 >>> 25), 9) >>> 0;
        let t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        let r2 = Math.imul(s1, 5);
        r2 = Math.imul((r2 << 7) | (r2 >>> 25), 9) >>> 0;
        t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        const sum = (r1 & 0xffff) + (r1 >>> 16) + (r2 & 0xffff) + (r2 >>> 16) - 131070;
        out[i] = mean + sum * k;
      }
    },
  };
}
