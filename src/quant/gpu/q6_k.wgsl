// q6_k.wgsl: ggml quantize_row_q6_K_ref (ggml-quants.c; shared/research/gguf.md §4).
// Block: u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d.
//
// Exactness: see kquant_common.wgsl: binary32 softfloat on u32 bits (one rounding per C operator, no fusion, no
// reassociation, subnormals kept), sequential sums in reference order, nearest_int via a real +12582912.f addition.
// A block whose largest scale is below 1e-15 is 210 zero bytes, as in the reference.

const BLOCK: u32 = 256u;
const TYPE_SIZE: u32 = 210u;

fn quantize_block(b: u32) {
  load_superblock(b);
  var max_scale = 0u;
  var max_abs = 0u;
  for (var ib = ZERO; ib < 16u; ib = ib + 1u) {
    let scale = make_qx_rmse1(16u, 32, 16u * ib, 16u * ib);
    SC[ib] = scale;
    let a = f_abs(scale);
    if (f_gt(a, max_abs)) { max_abs = a; max_scale = scale; }
  }
  if (f_lt(max_abs, GROUP_MAX_EPS)) { return; } // ob stays all zero
  let iscale = f_div(0xc3000000u, max_scale); // -128 / max_scale
  put_u16(208u, f32_to_f16_bits(f_div(F_ONE, iscale)));
  for (var ib = ZERO; ib < 16u; ib = ib + 1u) {
    let s = nearest_int(f_mul(iscale, SC[ib]));
    set_u8(192u + ib, bitcast<u32>(min(s, 127)));
  }
  let d_all = f16_to_f32_bits(get_u16(208u));
  for (var j = ZERO; j < 16u; j = j + 1u) {
    let sc = to_i8(i32(get_u8(192u + j)));
    let d = f_mul(d_all, fi(sc));
    if (f_is_zero(d)) { continue; }
    for (var ii = ZERO; ii < 16u; ii = ii + 1u) {
      let l = clampi(nearest_int(f_div(xs[16u * j + ii], d)), -32, 31);
      LL[16u * j + ii] = u32(l + 32);
    }
  }
  for (var j = ZERO; j < 256u; j = j + 128u) {
    let ql = j / 2u;          // 0, 64
    let qh = 128u + j / 4u;   // 128, 160
    for (var l = ZERO; l < 32u; l = l + 1u) {
      let a = LL[j + l];
      let bb = LL[j + l + 32u];
      let c = LL[j + l + 64u];
      let e = LL[j + l + 96u];
      put_u8(ql + l, (a & 0xfu) | ((c & 0xfu) << 4u));
      put_u8(ql + l + 32u, (bb & 0xfu) | ((e & 0xfu) << 4u));
      put_u8(qh + l, (a >> 4u) | ((bb >> 4u) << 2u) | ((c >> 4u) << 4u) | ((e >> 4u) << 6u));
    }
  }
}
