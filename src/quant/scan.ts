/**
 * The scan every reference quantizer starts with: the element of largest magnitude, keeping its sign (ggml's
 * `if (amax < fabsf(v)) { amax = fabsf(v); max = v; }`). The first of equal magnitudes wins and a NaN never does,
 * since every comparison with it is false. Its magnitude is `Math.abs` of the result.
 */
export function signedMaxAbs(x: Float32Array, offset: number, n: number): number {
  let amax = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = x[offset + i]!;
    const a = Math.abs(v);
    if (amax < a) {
      amax = a;
      max = v;
    }
  }
  return max;
}
