// q5_0.wgsl: ggml quantize_row_q5_0_ref (ggml-quants.c; shared/research/gguf.md §3). Block: f16 d; u8 qh[4]; u8 qs[16].
//
// Exactness: all float operations are softfloat.wgsl calls on binary32 bits in C order (x*id rounded before
// + 16.5f, no FMA), the (int8_t) cast truncates on the bits, MIN(31, ·) on the signed value.

const BLOCK: u32 = 32u;
const TYPE_SIZE: u32 = 22u;

fn quantize_block(b: u32) {
  let x0 = b * BLOCK;
  var amax = 0u;
  var mx = 0u;
  for (var j = 0u; j < 32u; j = j + 1u) {
    let v = load(x0 + j);
    let a = f_abs(v);
    if (f_lt(amax, a)) { amax = a; mx = v; }
  }
  let d = f_div(mx, 0xc1800000u); // max / -16
  var id = 0u;
  if (!f_is_zero(d)) { id = f_div(0x3f800000u, d); }
  put_u16(0u, f32_to_f16_bits(d));
  var qh = 0u;
  for (var j = 0u; j < 16u; j = j + 1u) {
    let a = f_mul(load(x0 + j), id);
    let c = f_mul(load(x0 + 16u + j), id);
    let xi0 = bitcast<u32>(min(31, to_i8(f_to_i32_trunc(f_add(a, 0x41840000u))))) & 0xffu; // + 16.5f
    let xi1 = bitcast<u32>(min(31, to_i8(f_to_i32_trunc(f_add(c, 0x41840000u))))) & 0xffu;
    put_u8(6u + j, (xi0 & 0xfu) | ((xi1 & 0xfu) << 4u));
    qh = qh | (((xi0 & 0x10u) >> 4u) << j);
    qh = qh | (((xi1 & 0x10u) >> 4u) << (j + 16u));
  }
  put_u16(2u, qh);
  put_u16(4u, qh >> 16u);
}
