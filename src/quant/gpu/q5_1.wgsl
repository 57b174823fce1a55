// q5_1.wgsl: ggml quantize_row_q5_1_ref (ggml-quants.c; shared/research/gguf.md §3).
// Block: f16 d; f16 m; u8 qh[4]; u8 qs[16].
//
// Exactness: all float operations are softfloat.wgsl calls on binary32 bits in C order; the (uint8_t) cast
// truncates on the bits and keeps the low byte (no MIN clamp in the reference).

const BLOCK: u32 = 32u;
const TYPE_SIZE: u32 = 24u;

fn quantize_block(b: u32) {
  let x0 = b * BLOCK;
  var mn = 0x7f7fffffu;  // FLT_MAX
  var mx = 0xff7fffffu;  // -FLT_MAX
  for (var j = 0u; j < 32u; j = j + 1u) {
    let v = load(x0 + j);
    if (f_lt(v, mn)) { mn = v; }
    if (f_gt(v, mx)) { mx = v; }
  }
  let d = f_div(f_sub(mx, mn), 0x41f80000u); // / 31
  var id = 0u;
  if (!f_is_zero(d)) { id = f_div(0x3f800000u, d); }
  put_u16(0u, f32_to_f16_bits(d));
  put_u16(2u, f32_to_f16_bits(mn));
  var qh = 0u;
  for (var j = 0u; j < 16u; j = j + 1u) {
    let a = f_mul(f_sub(load(x0 + j), mn), id);
    let c = f_mul(f_sub(load(x0 + 16u + j), mn), id);
    let xi0 = bitcast<u32>(f_to_i32_trunc(f_add(a, 0x3f000000u))) & 0xffu; // + 0.5f
    let xi1 = bitcast<u32>(f_to_i32_trunc(f_add(c, 0x3f000000u))) & 0xffu;
    put_u8(8u + j, (xi0 & 0xfu) | ((xi1 & 0xfu) << 4u));
    qh = qh | (((xi0 & 0x10u) >> 4u) << j);
    qh = qh | (((xi1 & 0x10u) >> 4u) << (j + 16u));
  }
  put_u16(4u, qh);
  put_u16(6u, qh >> 16u);
}
