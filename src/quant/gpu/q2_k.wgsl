// q2_k.wgsl: ggml quantize_row_q2_K_ref (ggml-quants.c; shared/research/gguf.md §4).
// Block: u8 scales[16]; u8 qs[64]; f16 d; f16 dmin.
//
// Exactness: see kquant_common.wgsl: binary32 softfloat on u32 bits (one rounding per C operator, no fusion, no
// reassociation, subnormals kept), sequential sums in reference order, nearest_int via a real +12582912.f addition.

const BLOCK: u32 = 256u;
const TYPE_SIZE: u32 = 84u;

fn quantize_block(b: u32) {
  load_superblock(b);
  var max_scale = 0u;
  var max_min = 0u;
  for (var j = ZERO; j < 16u; j = j + 1u) {
    for (var l = ZERO; l < 16u; l = l + 1u) { WW[l] = f_abs(xs[16u * j + l]); }
    let scale = make_qkx2(16u, 3, 16u * j, 16u * j, 0xbf000000u, F_0_1, 15, true); // rmin -0.5f
    SC[j] = scale;
    MN[j] = qkx2_the_min;
    if (f_gt(scale, max_scale)) { max_scale = scale; }
    if (f_gt(qkx2_the_min, max_min)) { max_min = qkx2_the_min; }
  }
  if (f_gt(max_scale, 0u)) {
    let iscale = f_div(0x41700000u, max_scale); // 15 / max_scale
    for (var j = ZERO; j < 16u; j = j + 1u) { set_u8(j, bitcast<u32>(nearest_int(f_mul(iscale, SC[j])))); }
    put_u16(80u, f32_to_f16_bits(f_div(max_scale, 0x41700000u)));
  }
  if (f_gt(max_min, 0u)) {
    let iscale = f_div(0x41700000u, max_min);
    for (var j = ZERO; j < 16u; j = j + 1u) {
      set_u8(j, get_u8(j) | (bitcast<u32>(nearest_int(f_mul(iscale, MN[j]))) << 4u));
    }
    put_u16(82u, f32_to_f16_bits(f_div(max_min, 0x41700000u)));
  }
  let d_all = f16_to_f32_bits(get_u16(80u));
  let d_min = f16_to_f32_bits(get_u16(82u));
  for (var j = ZERO; j < 16u; j = j + 1u) {
    let sc = get_u8(j);
    let d = f_mul(d_all, fu(sc & 0xfu));
    if (f_is_zero(d)) { continue; }
    let dm = f_mul(d_min, fu(sc >> 4u));
    for (var ii = ZERO; ii < 16u; ii = ii + 1u) {
      let l = clampi(nearest_int(f_div(f_add(xs[16u * j + ii], dm), d)), 0, 3);
      LL[16u * j + ii] = u32(l);
    }
  }
  pack2bit(16u);
}
