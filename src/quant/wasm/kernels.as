// AssemblyScript source of the WebAssembly kernels (built by bench/quant-kernels/build-wasm.ts into
// kernels-wasm.ts). Same algorithms, same operation order as ../legacy.ts and ../kquants.ts, which document them;
// WebAssembly's
// f32 ops are IEEE binary32 with one rounding each and no fusing, like ggml-base's C on x86-64, so no fround dance.
// Sources: ggml/src/ggml-quants.c quantize_row_q{2,3,4,5,6}_K_ref, make_qkx2_quants, make_qx_quants,
// make_q3_quants, nearest_int; ggml-impl.h ggml_compute_fp32_to_fp16 / ggml_table_f32_f16.
//
// Exports: heapBase() (first free byte); quantize_<type>(x, y, nBlocks) for q8_0 q4_0 q4_1 q5_0 q5_1 q2_K q3_K q4_K
// q5_K q6_K: read nBlocks*blockSize f32 at byte address x, write nBlocks blocks at byte address y;
// f16_to_f32(src, dst, n) / bf16_to_f32(src, dst, n): widen n little-endian halves/bfloat16s (exact).

const GROUP_MAX_EPS: f32 = 1e-15;

// scratch
const L: usize = memory.data(256);
const LS: usize = memory.data(256);
const SCALES: usize = memory.data(16 * 4, 16);
const MINS: usize = memory.data(16 * 4, 16);

export function heapBase(): usize {
  return __heap_base;
}

@inline function nearestInt(fval: f32): i32 {
  const val: f32 = fval + <f32>12582912.0;
  return (reinterpret<i32>(val) & 0x007fffff) - 0x00400000;
}

@inline function clampI(l: i32, lo: i32, hi: i32): i32 {
  return l < lo ? lo : (l > hi ? hi : l);
}

// f32 -> f16 bits, round to nearest even (ggml_compute_fp32_to_fp16 on x86-64 without F16C)
function toHalf(x: f32): u32 {
  const u = reinterpret<u32>(x);
  const sign = (u >> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a >= 0x477ff000) return sign | (a > 0x7f800000 ? 0x7e00 : 0x7c00);
  if (a >= 0x38800000) {
    const m = a - 0x38000000;
    const h = m >> 13;
    const rem = m & 0x1fff;
    return sign | (h + (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0) ? 1 : 0));
  }
  if (a < 0x33000000) return sign;
  const e = a >> 23;
  const mant = (a & 0x7fffff) | 0x800000;
  const shift = 126 - e;
  const h = mant >> shift;
  const rem = mant & ((1 << shift) - 1);
  const half: u32 = 1 << (shift - 1);
  return sign | (h + (rem > half || (rem == half && (h & 1) != 0) ? 1 : 0));
}

function fromHalf(h: u32): f32 {
  const sign = (h & 0x8000) << 16;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e == 0) {
    const v: f32 = <f32>m * <f32>5.960464477539063e-8; // m * 2^-24, exact
    return (h & 0x8000) != 0 ? -v : v;
  }
  if (e == 31) return reinterpret<f32>(sign | 0x7f800000 | (m << 13));
  return reinterpret<f32>(sign | ((e + 112) << 23) | (m << 13));
}

@inline function putHalf(p: usize, x: f32): void {
  store<u16>(p, <u16>toHalf(x));
}

@inline function getHalf(p: usize): f32 {
  return fromHalf(<u32>load<u16>(p));
}

function makeQ3(n: i32, nmax: i32, x: usize, lo: i32): f32 {
  let max: f32 = 0;
  let amax: f32 = 0;
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    const ax = Mathf.abs(v);
    if (ax > amax) {
      amax = ax;
      max = v;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) store<i8>(LS + lo + i, 0);
    return 0;
  }
  const iscale: f32 = -<f32>nmax / max;
  let sumlx: f32 = 0;
  let suml2: f32 = 0;
  for (let i = 0; i < n; i++) {
    const xi = load<f32>(x + (<usize>i << 2));
    const l = clampI(nearestInt(iscale * xi), -nmax, nmax - 1);
    store<i8>(LS + lo + i, <i8>l);
    const lf = <f32>l;
    const w: f32 = xi * xi;
    sumlx += w * xi * lf;
    suml2 += w * lf * lf;
  }
  for (let itry = 0; itry < 5; itry++) {
    let nChanged = 0;
    for (let i = 0; i < n; i++) {
      const xi = load<f32>(x + (<usize>i << 2));
      const w: f32 = xi * xi;
      const li = <i32>load<i8>(LS + lo + i);
      const lif = <f32>li;
      let slx: f32 = sumlx - w * xi * lif;
      if (slx > 0) {
        let sl2: f32 = suml2 - w * lif * lif;
        const newL = clampI(nearestInt(xi * sl2 / slx), -nmax, nmax - 1);
        if (newL != li) {
          const nf = <f32>newL;
          slx += w * xi * nf;
          sl2 += w * nf * nf;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            store<i8>(LS + lo + i, <i8>newL);
            sumlx = slx;
            suml2 = sl2;
            nChanged++;
          }
        }
      }
    }
    if (nChanged == 0) break;
  }
  for (let i = 0; i < n; i++) store<i8>(LS + lo + i, <i8>(<i32>load<i8>(LS + lo + i) + nmax));
  return suml2 > 0 ? sumlx / suml2 : 0;
}


// ---------------------------------------------------------------- 4 sub-blocks at once (SIMD lanes)
// Each f32x4 lane runs one sub-block's make_qkx2_quants / make_qx_quants with exactly the scalar C operations in the
// scalar C order (sums stay sequential per lane); lanes are independent sub-blocks, so nothing is reassociated.
// Branches become per-lane selects; work done in lanes that C would skip has no effect on the results.
const XT: usize = memory.data(32 * 16, 16); // x transposed: XT[i] lane k = element i of sub-block k
const WT: usize = memory.data(32 * 16, 16);
const LT: usize = memory.data(32 * 16, 16); // levels (i32x4)
const LAUXT: usize = memory.data(32 * 16, 16);

@inline function nearestX4(v: v128): v128 {
  const b = f32x4.add(v, f32x4.splat(12582912.0));
  return i32x4.sub(v128.and(b, i32x4.splat(0x007fffff)), i32x4.splat(0x00400000));
}

/** Transpose 4 sub-blocks of n floats starting at x (stride n) into XT. */
function transpose4(x: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    let v = f32x4.splat(load<f32>(x + (<usize>i << 2)));
    v = f32x4.replace_lane(v, 1, load<f32>(x + (<usize>(n + i) << 2)));
    v = f32x4.replace_lane(v, 2, load<f32>(x + (<usize>(2 * n + i) << 2)));
    v = f32x4.replace_lane(v, 3, load<f32>(x + (<usize>(3 * n + i) << 2)));
    v128.store(XT + (<usize>i << 4), v);
  }
}

/** Scatter the levels of LT (lanes = sub-blocks j0..j0+3) into dst[(j0 + k) * n + i] as bytes. */
function scatterLevels(dst: usize, j0: i32, n: i32): void {
  for (let i = 0; i < n; i++) {
    const l = v128.load(LT + (<usize>i << 4));
    store<u8>(dst + (j0 + 0) * n + i, <u8>i32x4.extract_lane(l, 0));
    store<u8>(dst + (j0 + 1) * n + i, <u8>i32x4.extract_lane(l, 1));
    store<u8>(dst + (j0 + 2) * n + i, <u8>i32x4.extract_lane(l, 2));
    store<u8>(dst + (j0 + 3) * n + i, <u8>i32x4.extract_lane(l, 3));
  }
}

/** make_qkx2_quants on 4 sub-blocks (XT, WT); writes LT, SCALES[j0..j0+3], MINS[j0..j0+3] (= the_min). */
function qkx2x4(n: i32, nmax: i32, j0: i32, rmin: f32, rdelta: f32, nstep: i32, useMad: bool): void {
  const zero = f32x4.splat(0);
  const vmax = i32x4.splat(nmax);
  const izero = i32x4.splat(0);
  const x0 = v128.load(XT);
  let min = x0;
  let max = x0;
  let sumW = v128.load(WT);
  let sumX = f32x4.mul(sumW, x0);
  for (let i = 1; i < n; i++) {
    const xi = v128.load(XT + (<usize>i << 4));
    const wi = v128.load(WT + (<usize>i << 4));
    min = v128.bitselect(xi, min, f32x4.lt(xi, min));
    max = v128.bitselect(xi, max, f32x4.gt(xi, max));
    sumW = f32x4.add(sumW, wi);
    sumX = f32x4.add(sumX, f32x4.mul(wi, xi));
  }
  min = v128.bitselect(zero, min, f32x4.gt(min, zero));
  const degenerate = f32x4.eq(max, min);
  const min0 = min;
  const nmaxF = <f32>nmax;
  let iscale = f32x4.div(f32x4.splat(nmaxF), f32x4.sub(max, min));
  let scale = f32x4.div(f32x4.splat(1), iscale);
  let best = zero;
  for (let i = 0; i < n; i++) {
    const xi = v128.load(XT + (<usize>i << 4));
    const l = i32x4.min_s(i32x4.max_s(nearestX4(f32x4.mul(iscale, f32x4.sub(xi, min))), izero), vmax);
    v128.store(LT + (<usize>i << 4), l);
    let diff = f32x4.sub(f32x4.add(f32x4.mul(scale, f32x4.convert_i32x4_s(l)), min), xi);
    diff = useMad ? f32x4.abs(diff) : f32x4.mul(diff, diff);
    best = f32x4.add(best, f32x4.mul(v128.load(WT + (<usize>i << 4)), diff));
  }
  for (let is = 0; is <= nstep; is++) {
    const num: f32 = rmin + rdelta * <f32>is + nmaxF;
    iscale = f32x4.div(f32x4.splat(num), f32x4.sub(max, min));
    let sumL = zero;
    let sumL2 = zero;
    let sumXL = zero;
    for (let i = 0; i < n; i++) {
      const xi = v128.load(XT + (<usize>i << 4));
      const l = i32x4.min_s(i32x4.max_s(nearestX4(f32x4.mul(iscale, f32x4.sub(xi, min))), izero), vmax);
      v128.store(LAUXT + (<usize>i << 4), l);
      const lf = f32x4.convert_i32x4_s(l);
      const wl = f32x4.mul(v128.load(WT + (<usize>i << 4)), lf);
      sumL = f32x4.add(sumL, wl);
      sumL2 = f32x4.add(sumL2, f32x4.mul(wl, lf));
      sumXL = f32x4.add(sumXL, f32x4.mul(wl, xi));
    }
    const D = f32x4.sub(f32x4.mul(sumW, sumL2), f32x4.mul(sumL, sumL));
    const okD = f32x4.gt(D, zero);
    if (!v128.any_true(okD)) continue;
    let thisScale = f32x4.div(f32x4.sub(f32x4.mul(sumW, sumXL), f32x4.mul(sumX, sumL)), D);
    let thisMin = f32x4.div(f32x4.sub(f32x4.mul(sumL2, sumX), f32x4.mul(sumL, sumXL)), D);
    const pos = f32x4.gt(thisMin, zero);
    thisMin = v128.bitselect(zero, thisMin, pos);
    thisScale = v128.bitselect(f32x4.div(sumXL, sumL2), thisScale, pos);
    let mad = zero;
    for (let i = 0; i < n; i++) {
      const lf = f32x4.convert_i32x4_s(v128.load(LAUXT + (<usize>i << 4)));
      let diff = f32x4.sub(f32x4.add(f32x4.mul(thisScale, lf), thisMin), v128.load(XT + (<usize>i << 4)));
      diff = useMad ? f32x4.abs(diff) : f32x4.mul(diff, diff);
      mad = f32x4.add(mad, f32x4.mul(v128.load(WT + (<usize>i << 4)), diff));
    }
    const upd = v128.and(okD, f32x4.lt(mad, best));
    if (!v128.any_true(upd)) continue;
    for (let i = 0; i < n; i++) {
      const p = LT + (<usize>i << 4);
      v128.store(p, v128.bitselect(v128.load(LAUXT + (<usize>i << 4)), v128.load(p), upd));
    }
    best = v128.bitselect(mad, best, upd);
    scale = v128.bitselect(thisScale, scale, upd);
    min = v128.bitselect(thisMin, min, upd);
  }
  // max == min: L = 0, scale 0, the_min = -min (as computed before the search)
  for (let i = 0; i < n; i++) {
    const p = LT + (<usize>i << 4);
    v128.store(p, v128.andnot(v128.load(p), degenerate));
  }
  scale = v128.andnot(scale, degenerate);
  const theMins = f32x4.neg(v128.bitselect(min0, min, degenerate));
  v128.store(SCALES + (<usize>j0 << 2), scale);
  v128.store(MINS + (<usize>j0 << 2), theMins);
}

/** make_qx_quants(n, nmax, x, L, rmse_type = 1, NULL) on 4 sub-blocks (XT); writes LT (0..2nmax-1), SCALES[j0..]. */
function qxx4(n: i32, nmax: i32, j0: i32): void {
  const zero = f32x4.splat(0);
  const lo = i32x4.splat(-nmax);
  const hi = i32x4.splat(nmax - 1);
  const off = i32x4.splat(nmax);
  let max = zero;
  let amax = zero;
  for (let i = 0; i < n; i++) {
    const xi = v128.load(XT + (<usize>i << 4));
    const ax = f32x4.abs(xi);
    const upd = f32x4.gt(ax, amax);
    amax = v128.bitselect(ax, amax, upd);
    max = v128.bitselect(xi, max, upd);
  }
  const allZero = f32x4.lt(amax, f32x4.splat(GROUP_MAX_EPS));
  const nmaxF = <f32>nmax;
  let iscale = f32x4.div(f32x4.splat(-nmaxF), max);
  let sumlx = zero;
  let suml2 = zero;
  for (let i = 0; i < n; i++) {
    const xi = v128.load(XT + (<usize>i << 4));
    const l = i32x4.min_s(i32x4.max_s(nearestX4(f32x4.mul(iscale, xi)), lo), hi);
    v128.store(LT + (<usize>i << 4), i32x4.add(l, off));
    const lf = f32x4.convert_i32x4_s(l);
    const w = f32x4.mul(xi, xi);
    sumlx = f32x4.add(sumlx, f32x4.mul(f32x4.mul(w, xi), lf));
    suml2 = f32x4.add(suml2, f32x4.mul(f32x4.mul(w, lf), lf));
  }
  let scale = v128.and(f32x4.div(sumlx, suml2), f32x4.ne(suml2, zero));
  let best = f32x4.mul(scale, sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is == 0) continue;
    iscale = f32x4.div(f32x4.splat(-(nmaxF + <f32>0.1 * <f32>is)), max);
    sumlx = zero;
    suml2 = zero;
    for (let i = 0; i < n; i++) {
      const xi = v128.load(XT + (<usize>i << 4));
      const l = i32x4.min_s(i32x4.max_s(nearestX4(f32x4.mul(iscale, xi)), lo), hi);
      v128.store(LAUXT + (<usize>i << 4), i32x4.add(l, off));
      const lf = f32x4.convert_i32x4_s(l);
      const w = f32x4.mul(xi, xi);
      sumlx = f32x4.add(sumlx, f32x4.mul(f32x4.mul(w, xi), lf));
      suml2 = f32x4.add(suml2, f32x4.mul(f32x4.mul(w, lf), lf));
    }
    const upd = v128.and(f32x4.gt(suml2, zero), f32x4.gt(f32x4.mul(sumlx, sumlx), f32x4.mul(best, suml2)));
    if (!v128.any_true(upd)) continue;
    for (let i = 0; i < n; i++) {
      const p = LT + (<usize>i << 4);
      v128.store(p, v128.bitselect(v128.load(LAUXT + (<usize>i << 4)), v128.load(p), upd));
    }
    scale = v128.bitselect(f32x4.div(sumlx, suml2), scale, upd);
    best = v128.bitselect(f32x4.mul(scale, sumlx), best, upd);
  }
  for (let i = 0; i < n; i++) {
    const p = LT + (<usize>i << 4);
    v128.store(p, v128.andnot(v128.load(p), allZero));
  }
  v128.store(SCALES + (<usize>j0 << 2), v128.andnot(scale, allZero));
}

function pack2bit(src: usize, y: usize): void {
  for (let j = 0; j < 256; j += 128) {
    for (let l = 0; l < 32; l++) {
      const v = <u32>load<u8>(src + j + l) | (<u32>load<u8>(src + j + l + 32) << 2) |
        (<u32>load<u8>(src + j + l + 64) << 4) | (<u32>load<u8>(src + j + l + 96) << 6);
      store<u8>(y + (j >> 2) + l, <u8>v);
    }
  }
}

export function quantize_q2_K(x0: usize, y0: usize, nBlocks: i32): void {
  const q4scale: f32 = 15;
  for (let i = 0; i < nBlocks; i++) {
    const xb = x0 + <usize>i * 1024;
    const yb = y0 + <usize>i * 84;
    let maxScale: f32 = 0;
    let maxMin: f32 = 0;
    for (let j0 = 0; j0 < 16; j0 += 4) {
      transpose4(xb + <usize>j0 * 64, 16);
      for (let l = 0; l < 16; l++) v128.store(WT + (<usize>l << 4), f32x4.abs(v128.load(XT + (<usize>l << 4))));
      qkx2x4(16, 3, j0, -0.5, 0.1, 15, true);
      scatterLevels(L, j0, 16);
    }
    for (let j = 0; j < 16; j++) {
      const scale = load<f32>(SCALES + (<usize>j << 2));
      const m = load<f32>(MINS + (<usize>j << 2));
      if (scale > maxScale) maxScale = scale;
      if (m > maxMin) maxMin = m;
    }
    if (maxScale > 0) {
      const iscale: f32 = q4scale / maxScale;
      for (let j = 0; j < 16; j++) store<u8>(yb + j, <u8>nearestInt(iscale * load<f32>(SCALES + (<usize>j << 2))));
      putHalf(yb + 80, maxScale / q4scale);
    } else {
      for (let j = 0; j < 16; j++) store<u8>(yb + j, 0);
      putHalf(yb + 80, 0);
    }
    if (maxMin > 0) {
      const iscale: f32 = q4scale / maxMin;
      for (let j = 0; j < 16; j++) {
        const l = nearestInt(iscale * load<f32>(MINS + (<usize>j << 2)));
        store<u8>(yb + j, <u8>(<i32>load<u8>(yb + j) | (l << 4)));
      }
      putHalf(yb + 82, maxMin / q4scale);
    } else {
      putHalf(yb + 82, 0);
    }
    const dAll = getHalf(yb + 80);
    const dMin = getHalf(yb + 82);
    for (let j = 0; j < 16; j++) {
      const sc = <u32>load<u8>(yb + j);
      const d: f32 = dAll * <f32>(sc & 0xf);
      if (d == 0) continue;
      const dm: f32 = dMin * <f32>(sc >> 4);
      for (let ii = 0; ii < 16; ii++) {
        const l = clampI(nearestInt((load<f32>(xb + (<usize>(16 * j + ii) << 2)) + dm) / d), 0, 3);
        store<u8>(L + 16 * j + ii, <u8>l);
      }
    }
    pack2bit(L, yb + 16);
  }
}

export function quantize_q3_K(x0: usize, y0: usize, nBlocks: i32): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = x0 + <usize>i * 1024;
    const yb = y0 + <usize>i * 110;
    const sb = yb + 96;
    let maxScale: f32 = 0;
    let amax: f32 = 0;
    for (let j = 0; j < 16; j++) {
      const s = makeQ3(16, 4, xb + <usize>j * 64, 16 * j);
      store<f32>(SCALES + (<usize>j << 2), s);
      const a = Mathf.abs(s);
      if (a > amax) {
        amax = a;
        maxScale = s;
      }
    }
    for (let j = 0; j < 12; j++) store<u8>(sb + j, 0);
    if (maxScale != 0) {
      const iscale: f32 = <f32>-32 / maxScale;
      for (let j = 0; j < 16; j++) {
        let l: i32 = <i32><i8>nearestInt(iscale * load<f32>(SCALES + (<usize>j << 2)));
        l = clampI(l, -32, 31) + 32;
        if (j < 8) store<u8>(sb + j, <u8>(l & 0xf));
        else store<u8>(sb + j - 8, <u8>(<i32>load<u8>(sb + j - 8) | ((l & 0xf) << 4)));
        l >>= 4;
        const k = sb + 8 + (j % 4);
        store<u8>(k, <u8>(<i32>load<u8>(k) | (l << (2 * (j >> 2)))));
      }
      putHalf(yb + 108, <f32>1 / iscale);
    } else {
      putHalf(yb + 108, 0);
    }
    const dAll = getHalf(yb + 108);
    for (let j = 0; j < 16; j++) {
      let sc: i32 = j < 8 ? <i32>load<u8>(sb + j) & 0xf : <i32>load<u8>(sb + j - 8) >> 4;
      sc = (sc | (((<i32>load<u8>(sb + 8 + (j % 4)) >> (2 * (j >> 2))) & 3) << 4)) - 32;
      const d: f32 = dAll * <f32>sc;
      if (d == 0) continue;
      for (let ii = 0; ii < 16; ii++) {
        const l = clampI(nearestInt(load<f32>(xb + (<usize>(16 * j + ii) << 2)) / d), -4, 3);
        store<i8>(LS + 16 * j + ii, <i8>(l + 4));
      }
    }
    for (let j = 0; j < 32; j++) store<u8>(yb + j, 0);
    let m = 0;
    let hm: u32 = 1;
    for (let j = 0; j < 256; j++) {
      const v = <i32>load<i8>(LS + j);
      if (v > 3) {
        store<u8>(yb + m, <u8>(<u32>load<u8>(yb + m) | hm));
        store<i8>(LS + j, <i8>(v - 4));
      }
      if (++m == 32) {
        m = 0;
        hm <<= 1;
      }
    }
    pack2bit(LS, yb + 32);
  }
}

function k4Common(xb: usize, dOff: usize, sb: usize, nmax: i32, rmin: f32, nstep: i32): void {
  let maxScale: f32 = 0;
  let maxMin: f32 = 0;
  for (let j0 = 0; j0 < 8; j0 += 4) {
    transpose4(xb + <usize>j0 * 128, 32);
    let sumX2 = f32x4.splat(0);
    for (let l = 0; l < 32; l++) {
      const v = v128.load(XT + (<usize>l << 4));
      sumX2 = f32x4.add(sumX2, f32x4.mul(v, v));
    }
    const avX = f32x4.sqrt(f32x4.div(sumX2, f32x4.splat(32)));
    for (let l = 0; l < 32; l++) v128.store(WT + (<usize>l << 4), f32x4.add(avX, f32x4.abs(v128.load(XT + (<usize>l << 4)))));
    qkx2x4(32, nmax, j0, rmin, 0.1, nstep, false);
    scatterLevels(L, j0, 32);
  }
  for (let j = 0; j < 8; j++) {
    const scale = load<f32>(SCALES + (<usize>j << 2));
    const m = load<f32>(MINS + (<usize>j << 2));
    if (scale > maxScale) maxScale = scale;
    if (m > maxMin) maxMin = m;
  }
  const invScale: f32 = maxScale > 0 ? <f32>63 / maxScale : 0;
  const invMin: f32 = maxMin > 0 ? <f32>63 / maxMin : 0;
  for (let j = 0; j < 8; j++) {
    let ls: i32 = nearestInt(invScale * load<f32>(SCALES + (<usize>j << 2))) & 0xff;
    let lm: i32 = nearestInt(invMin * load<f32>(MINS + (<usize>j << 2))) & 0xff;
    ls = ls < 63 ? ls : 63;
    lm = lm < 63 ? lm : 63;
    if (j < 4) {
      store<u8>(sb + j, <u8>ls);
      store<u8>(sb + j + 4, <u8>lm);
    } else {
      store<u8>(sb + j + 4, <u8>((ls & 0xf) | ((lm & 0xf) << 4)));
      store<u8>(sb + j - 4, <u8>(<i32>load<u8>(sb + j - 4) | ((ls >> 4) << 6)));
      store<u8>(sb + j, <u8>(<i32>load<u8>(sb + j) | ((lm >> 4) << 6)));
    }
  }
  putHalf(dOff, maxScale / <f32>63);
  putHalf(dOff + 2, maxMin / <f32>63);
  const dAll = getHalf(dOff);
  const dMin = getHalf(dOff + 2);
  for (let j = 0; j < 8; j++) {
    let sc: i32;
    let m: i32;
    if (j < 4) {
      sc = <i32>load<u8>(sb + j) & 63;
      m = <i32>load<u8>(sb + j + 4) & 63;
    } else {
      sc = (<i32>load<u8>(sb + j + 4) & 0xf) | ((<i32>load<u8>(sb + j - 4) >> 6) << 4);
      m = (<i32>load<u8>(sb + j + 4) >> 4) | ((<i32>load<u8>(sb + j) >> 6) << 4);
    }
    const d: f32 = dAll * <f32>sc;
    if (d == 0) continue;
    const dm: f32 = dMin * <f32>m;
    for (let ii = 0; ii < 32; ii++) {
      const l = clampI(nearestInt((load<f32>(xb + (<usize>(32 * j + ii) << 2)) + dm) / d), 0, nmax);
      store<u8>(L + 32 * j + ii, <u8>l);
    }
  }
}

export function quantize_q4_K(x0: usize, y0: usize, nBlocks: i32): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = x0 + <usize>i * 1024;
    const yb = y0 + <usize>i * 144;
    k4Common(xb, yb, yb + 4, 15, -1, 20);
    let q = yb + 16;
    for (let j = 0; j < 256; j += 64) {
      for (let l = 0; l < 32; l++) store<u8>(q + l, <u8>(<u32>load<u8>(L + j + l) | (<u32>load<u8>(L + j + l + 32) << 4)));
      q += 32;
    }
  }
}

export function quantize_q5_K(x0: usize, y0: usize, nBlocks: i32): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = x0 + <usize>i * 1024;
    const yb = y0 + <usize>i * 176;
    k4Common(xb, yb, yb + 4, 31, -0.5, 15);
    const qh = yb + 16;
    let ql = yb + 48;
    for (let j = 0; j < 32; j++) store<u8>(qh + j, 0);
    let m1: u32 = 1;
    let m2: u32 = 2;
    for (let n = 0; n < 256; n += 64) {
      for (let j = 0; j < 32; j++) {
        let l1 = <u32>load<u8>(L + n + j);
        if (l1 > 15) {
          l1 -= 16;
          store<u8>(qh + j, <u8>(<u32>load<u8>(qh + j) | m1));
        }
        let l2 = <u32>load<u8>(L + n + j + 32);
        if (l2 > 15) {
          l2 -= 16;
          store<u8>(qh + j, <u8>(<u32>load<u8>(qh + j) | m2));
        }
        store<u8>(ql + j, <u8>(l1 | (l2 << 4)));
      }
      m1 <<= 2;
      m2 <<= 2;
      ql += 32;
    }
  }
}

export function quantize_q6_K(x0: usize, y0: usize, nBlocks: i32): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = x0 + <usize>i * 1024;
    const yb = y0 + <usize>i * 210;
    let maxScale: f32 = 0;
    let maxAbsScale: f32 = 0;
    for (let j0 = 0; j0 < 16; j0 += 4) {
      transpose4(xb + <usize>j0 * 64, 16);
      qxx4(16, 32, j0);
      scatterLevels(LS, j0, 16);
    }
    for (let ib = 0; ib < 16; ib++) {
      const scale = load<f32>(SCALES + (<usize>ib << 2));
      const a = Mathf.abs(scale);
      if (a > maxAbsScale) {
        maxAbsScale = a;
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) {
      for (let j = 0; j < 210; j++) store<u8>(yb + j, 0);
      continue;
    }
    const iscale: f32 = <f32>-128 / maxScale;
    putHalf(yb + 208, <f32>1 / iscale);
    for (let ib = 0; ib < 16; ib++) {
      const s = nearestInt(iscale * load<f32>(SCALES + (<usize>ib << 2)));
      store<i8>(yb + 192 + ib, <i8>(s < 127 ? s : 127));
    }
    const dAll = getHalf(yb + 208);
    for (let j = 0; j < 16; j++) {
      const d: f32 = dAll * <f32>load<i8>(yb + 192 + j);
      if (d == 0) continue;
      for (let ii = 0; ii < 16; ii++) {
        const l = clampI(nearestInt(load<f32>(xb + (<usize>(16 * j + ii) << 2)) / d), -32, 31);
        store<i8>(LS + 16 * j + ii, <i8>(l + 32));
      }
    }
    let ql = yb;
    let qh = yb + 128;
    for (let j = 0; j < 256; j += 128) {
      for (let l = 0; l < 32; l++) {
        const a = <i32>load<i8>(LS + j + l);
        const b = <i32>load<i8>(LS + j + l + 32);
        const c = <i32>load<i8>(LS + j + l + 64);
        const e = <i32>load<i8>(LS + j + l + 96);
        store<u8>(ql + l, <u8>((a & 0xf) | ((c & 0xf) << 4)));
        store<u8>(ql + l + 32, <u8>((b & 0xf) | ((e & 0xf) << 4)));
        store<u8>(qh + l, <u8>((a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6)));
      }
      ql += 64;
      qh += 32;
    }
  }
}

// ---------------------------------------------------------------- F16 / BF16 → F32 (exact)

export function f16_to_f32(src: usize, dst: usize, n: i32): void {
  // 8 halves per step, exact bit conversion (F. Giesen's half_to_float, SIMD): normal numbers rebias the exponent,
  // inf/NaN keep their payload, subnormals and zeros go through one exact f32 subtraction
  const mAbs = i32x4.splat(0x7fff);
  const mExp = i32x4.splat(0x0f800000);
  const rebias = i32x4.splat(112 << 23);
  const one = i32x4.splat(1 << 23);
  const magic = i32x4.splat(113 << 23);
  const mSign = i32x4.splat(0x8000);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h8 = v128.load(src + (<usize>i << 1));
    for (let half = 0; half < 2; half++) {
      const h = half == 0 ? i32x4.extend_low_i16x8_u(h8) : i32x4.extend_high_i16x8_u(h8);
      let o = i32x4.shl(v128.and(h, mAbs), 13);
      const e = v128.and(o, mExp);
      o = i32x4.add(o, rebias);
      o = i32x4.add(o, v128.and(i32x4.eq(e, mExp), rebias));
      const sub = f32x4.sub(i32x4.add(o, one), magic);
      o = v128.bitselect(sub, o, i32x4.eq(e, i32x4.splat(0)));
      o = v128.or(o, i32x4.shl(v128.and(h, mSign), 16));
      v128.store(dst + (<usize>(i + half * 4) << 2), o);
    }
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), fromHalf(<u32>load<u16>(src + (<usize>i << 1))));
}

export function bf16_to_f32(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h8 = v128.load(src + (<usize>i << 1));
    v128.store(dst + (<usize>i << 2), i32x4.shl(i32x4.extend_low_i16x8_u(h8), 16));
    v128.store(dst + (<usize>(i + 4) << 2), i32x4.shl(i32x4.extend_high_i16x8_u(h8), 16));
  }
  for (; i < n; i++) store<u32>(dst + (<usize>i << 2), <u32>load<u16>(src + (<usize>i << 1)) << 16);
}

// ---------------------------------------------------------------- legacy 32-element blocks
// C's float → int8_t/uint8_t cast as GCC emits it on x86-64: cvttss2si (NaN, ±inf, out of range → 0x80000000),
// then the low byte. (AssemblyScript's own <i32> would saturate instead.)
@inline function cvtI8(v: f32): i32 {
  return v > <f32>-2147483648.0 - <f32>1.0 && v < <f32>2147483648.0 ? (<i32>v << 24) >> 24 : 0;
}

@inline function minI(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

// SIMD: every lane op is the same binary32 op as the scalar C (max of |x| is exact and order-free without NaN)
@inline function absMax32(xb: usize): f32 {
  let m = f32x4.abs(v128.load(xb));
  for (let k = 1; k < 8; k++) m = f32x4.max(m, f32x4.abs(v128.load(xb + (<usize>k << 4))));
  const a = f32x4.extract_lane(m, 0);
  const b = f32x4.extract_lane(m, 1);
  const c = f32x4.extract_lane(m, 2);
  const d = f32x4.extract_lane(m, 3);
  const ab = a > b ? a : b;
  const cd = c > d ? c : d;
  return ab > cd ? ab : cd;
}

export function quantize_q8_0(x0: usize, y0: usize, nBlocks: i32): void {
  const half = f32x4.splat(0.5);
  const limit = f32x4.splat(2147483648.0);
  const zero = f32x4.splat(0);
  for (let i = 0; i < nBlocks; i++) {
    const xb = x0 + <usize>i * 128;
    const yb = y0 + <usize>i * 34;
    const amax = absMax32(xb);
    const d: f32 = amax / <f32>127;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    putHalf(yb, d);
    const vid = f32x4.splat(id);
    for (let k = 0; k < 2; k++) {
      // 16 levels: roundf(x*id) then the int8 cast (NaN/inf/out of range → 0 like cvttss2si's low byte)
      let q0 = i32x4.splat(0);
      let q1 = q0;
      let q2 = q0;
      let q3 = q0;
      for (let g = 0; g < 4; g++) {
        const v = f32x4.mul(v128.load(xb + <usize>(k * 64 + g * 16)), vid);
        const a = f32x4.abs(v);
        const t = i32x4.trunc_sat_f32x4_s(a);
        let q = i32x4.sub(t, f32x4.ge(f32x4.sub(a, f32x4.convert_i32x4_s(t)), half)); // +1 where frac ≥ 0.5
        q = v128.bitselect(i32x4.neg(q), q, f32x4.lt(v, zero));
        q = v128.and(q, f32x4.lt(a, limit));
        if (g == 0) q0 = q;
        else if (g == 1) q1 = q;
        else if (g == 2) q2 = q;
        else q3 = q;
      }
      // |level| ≤ 127 whenever it is finite (|x·id| ≤ 127.00001), so the saturating narrow equals the C cast
      v128.store(yb + 2 + <usize>(k * 16), i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
    }
  }
}

function absMaxSigned(xb: usize): f32 {
  let amax: f32 = 0;
  let max: f32 = 0;
  for (let j = 0; j < 32; j++) {
    const v = load<f32>(xb + (<usize>j << 2));
    const a = Mathf.abs(v);
    if (amax < a) {
      amax = a;
      max = v;
    }
  }
  return max;
}

let blockMin: f32 = 0;
function minMax(xb: usize): f32 {
  let min: f32 = 3.4028234663852886e38;
  let max: f32 = -3.4028234663852886e38;
  for (let j = 0; j < 32; j++) {
    const v = load<f32>(xb + (<usize>j << 2));
    if (v < min) min = v;
    if (v > max) max = v;
  }
  blockMin = min;
  return max;
}

/** The max of Q4_0/Q5_0: the first element with the largest |x| (sign kept); +0 when all are zero, as in C. */
@inline function signedMax32(xb: usize): f32 {
  const amax = absMax32(xb);
  if (amax == 0) return 0;
  let j = 0;
  while (Mathf.abs(load<f32>(xb + (<usize>j << 2))) != amax) j++;
  return load<f32>(xb + (<usize>j << 2));
}

/** Levels MIN(top, (int8_t)(x*id + bias)) for 4 lanes; the cast as x86's cvttss2si (non-finite → 0). */
@inline function levels4(p: usize, vid: v128, bias: v128, top: v128): v128 {
  const t = f32x4.add(f32x4.mul(v128.load(p), vid), bias); // two roundings, no fusing, as in ggml-base
  const ok = v128.and(f32x4.gt(t, f32x4.splat(-2147483648.0)), f32x4.lt(t, f32x4.splat(2147483648.0)));
  // finite levels lie in [0, top + 1] (|x·id| ≤ 8.000001 or 16.000001), so no int8 wrap is needed
  return i32x4.min_s(v128.and(i32x4.trunc_sat_f32x4_s(t), ok), top);
}

export function quantize_q4_0(x0: usize, y0: usize, nBlocks: i32): void {
  const bias = f32x4.splat(8.5);
  const top = i32x4.splat(15);
  for (let i = 0; i < nBlocks; i++) {
    const xb = x0 + <usize>i * 128;
    const yb = y0 + <usize>i * 18;
    const max = signedMax32(xb);
    const d: f32 = max / <f32>-8;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    putHalf(yb, d);
    const vid = f32x4.splat(id);
    const b0 = v128.or(levels4(xb, vid, bias, top), i32x4.shl(levels4(xb + 64, vid, bias, top), 4));
    const b1 = v128.or(levels4(xb + 16, vid, bias, top), i32x4.shl(levels4(xb + 80, vid, bias, top), 4));
    const b2 = v128.or(levels4(xb + 32, vid, bias, top), i32x4.shl(levels4(xb + 96, vid, bias, top), 4));
    const b3 = v128.or(levels4(xb + 48, vid, bias, top), i32x4.shl(levels4(xb + 112, vid, bias, top), 4));
    v128.store(yb + 2, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(b0, b1), i16x8.narrow_i32x4_u(b2, b3)));
  }
}

export function quantize_q4_1(x0: usize, y0: usize, nBlocks: i32): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = x0 + <usize>i * 128;
    const yb = y0 + <usize>i * 20;
    const max = minMax(xb);
    const min = blockMin;
    const d: f32 = (max - min) / <f32>15;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    putHalf(yb, d);
    putHalf(yb + 2, min);
    for (let j = 0; j < 16; j++) {
      const v0: f32 = (load<f32>(xb + (<usize>j << 2)) - min) * id;
      const v1: f32 = (load<f32>(xb + (<usize>(j + 16) << 2)) - min) * id;
      const a = minI(15, cvtI8(v0 + <f32>0.5)) & 0xff;
      const b = minI(15, cvtI8(v1 + <f32>0.5)) & 0xff;
      store<u8>(yb + 4 + j, <u8>(a | (b << 4)));
    }
  }
}

export function quantize_q5_0(x0: usize, y0: usize, nBlocks: i32): void {
  const bias = f32x4.splat(16.5);
  const top = i32x4.splat(31);
  const low4 = i32x4.splat(0x0f);
  for (let i = 0; i < nBlocks; i++) {
    const xb = x0 + <usize>i * 128;
    const yb = y0 + <usize>i * 22;
    const max = signedMax32(xb);
    const d: f32 = max / <f32>-16;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    putHalf(yb, d);
    const vid = f32x4.splat(id);
    // levels of elements 0..15 (lo) and 16..31 (hi) as bytes
    const lo = i8x16.narrow_i16x8_u(
      i16x8.narrow_i32x4_u(levels4(xb, vid, bias, top), levels4(xb + 16, vid, bias, top)),
      i16x8.narrow_i32x4_u(levels4(xb + 32, vid, bias, top), levels4(xb + 48, vid, bias, top)));
    const hi = i8x16.narrow_i16x8_u(
      i16x8.narrow_i32x4_u(levels4(xb + 64, vid, bias, top), levels4(xb + 80, vid, bias, top)),
      i16x8.narrow_i32x4_u(levels4(xb + 96, vid, bias, top), levels4(xb + 112, vid, bias, top)));
    const lowNib = i8x16.splat(0x0f);
    v128.store(yb + 6, v128.or(v128.and(lo, lowNib), i8x16.shl(v128.and(hi, lowNib), 4)));
    // bit 4 of each level → qh bit j (elements 0..15) and j + 16 (elements 16..31)
    const qh = <u32>i8x16.bitmask(i8x16.shl(lo, 3)) | (<u32>i8x16.bitmask(i8x16.shl(hi, 3)) << 16);
    store<u32>(yb + 2, qh);
    void low4;
  }
}

export function quantize_q5_1(x0: usize, y0: usize, nBlocks: i32): void {
  for (let i = 0; i < nBlocks; i++) {
    const xb = x0 + <usize>i * 128;
    const yb = y0 + <usize>i * 24;
    const max = minMax(xb);
    const min = blockMin;
    const d: f32 = (max - min) / <f32>31;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    putHalf(yb, d);
    putHalf(yb + 2, min);
    let qh: u32 = 0;
    for (let j = 0; j < 16; j++) {
      const v0: f32 = (load<f32>(xb + (<usize>j << 2)) - min) * id;
      const v1: f32 = (load<f32>(xb + (<usize>(j + 16) << 2)) - min) * id;
      const a = <u32>(cvtI8(v0 + <f32>0.5) & 0xff);
      const b = <u32>(cvtI8(v1 + <f32>0.5) & 0xff);
      store<u8>(yb + 8 + j, <u8>((a & 0x0f) | ((b & 0x0f) << 4)));
      qh |= ((a & 0x10) >> 4) << j;
      qh |= ((b & 0x10) >> 4) << (j + 16);
    }
    store<u32>(yb + 4, qh);
  }
}
