// q3_k.wgsl: ggml quantize_row_q3_K_ref (ggml-quants.c; shared/research/gguf.md §4).
// Block: u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d.
//
// Exactness: see kquant_common.wgsl: binary32 softfloat on u32 bits (one rounding per C operator, no fusion, no
// reassociation, subnormals kept), sequential sums in reference order, nearest_int via a real +12582912.f addition;
// the int8_t store of nearest_int wraps before the clamp, as in C.

const BLOCK: u32 = 256u;
const TYPE_SIZE: u32 = 110u;

fn quantize_block(b: u32) {
  load_superblock(b);
  var max_scale = 0u;
  var amax = 0u;
  for (var j = ZERO; j < 16u; j = j + 1u) {
    let s = make_q3(16u, 4, 16u * j, 16u * j);
    SC[j] = s;
    let a = f_abs(s);
    if (f_gt(a, amax)) { amax = a; max_scale = s; }
  }
  if (!f_is_zero(max_scale)) {
    let iscale = f_div(0xc2000000u, max_scale); // -32 / max_scale
    for (var j = ZERO; j < 16u; j = j + 1u) {
      var l = to_i8(nearest_int(f_mul(iscale, SC[j])));
      l = clampi(l, -32, 31) + 32;
      let lu = bitcast<u32>(l);
      if (j < 8u) {
        set_u8(96u + j, lu & 0xfu);
      } else {
        set_u8(88u + j, get_u8(88u + j) | ((lu & 0xfu) << 4u));
      }
      let k = 104u + (j % 4u);
      set_u8(k, get_u8(k) | ((lu >> 4u) << (2u * (j / 4u))));
    }
    put_u16(108u, f32_to_f16_bits(f_div(F_ONE, iscale)));
  }
  let d_all = f16_to_f32_bits(get_u16(108u));
  for (var j = ZERO; j < 16u; j = j + 1u) {
    var sc: u32;
    if (j < 8u) { sc = get_u8(96u + j) & 0xfu; } else { sc = get_u8(88u + j) >> 4u; }
    let s = i32(sc | (((get_u8(104u + (j % 4u)) >> (2u * (j / 4u))) & 3u) << 4u)) - 32;
    let d = f_mul(d_all, fi(s));
    if (f_is_zero(d)) { continue; }
    for (var ii = ZERO; ii < 16u; ii = ii + 1u) {
      let l = clampi(nearest_int(f_div(xs[16u * j + ii], d)), -4, 3);
      LL[16u * j + ii] = u32(l + 4);
    }
  }
  var m = 0u;
  var hm = 1u;
  for (var j = ZERO; j < 256u; j = j + 1u) {
    if (LL[j] > 3u) {
      set_u8(m, get_u8(m) | hm);
      LL[j] = LL[j] - 4u;
    }
    m = m + 1u;
    if (m == 32u) { m = 0u; hm = hm << 1u; }
  }
  pack2bit(32u);
}
