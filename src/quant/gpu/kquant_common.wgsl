// kquant_common.wgsl: ggml's k-quant helpers (ggml-quants.c make_qkx2_quants, make_qx_quants with rmse_type 1,
// make_q3_quants with do_rmse; shared/research/gguf.md §4), used by the Q2_K..Q6_K kernels.
//
// Exactness: one invocation per 256-element super-block, so every sum is accumulated sequentially in the reference
// order; every float operation is a softfloat.wgsl call on binary32 bits (one rounding per C operator, evaluated in
// C's left-to-right order: w*x*l is (w*x)*l; no fusion, no reassociation, subnormals kept); int -> float conversions
// are exact (small integers); nearest_int is ggml's +12582912.f trick done with a real binary32 addition.
// Porting trap kept on purpose: make_qkx2_quants divides by (max - min) with the *current* min inside its search.

var<private> xs: array<u32, 256>;   // the super-block as binary32 bits
var<private> LL: array<u32, 256>;   // quantized levels (unsigned after the +nmax shift)
var<private> LAUX: array<u32, 32>;
var<private> WW: array<u32, 32>;
var<private> SC: array<u32, 16>;    // sub-block scales (float bits)
var<private> MN: array<u32, 16>;    // sub-block mins (float bits)
var<private> qkx2_the_min: u32;

const GROUP_MAX_EPS: u32 = 0x26901d7du; // 1e-15f
const F_0_1: u32 = 0x3dcccccdu;          // 0.1f
const F_ONE: u32 = 0x3f800000u;

fn load_superblock(b: u32) {
  let x0 = b * 256u;
  for (var j = ZERO; j < 256u; j = j + 1u) { xs[j] = load(x0 + j); }
}

fn clampi(v: i32, lo: i32, hi: i32) -> i32 { return select(select(v, hi, v > hi), lo, v < lo); }
fn fi(v: i32) -> u32 { return f_from_i32(v); }
fn fu(v: u32) -> u32 { return f_from_i32(i32(v)); }

// make_qkx2_quants(n, nmax, x + xo, WW, LL + lo, &qkx2_the_min, LAUX, rmin, rdelta, nstep, use_mad)
fn make_qkx2(n: u32, nmax: i32, xo: u32, lo: u32, rmin: u32, rdelta: u32, nstep: i32, use_mad: bool) -> u32 {
  var mn = xs[xo];
  var mx = mn;
  var sum_w = WW[0];
  var sum_x = f_mul(sum_w, mn);
  for (var i = ZERO + 1u; i < n; i = i + 1u) {
    let xi = xs[xo + i];
    if (f_lt(xi, mn)) { mn = xi; }
    if (f_gt(xi, mx)) { mx = xi; }
    let wi = WW[i];
    sum_w = f_add(sum_w, wi);
    sum_x = f_add(sum_x, f_mul(wi, xi));
  }
  if (f_gt(mn, 0u)) { mn = 0u; }
  if (f_eq(mx, mn)) {
    for (var i = ZERO; i < n; i = i + 1u) { LL[lo + i] = 0u; }
    qkx2_the_min = f_neg(mn);
    return 0u;
  }
  let fnmax = fi(nmax);
  var iscale = f_div(fnmax, f_sub(mx, mn));
  var scale = f_div(F_ONE, iscale);
  var best_error = 0u;
  for (var i = ZERO; i < n; i = i + 1u) {
    let xi = xs[xo + i];
    let l = clampi(nearest_int(f_mul(iscale, f_sub(xi, mn))), 0, nmax);
    LL[lo + i] = u32(l);
    var diff = f_sub(f_add(f_mul(scale, fi(l)), mn), xi);
    if (use_mad) { diff = f_abs(diff); } else { diff = f_mul(diff, diff); }
    best_error = f_add(best_error, f_mul(WW[i], diff));
  }
  if (nstep < 1) {
    qkx2_the_min = f_neg(mn);
    return scale;
  }
  for (var is = i32(ZERO); is <= nstep; is = is + 1) {
    iscale = f_div(f_add(f_add(rmin, f_mul(rdelta, fi(is))), fnmax), f_sub(mx, mn));
    var sum_l = 0u;
    var sum_l2 = 0u;
    var sum_xl = 0u;
    for (var i = ZERO; i < n; i = i + 1u) {
      let xi = xs[xo + i];
      let l = clampi(nearest_int(f_mul(iscale, f_sub(xi, mn))), 0, nmax);
      LAUX[i] = u32(l);
      let fl = fi(l);
      let wl = f_mul(WW[i], fl);
      sum_l = f_add(sum_l, wl);
      sum_l2 = f_add(sum_l2, f_mul(wl, fl));
      sum_xl = f_add(sum_xl, f_mul(wl, xi));
    }
    let D = f_sub(f_mul(sum_w, sum_l2), f_mul(sum_l, sum_l));
    if (f_gt(D, 0u)) {
      var this_scale = f_div(f_sub(f_mul(sum_w, sum_xl), f_mul(sum_x, sum_l)), D);
      var this_min = f_div(f_sub(f_mul(sum_l2, sum_x), f_mul(sum_l, sum_xl)), D);
      if (f_gt(this_min, 0u)) {
        this_min = 0u;
        this_scale = f_div(sum_xl, sum_l2);
      }
      var mad = 0u;
      for (var i = ZERO; i < n; i = i + 1u) {
        var diff = f_sub(f_add(f_mul(this_scale, fu(LAUX[i])), this_min), xs[xo + i]);
        if (use_mad) { diff = f_abs(diff); } else { diff = f_mul(diff, diff); }
        mad = f_add(mad, f_mul(WW[i], diff));
      }
      if (f_lt(mad, best_error)) {
        for (var i = ZERO; i < n; i = i + 1u) { LL[lo + i] = LAUX[i]; }
        best_error = mad;
        scale = this_scale;
        mn = this_min;
      }
    }
  }
  qkx2_the_min = f_neg(mn);
  return scale;
}

// Element of largest |x| (first wins, strict >) among xs[xo..xo+n): returns (max, amax).
fn signed_absmax(n: u32, xo: u32) -> vec2<u32> {
  var mx = 0u;
  var amax = 0u;
  for (var i = ZERO; i < n; i = i + 1u) {
    let v = xs[xo + i];
    let ax = f_abs(v);
    if (f_gt(ax, amax)) { amax = ax; mx = v; }
  }
  return vec2<u32>(mx, amax);
}

// make_qx_quants(n, nmax, x + xo, LL + lo, rmse_type = 1, qw = NULL): weights x*x.
fn make_qx_rmse1(n: u32, nmax: i32, xo: u32, lo: u32) -> u32 {
  let m = signed_absmax(n, xo);
  let mx = m.x;
  if (f_lt(m.y, GROUP_MAX_EPS)) {
    for (var i = ZERO; i < n; i = i + 1u) { LL[lo + i] = 0u; }
    return 0u;
  }
  let fnmax = fi(nmax);
  var iscale = f_div(f_neg(fnmax), mx);
  var sumlx = 0u;
  var suml2 = 0u;
  for (var i = ZERO; i < n; i = i + 1u) {
    let xi = xs[xo + i];
    let l = clampi(nearest_int(f_mul(iscale, xi)), -nmax, nmax - 1);
    LL[lo + i] = u32(l + nmax);
    let w = f_mul(xi, xi);
    let fl = fi(l);
    sumlx = f_add(sumlx, f_mul(f_mul(w, xi), fl));
    suml2 = f_add(suml2, f_mul(f_mul(w, fl), fl));
  }
  var scale = 0u;
  if (!f_is_zero(suml2)) { scale = f_div(sumlx, suml2); }
  var best = f_mul(scale, sumlx);
  for (var is = i32(ZERO) - 9; is <= 9; is = is + 1) {
    if (is == 0) { continue; }
    iscale = f_div(f_neg(f_add(fnmax, f_mul(F_0_1, fi(is)))), mx);
    sumlx = 0u;
    suml2 = 0u;
    for (var i = ZERO; i < n; i = i + 1u) {
      let xi = xs[xo + i];
      let l = clampi(nearest_int(f_mul(iscale, xi)), -nmax, nmax - 1);
      let w = f_mul(xi, xi);
      let fl = fi(l);
      sumlx = f_add(sumlx, f_mul(f_mul(w, xi), fl));
      suml2 = f_add(suml2, f_mul(f_mul(w, fl), fl));
    }
    if (f_gt(suml2, 0u) && f_gt(f_mul(sumlx, sumlx), f_mul(best, suml2))) {
      for (var i = ZERO; i < n; i = i + 1u) {
        let l = clampi(nearest_int(f_mul(iscale, xs[xo + i])), -nmax, nmax - 1);
        LL[lo + i] = u32(nmax + l);
      }
      scale = f_div(sumlx, suml2);
      best = f_mul(scale, sumlx);
    }
  }
  return scale;
}

// make_q3_quants(n, nmax, x + xo, LL + lo, do_rmse = true). Levels are signed while iterating (kept as i32 bits).
fn make_q3(n: u32, nmax: i32, xo: u32, lo: u32) -> u32 {
  let m = signed_absmax(n, xo);
  let mx = m.x;
  if (f_lt(m.y, GROUP_MAX_EPS)) {
    for (var i = ZERO; i < n; i = i + 1u) { LL[lo + i] = 0u; }
    return 0u;
  }
  let iscale = f_div(f_neg(fi(nmax)), mx);
  var sumlx = 0u;
  var suml2 = 0u;
  for (var i = ZERO; i < n; i = i + 1u) {
    let xi = xs[xo + i];
    let l = clampi(nearest_int(f_mul(iscale, xi)), -nmax, nmax - 1);
    LL[lo + i] = bitcast<u32>(l);
    let w = f_mul(xi, xi);
    let fl = fi(l);
    sumlx = f_add(sumlx, f_mul(f_mul(w, xi), fl));
    suml2 = f_add(suml2, f_mul(f_mul(w, fl), fl));
  }
  for (var itry = i32(ZERO); itry < 5; itry = itry + 1) {
    var n_changed = 0;
    for (var i = ZERO; i < n; i = i + 1u) {
      let xi = xs[xo + i];
      let w = f_mul(xi, xi);
      let li = bitcast<i32>(LL[lo + i]);
      let fli = fi(li);
      var slx = f_sub(sumlx, f_mul(f_mul(w, xi), fli));
      if (f_gt(slx, 0u)) {
        var sl2 = f_sub(suml2, f_mul(f_mul(w, fli), fli));
        let new_l = clampi(nearest_int(f_div(f_mul(xi, sl2), slx)), -nmax, nmax - 1);
        if (new_l != li) {
          let fnl = fi(new_l);
          slx = f_add(slx, f_mul(f_mul(w, xi), fnl));
          sl2 = f_add(sl2, f_mul(f_mul(w, fnl), fnl));
          if (f_gt(sl2, 0u) && f_gt(f_mul(f_mul(slx, slx), suml2), f_mul(f_mul(sumlx, sumlx), sl2))) {
            LL[lo + i] = bitcast<u32>(new_l);
            sumlx = slx;
            suml2 = sl2;
            n_changed = n_changed + 1;
          }
        }
      }
    }
    if (n_changed == 0) { break; }
  }
  for (var i = ZERO; i < n; i = i + 1u) { LL[lo + i] = bitcast<u32>(bitcast<i32>(LL[lo + i]) + nmax); }
  // current ggml guards suml2 > 0 (as the CPU port does)
  if (f_gt(suml2, 0u)) { return f_div(sumlx, suml2); }
  return 0u;
}

// Q2_K / Q3_K qs layout: 256 2-bit levels into 64 bytes at byte offset `at`.
fn pack2bit(at: u32) {
  for (var j = ZERO; j < 256u; j = j + 128u) {
    for (var l = ZERO; l < 32u; l = l + 1u) {
      let v = LL[j + l] | (LL[j + l + 32u] << 2u) | (LL[j + l + 64u] << 4u) | (LL[j + l + 96u] << 6u);
      put_u8(at + j / 4u + l, v);
    }
  }
}

// Read back a byte of the block under construction (ob, common.wgsl).
fn get_u8(byte_index: u32) -> u32 {
  return (ob[byte_index >> 2u] >> ((byte_index & 3u) * 8u)) & 0xffu;
}
fn set_u8(byte_index: u32, v: u32) {
  let w = byte_index >> 2u;
  let sh = (byte_index & 3u) * 8u;
  ob[w] = (ob[w] & ~(0xffu << sh)) | ((v & 0xffu) << sh);
}
fn get_u16(byte_index: u32) -> u32 { return get_u8(byte_index) | (get_u8(byte_index + 1u) << 8u); }

// Q4_K / Q5_K common part (quantize_row_q4_K_ref / q5_K_ref up to the packing of the levels): scales and mins of
// the 8 sub-blocks into the 12 bytes at 4, d and dmin at 0 and 2, final levels in LL.
fn k4_common(nmax: i32, rmin: u32, nstep: i32) {
  var max_scale = 0u;
  var max_min = 0u;
  for (var j = ZERO; j < 8u; j = j + 1u) {
    let xo = 32u * j;
    var sum_x2 = 0u;
    for (var l = ZERO; l < 32u; l = l + 1u) { sum_x2 = f_add(sum_x2, f_mul(xs[xo + l], xs[xo + l])); }
    let av_x = f_sqrt(f_div(sum_x2, 0x42000000u)); // / 32
    for (var l = ZERO; l < 32u; l = l + 1u) { WW[l] = f_add(av_x, f_abs(xs[xo + l])); }
    let scale = make_qkx2(32u, nmax, xo, xo, rmin, F_0_1, nstep, false);
    SC[j] = scale;
    MN[j] = qkx2_the_min;
    if (f_gt(scale, max_scale)) { max_scale = scale; }
    if (f_gt(qkx2_the_min, max_min)) { max_min = qkx2_the_min; }
  }
  var inv_scale = 0u;
  if (f_gt(max_scale, 0u)) { inv_scale = f_div(0x427c0000u, max_scale); } // 63 / max_scale
  var inv_min = 0u;
  if (f_gt(max_min, 0u)) { inv_min = f_div(0x427c0000u, max_min); }
  for (var j = ZERO; j < 8u; j = j + 1u) {
    // uint8_t ls = nearest_int(...); ls = MIN(63, ls)
    let ls = min(bitcast<u32>(nearest_int(f_mul(inv_scale, SC[j]))) & 0xffu, 63u);
    let lm = min(bitcast<u32>(nearest_int(f_mul(inv_min, MN[j]))) & 0xffu, 63u);
    if (j < 4u) {
      set_u8(4u + j, ls);
      set_u8(8u + j, lm);
    } else {
      set_u8(8u + j, (ls & 0xfu) | ((lm & 0xfu) << 4u));
      set_u8(j, get_u8(j) | ((ls >> 4u) << 6u));
      set_u8(4u + j, get_u8(4u + j) | ((lm >> 4u) << 6u));
    }
  }
  put_u16(0u, f32_to_f16_bits(f_div(max_scale, 0x427c0000u)));
  put_u16(2u, f32_to_f16_bits(f_div(max_min, 0x427c0000u)));
  let d_all = f16_to_f32_bits(get_u16(0u));
  let d_min = f16_to_f32_bits(get_u16(2u));
  for (var j = ZERO; j < 8u; j = j + 1u) {
    var sc: u32;
    var m: u32;
    // get_scale_min_k4(j, scales)
    if (j < 4u) {
      sc = get_u8(4u + j) & 63u;
      m = get_u8(8u + j) & 63u;
    } else {
      sc = (get_u8(8u + j) & 0xfu) | ((get_u8(j) >> 6u) << 4u);
      m = (get_u8(8u + j) >> 4u) | ((get_u8(4u + j) >> 6u) << 4u);
    }
    let d = f_mul(d_all, fu(sc));
    if (f_is_zero(d)) { continue; }
    let dm = f_mul(d_min, fu(m));
    for (var ii = ZERO; ii < 32u; ii = ii + 1u) {
      let l = clampi(nearest_int(f_div(f_add(xs[32u * j + ii], dm), d)), 0, nmax);
      LL[32u * j + ii] = u32(l);
    }
  }
}
