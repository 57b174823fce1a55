/**
 * The k-quant (256-element super-block) reference quantizers Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and their dequantizers,
 * bit-identical to ggml's `quantize_row_q*_K_ref` without importance matrix (ggml/src/ggml-quants.c; facts and
 * porting traps in shared/research/gguf.md §4).
 *
 * API (block kernels, no allocation per block; module-level scratch, so not re-entrant — fine in one JS thread):
 * - `quantizeQ2_K(x, xOff, nBlocks, y, yOff)`, and Q3_K, Q4_K, Q5_K, Q6_K: read `nBlocks * 256` floats of `x`
 *   from element `xOff`, write `nBlocks` blocks into `y` from byte `yOff`.
 * - `dequantizeQ2_K(y, yOff, nBlocks, x, xOff)` and likewise (ggml's dequantize_row_q*_K).
 *
 * Exactness rules (as in legacy.ts): every float operation is one binary32 rounding in C evaluation order
 * (`Math.fround`), sums are sequential, `nearest_int` is ggml's +12582912.f trick (round half to even, and its
 * exact bit behaviour for inf/NaN), integer stores wrap like the C types they land in.
 */
import { getHalf, putHalf } from './fp16.ts';
import { signedMaxAbs } from './scan.ts';

const fround = Math.fround;
const GROUP_MAX_EPS = fround(1e-15);
const F0_1 = fround(0.1);

const NI_F32 = new Float32Array(1);
const NI_I32 = new Int32Array(NI_F32.buffer);

/** ggml nearest_int(fval) for a float32 `fval`. */
function nearestInt(fval: number): number {
  const r = fround(fval + 12582912);
  // In [2^23, 2^24) the float is an integer and its low mantissa bits are r - 2^23.
  if (r >= 8388608 && r < 16777216) return r - 12582912;
  NI_F32[0] = r;
  return (NI_I32[0]! & 0x007fffff) - 0x00400000;
}

// ---------------------------------------------------------------- shared scratch
const L = new Uint8Array(256);
const LS = new Int8Array(256);
const LAUX = new Uint8Array(32);
const W = new Float32Array(32);
const SCALES = new Float32Array(16);
const MINS = new Float32Array(16);
let qkx2TheMin = 0;

/**
 * make_qkx2_quants: asymmetric scale + min fit of x[xo..xo+n) with weights W. Writes L[lo..lo+n), returns the scale,
 * leaves -min in qkx2TheMin. NB: the search loop divides by (max - min) with the *current* min, which an earlier
 * step may have replaced (gguf.md §9, the biggest porting trap).
 */
function makeQkx2(
  n: number, nmax: number, x: Float32Array, xo: number, lo: number,
  rmin: number, rdelta: number, nstep: number, useMad: boolean,
): number {
  const w = W;
  let min = x[xo]!;
  let max = min;
  let sumW = w[0]!;
  let sumX = fround(sumW * min);
  for (let i = 1; i < n; i++) {
    const xi = x[xo + i]!;
    if (xi < min) min = xi;
    if (xi > max) max = xi;
    const wi = w[i]!;
    sumW = fround(sumW + wi);
    sumX = fround(sumX + fround(wi * xi));
  }
  if (min > 0) min = 0;
  if (max === min) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    qkx2TheMin = -min;
    return 0;
  }
  let iscale = fround(nmax / fround(max - min));
  let scale = fround(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i]!;
    let l = nearestInt(fround(iscale * fround(xi - min)));
    l = l < 0 ? 0 : l > nmax ? nmax : l;
    L[lo + i] = l;
    let diff = fround(fround(fround(scale * l) + min) - xi);
    diff = useMad ? Math.abs(diff) : fround(diff * diff);
    bestError = fround(bestError + fround(w[i]! * diff));
  }
  if (nstep < 1) {
    qkx2TheMin = -min;
    return scale;
  }
  for (let is = 0; is <= nstep; is++) {
    iscale = fround(fround(fround(rmin + fround(rdelta * is)) + nmax) / fround(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i]!;
      let l = nearestInt(fround(iscale * fround(xi - min)));
      l = l < 0 ? 0 : l > nmax ? nmax : l;
      LAUX[i] = l;
      const wl = fround(w[i]! * l);
      sumL = fround(sumL + wl);
      sumL2 = fround(sumL2 + fround(wl * l));
      sumXL = fround(sumXL + fround(wl * xi));
    }
    const D = fround(fround(sumW * sumL2) - fround(sumL * sumL));
    if (D > 0) {
      let thisScale = fround(fround(fround(sumW * sumXL) - fround(sumX * sumL)) / D);
      let thisMin = fround(fround(fround(sumL2 * sumX) - fround(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fround(sumXL / sumL2);
      }
      let mad = 0;
      for (let i = 0; i < n; i++) {
        let diff = fround(fround(fround(thisScale * LAUX[i]!) + thisMin) - x[xo + i]!);
        diff = useMad ? Math.abs(diff) : fround(diff * diff);
        mad = fround(mad + fround(w[i]! * diff));
      }
      if (mad < bestError) {
        for (let i = 0; i < n; i++) L[lo + i] = LAUX[i]!;
        bestError = mad;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  qkx2TheMin = -min;
  return scale;
}

/** make_qx_quants(n, nmax, x, L, rmse_type = 1, qw = NULL): symmetric fit with weights x²; L (0..2nmax-1) into LS. */
function makeQxRmse1(n: number, nmax: number, x: Float32Array, xo: number, lo: number): number {
  const max = signedMaxAbs(x, xo, n);
  if (Math.abs(max) < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) LS[lo + i] = 0;
    return 0;
  }
  let iscale = fround(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i]!;
    let l = nearestInt(fround(iscale * xi));
    l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
    LS[lo + i] = l + nmax;
    const w = fround(xi * xi);
    sumlx = fround(sumlx + fround(fround(w * xi) * l));
    suml2 = fround(suml2 + fround(fround(w * l) * l));
  }
  let scale = suml2 !== 0 ? fround(sumlx / suml2) : 0;
  let best = fround(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = fround(-fround(nmax + fround(F0_1 * is)) / max);
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i]!;
      let l = nearestInt(fround(iscale * xi));
      l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
      const w = fround(xi * xi);
      sumlx = fround(sumlx + fround(fround(w * xi) * l));
      suml2 = fround(suml2 + fround(fround(w * l) * l));
    }
    if (suml2 > 0 && fround(sumlx * sumlx) > fround(best * suml2)) {
      for (let i = 0; i < n; i++) {
        let l = nearestInt(fround(iscale * x[xo + i]!));
        l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
        LS[lo + i] = nmax + l;
      }
      scale = fround(sumlx / suml2);
      best = fround(scale * sumlx);
    }
  }
  return scale;
}

/** make_q3_quants(n, nmax, x, L, do_rmse = true); L (0..2nmax-1) into LS. */
function makeQ3(n: number, nmax: number, x: Float32Array, xo: number, lo: number): number {
  const max = signedMaxAbs(x, xo, n);
  if (Math.abs(max) < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) LS[lo + i] = 0;
    return 0;
  }
  const iscale = fround(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i]!;
    let l = nearestInt(fround(iscale * xi));
    l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
    LS[lo + i] = l;
    const w = fround(xi * xi);
    sumlx = fround(sumlx + fround(fround(w * xi) * l));
    suml2 = fround(suml2 + fround(fround(w * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let nChanged = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i]!;
      const w = fround(xi * xi);
      const li = LS[lo + i]!;
      let slx = fround(sumlx - fround(fround(w * xi) * li));
      if (slx > 0) {
        let sl2 = fround(suml2 - fround(fround(w * li) * li));
        let newL = nearestInt(fround(fround(xi * sl2) / slx));
        newL = newL < -nmax ? -nmax : newL > nmax - 1 ? nmax - 1 : newL;
        if (newL !== li) {
          slx = fround(slx + fround(fround(w * xi) * newL));
          sl2 = fround(sl2 + fround(fround(w * newL) * newL));
          if (sl2 > 0 && fround(fround(slx * slx) * suml2) > fround(fround(sumlx * sumlx) * sl2)) {
            LS[lo + i] = newL;
            sumlx = slx;
            suml2 = sl2;
            nChanged++;
          }
        }
      }
    }
    if (nChanged === 0) break;
  }
  for (let i = 0; i < n; i++) LS[lo + i] = LS[lo + i]! + nmax;
  // current ggml guards suml2 > 0 (the 2025-02 tree divided unconditionally; unreachable for amax >= 1e-15)
  return suml2 > 0 ? fround(sumlx / suml2) : 0;
}

/** Pack 256 2-bit values of `src` into 64 bytes at y[o..] (Q2_K / Q3_K qs layout). */
function pack2bit(src: Uint8Array | Int8Array, y: Uint8Array, o: number): void {
  for (let j = 0; j < 256; j += 128) {
    for (let l = 0; l < 32; l++) {
      y[o + j / 4 + l] = src[j + l]! | (src[j + l + 32]! << 2) | (src[j + l + 64]! << 4) | (src[j + l + 96]! << 6);
    }
  }
}

// ---------------------------------------------------------------- Q2_K: u8 scales[16]; u8 qs[64]; f16 d; f16 dmin
export function quantizeQ2_K(x: Float32Array, xOff: number, nBlocks: number, y: Uint8Array, yOff: number): void {
  const q4scale = 15;
  for (let i = 0; i < nBlocks; i++) {
    const xb = xOff + i * 256;
    const yb = yOff + i * 84;
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 16; j++) {
      for (let l = 0; l < 16; l++) W[l] = Math.abs(x[xb + 16 * j + l]!);
      const scale = makeQkx2(16, 3, x, xb + 16 * j, 16 * j, -0.5, F0_1, 15, true);
      SCALES[j] = scale;
      MINS[j] = qkx2TheMin;
      if (scale > maxScale) maxScale = scale;
      if (qkx2TheMin > maxMin) maxMin = qkx2TheMin;
    }
    if (maxScale > 0) {
      const iscale = fround(q4scale / maxScale);
      for (let j = 0; j < 16; j++) y[yb + j] = nearestInt(fround(iscale * SCALES[j]!));
      putHalf(y, yb + 80, fround(maxScale / q4scale));
    } else {
      for (let j = 0; j < 16; j++) y[yb + j] = 0;
      putHalf(y, yb + 80, 0);
    }
    if (maxMin > 0) {
      const iscale = fround(q4scale / maxMin);
      for (let j = 0; j < 16; j++) y[yb + j] = y[yb + j]! | (nearestInt(fround(iscale * MINS[j]!)) << 4);
      putHalf(y, yb + 82, fround(maxMin / q4scale));
    } else {
      putHalf(y, yb + 82, 0);
    }
    const dAll = getHalf(y, yb + 80);
    const dMin = getHalf(y, yb + 82);
    for (let j = 0; j < 16; j++) {
      const sc = y[yb + j]!;
      const d = fround(dAll * (sc & 0xf));
      if (d === 0) continue;
      const dm = fround(dMin * (sc >>> 4));
      for (let ii = 0; ii < 16; ii++) {
        let l = nearestInt(fround(fround(x[xb + 16 * j + ii]! + dm) / d));
        l = l < 0 ? 0 : l > 3 ? 3 : l;
        L[16 * j + ii] = l;
      }
    }
    pack2bit(L, y, yb + 16);
  }
}

// ---------------------------------------------------------------- Q3_K: u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d
export function quantizeQ3_K(x: Float32Array, xOff: number, nBlocks: number, y: Uint8Array, yOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = xOff + i * 256;
    const yb = yOff + i * 110;
    const sb = yb + 96; // scales[12]
    let maxScale = 0;
    let amax = 0;
    for (let j = 0; j < 16; j++) {
      const s = makeQ3(16, 4, x, xb + 16 * j, 16 * j);
      SCALES[j] = s;
      const a = Math.abs(s);
      if (a > amax) {
        amax = a;
        maxScale = s;
      }
    }
    for (let j = 0; j < 12; j++) y[sb + j] = 0;
    if (maxScale !== 0) {
      const iscale = fround(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        // int8_t l = nearest_int(...): wraps to the int8 range before the clamp
        let l = (nearestInt(fround(iscale * SCALES[j]!)) << 24) >> 24;
        l = (l < -32 ? -32 : l > 31 ? 31 : l) + 32;
        if (j < 8) y[sb + j] = l & 0xf;
        else y[sb + j - 8] = y[sb + j - 8]! | ((l & 0xf) << 4);
        l >>= 4;
        y[sb + 8 + (j % 4)] = y[sb + 8 + (j % 4)]! | (l << (2 * (j >> 2)));
      }
      putHalf(y, yb + 108, fround(1 / iscale));
    } else {
      putHalf(y, yb + 108, 0);
    }
    const dAll = getHalf(y, yb + 108);
    for (let j = 0; j < 16; j++) {
      let sc = j < 8 ? y[sb + j]! & 0xf : y[sb + j - 8]! >>> 4;
      sc = (sc | (((y[sb + 8 + (j % 4)]! >>> (2 * (j >> 2))) & 3) << 4)) - 32;
      const d = fround(dAll * sc);
      if (d === 0) continue;
      for (let ii = 0; ii < 16; ii++) {
        let l = nearestInt(fround(x[xb + 16 * j + ii]! / d));
        l = l < -4 ? -4 : l > 3 ? 3 : l;
        LS[16 * j + ii] = l + 4;
      }
    }
    for (let j = 0; j < 32; j++) y[yb + j] = 0;
    let m = 0;
    let hm = 1;
    for (let j = 0; j < 256; j++) {
      if (LS[j]! > 3) {
        y[yb + m] = y[yb + m]! | hm;
        LS[j] = LS[j]! - 4;
      }
      if (++m === 32) {
        m = 0;
        hm <<= 1;
      }
    }
    pack2bit(LS, y, yb + 32);
  }
}

// ---------------------------------------------------------------- Q4_K / Q5_K common part
/**
 * Scales/mins of the 8 sub-blocks of 32 into y[sb..sb+12), d and dmin at y[dOff], y[dOff+2], the final levels in L.
 */
function k4Common(
  x: Float32Array, xb: number, y: Uint8Array, dOff: number, sb: number,
  nmax: number, rmin: number, nstep: number,
): void {
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const xo = xb + 32 * j;
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) {
      const v = x[xo + l]!;
      sumX2 = fround(sumX2 + fround(v * v));
    }
    const avX = fround(Math.sqrt(fround(sumX2 / 32)));
    for (let l = 0; l < 32; l++) W[l] = avX + Math.abs(x[xo + l]!); // stored as float: one rounding
    const scale = makeQkx2(32, nmax, x, xo, 32 * j, rmin, F0_1, nstep, false);
    SCALES[j] = scale;
    MINS[j] = qkx2TheMin;
    if (scale > maxScale) maxScale = scale;
    if (qkx2TheMin > maxMin) maxMin = qkx2TheMin;
  }
  const invScale = maxScale > 0 ? fround(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? fround(63 / maxMin) : 0;
  for (let j = 0; j < 8; j++) {
    let ls = nearestInt(fround(invScale * SCALES[j]!)) & 0xff; // uint8_t, then MIN(63, ·)
    let lm = nearestInt(fround(invMin * MINS[j]!)) & 0xff;
    ls = ls < 63 ? ls : 63;
    lm = lm < 63 ? lm : 63;
    if (j < 4) {
      y[sb + j] = ls;
      y[sb + j + 4] = lm;
    } else {
      y[sb + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
      y[sb + j - 4] = y[sb + j - 4]! | ((ls >>> 4) << 6);
      y[sb + j] = y[sb + j]! | ((lm >>> 4) << 6);
    }
  }
  putHalf(y, dOff, fround(maxScale / 63));
  putHalf(y, dOff + 2, fround(maxMin / 63));
  const dAll = getHalf(y, dOff);
  const dMin = getHalf(y, dOff + 2);
  for (let j = 0; j < 8; j++) {
    let sc: number;
    let m: number;
    if (j < 4) {
      sc = y[sb + j]! & 63;
      m = y[sb + j + 4]! & 63;
    } else {
      sc = (y[sb + j + 4]! & 0xf) | ((y[sb + j - 4]! >>> 6) << 4);
      m = (y[sb + j + 4]! >>> 4) | ((y[sb + j]! >>> 6) << 4);
    }
    const d = fround(dAll * sc);
    if (d === 0) continue;
    const dm = fround(dMin * m);
    for (let ii = 0; ii < 32; ii++) {
      let l = nearestInt(fround(fround(x[xb + 32 * j + ii]! + dm) / d));
      l = l < 0 ? 0 : l > nmax ? nmax : l;
      L[32 * j + ii] = l;
    }
  }
}

// ---------------------------------------------------------------- Q4_K: f16 d; f16 dmin; u8 scales[12]; u8 qs[128]
export function quantizeQ4_K(x: Float32Array, xOff: number, nBlocks: number, y: Uint8Array, yOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = xOff + i * 256;
    const yb = yOff + i * 144;
    k4Common(x, xb, y, yb, yb + 4, 15, -1, 20);
    let q = yb + 16;
    for (let j = 0; j < 256; j += 64) {
      for (let l = 0; l < 32; l++) y[q + l] = L[j + l]! | (L[j + l + 32]! << 4);
      q += 32;
    }
  }
}

// ---------------------------------------------------------------- Q5_K: f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]
export function quantizeQ5_K(x: Float32Array, xOff: number, nBlocks: number, y: Uint8Array, yOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = xOff + i * 256;
    const yb = yOff + i * 176;
    k4Common(x, xb, y, yb, yb + 4, 31, -0.5, 15);
    const qh = yb + 16;
    let ql = yb + 48;
    for (let j = 0; j < 32; j++) y[qh + j] = 0;
    let m1 = 1;
    let m2 = 2;
    for (let n = 0; n < 256; n += 64) {
      for (let j = 0; j < 32; j++) {
        let l1 = L[n + j]!;
        if (l1 > 15) {
          l1 -= 16;
          y[qh + j] = y[qh + j]! | m1;
        }
        let l2 = L[n + j + 32]!;
        if (l2 > 15) {
          l2 -= 16;
          y[qh + j] = y[qh + j]! | m2;
        }
        y[ql + j] = l1 | (l2 << 4);
      }
      m1 <<= 2;
      m2 <<= 2;
      ql += 32;
    }
  }
}

// ---------------------------------------------------------------- Q6_K: u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d
export function quantizeQ6_K(x: Float32Array, xOff: number, nBlocks: number, y: Uint8Array, yOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = xOff + i * 256;
    const yb = yOff + i * 210;
    let maxScale = 0;
    let maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      const scale = makeQxRmse1(16, 32, x, xb + 16 * ib, 16 * ib);
      SCALES[ib] = scale;
      const a = Math.abs(scale);
      if (a > maxAbsScale) {
        maxAbsScale = a;
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) {
      for (let j = 0; j < 210; j++) y[yb + j] = 0; // memset(block, 0) and d = fp16(0)
      continue;
    }
    const iscale = fround(-128 / maxScale);
    putHalf(y, yb + 208, fround(1 / iscale));
    for (let ib = 0; ib < 16; ib++) {
      const s = nearestInt(fround(iscale * SCALES[ib]!));
      y[yb + 192 + ib] = (s < 127 ? s : 127) & 0xff; // int8_t store
    }
    const dAll = getHalf(y, yb + 208);
    for (let j = 0; j < 16; j++) {
      const sc = (y[yb + 192 + j]! << 24) >> 24;
      const d = fround(dAll * sc);
      if (d === 0) continue;
      for (let ii = 0; ii < 16; ii++) {
        let l = nearestInt(fround(x[xb + 16 * j + ii]! / d));
        l = l < -32 ? -32 : l > 31 ? 31 : l;
        LS[16 * j + ii] = l + 32;
      }
    }
    let ql = yb;
    let qh = yb + 128;
    for (let j = 0; j < 256; j += 128) {
      for (let l = 0; l < 32; l++) {
        const a = LS[j + l]!;
        const b = LS[j + l + 32]!;
        const c = LS[j + l + 64]!;
        const e = LS[j + l + 96]!;
        y[ql + l] = (a & 0xf) | ((c & 0xf) << 4);
        y[ql + l + 32] = (b & 0xf) | ((e & 0xf) << 4);
        y[qh + l] = (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
      }
      ql += 64;
      qh += 32;
    }
  }
}

// ---------------------------------------------------------------- dequantizers (ggml dequantize_row_q*_K)
export function dequantizeQ2_K(y: Uint8Array, yOff: number, nBlocks: number, x: Float32Array, xOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const yb = yOff + i * 84;
    const d = getHalf(y, yb + 80);
    const dmin = getHalf(y, yb + 82);
    for (let k = 0; k < 256; k++) {
      const sc = y[yb + (k >> 4)]!;
      const dl = fround(d * (sc & 0xf));
      const ml = fround(dmin * (sc >>> 4));
      const r = k & 127;
      const q = (y[yb + 16 + 32 * (k >> 7) + (r & 31)]! >>> (2 * (r >> 5))) & 3;
      x[xOff + i * 256 + k] = fround(dl * q) - ml;
    }
  }
}

export function dequantizeQ3_K(y: Uint8Array, yOff: number, nBlocks: number, x: Float32Array, xOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const yb = yOff + i * 110;
    const sb = yb + 96;
    const dAll = getHalf(y, yb + 108);
    for (let k = 0; k < 256; k++) {
      const j = k >> 4;
      let sc = j < 8 ? y[sb + j]! & 0xf : y[sb + j - 8]! >>> 4;
      sc = (sc | (((y[sb + 8 + (j % 4)]! >>> (2 * (j >> 2))) & 3) << 4)) - 32;
      const dl = fround(dAll * sc);
      const r = k & 127;
      const low = (y[yb + 32 + 32 * (k >> 7) + (r & 31)]! >>> (2 * (r >> 5))) & 3;
      const high = (y[yb + (k & 31)]! >>> (k >> 5)) & 1;
      x[xOff + i * 256 + k] = dl * (low - (high ? 0 : 4));
    }
  }
}

function dequantK4Like(
  y: Uint8Array, yb: number, x: Float32Array, xb: number, qhOff: number, qlOff: number,
): void {
  const d = getHalf(y, yb);
  const dmin = getHalf(y, yb + 2);
  const sb = yb + 4;
  for (let j = 0; j < 8; j++) {
    let sc: number;
    let m: number;
    if (j < 4) {
      sc = y[sb + j]! & 63;
      m = y[sb + j + 4]! & 63;
    } else {
      sc = (y[sb + j + 4]! & 0xf) | ((y[sb + j - 4]! >>> 6) << 4);
      m = (y[sb + j + 4]! >>> 4) | ((y[sb + j]! >>> 6) << 4);
    }
    const d1 = fround(d * sc);
    const m1 = fround(dmin * m);
    const q = qlOff + 32 * (j >> 1);
    const shift = (j & 1) * 4;
    for (let l = 0; l < 32; l++) {
      let v = (y[q + l]! >>> shift) & 0xf;
      if (qhOff >= 0 && ((y[qhOff + l]! >>> j) & 1) !== 0) v += 16;
      x[xb + 32 * j + l] = fround(d1 * v) - m1;
    }
  }
}

export function dequantizeQ4_K(y: Uint8Array, yOff: number, nBlocks: number, x: Float32Array, xOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const yb = yOff + i * 144;
    dequantK4Like(y, yb, x, xOff + i * 256, -1, yb + 16);
  }
}

export function dequantizeQ5_K(y: Uint8Array, yOff: number, nBlocks: number, x: Float32Array, xOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const yb = yOff + i * 176;
    dequantK4Like(y, yb, x, xOff + i * 256, yb + 16, yb + 48);
  }
}

export function dequantizeQ6_K(y: Uint8Array, yOff: number, nBlocks: number, x: Float32Array, xOff: number): void {
  for (let i = 0; i < nBlocks; i++) {
    const yb = yOff + i * 210;
    const d = getHalf(y, yb + 208);
    for (let n = 0; n < 2; n++) {
      const ql = yb + 64 * n;
      const qh = yb + 128 + 32 * n;
      const sc = yb + 192 + 8 * n;
      const xb = xOff + i * 256 + 128 * n;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = y[qh + l]!;
        const q1 = ((y[ql + l]! & 0xf) | ((h & 3) << 4)) - 32;
        const q2 = ((y[ql + l + 32]! & 0xf) | (((h >>> 2) & 3) << 4)) - 32;
        const q3 = ((y[ql + l]! >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
        const q4 = ((y[ql + l + 32]! >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
        const s = (k: number): number => (y[sc + is + k]! << 24) >> 24;
        x[xb + l] = fround(d * s(0)) * q1;
        x[xb + l + 32] = fround(d * s(2)) * q2;
        x[xb + l + 64] = fround(d * s(4)) * q3;
        x[xb + l + 96] = fround(d * s(6)) * q4;
      }
    }
  }
}
