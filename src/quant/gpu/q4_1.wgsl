// q4_1.wgsl: ggml quantize_row_q4_1_ref (ggml-quants.c; shared/research/gguf.md §3). Block: f16 d; f16 m; u8 qs[16].
//
// Exactness: all float operations are softfloat.wgsl calls on binary32 bits in C order ((x - min) rounded, times id
// rounded, + 0.5f rounded, then truncated on the bits); min/max scans use C's comparisons from ±FLT_MAX.

const BLOCK: u32 = 32u;
const TYPE_SIZE: u32 = 20u;

fn quantize_block(b: u32) {
  let x0 = b * BLOCK;
  var mn = 0x7f7fffffu;  // FLT_MAX
  var mx = 0xff7fffffu;  // -FLT_MAX
  for (var j = 0u; j < 32u; j = j + 1u) {
    let v = load(x0 + j);
    if (f_lt(v, mn)) { mn = v; }
    if (f_gt(v, mx)) { mx = v; }
  }
  let d = f_div(f_sub(mx, mn), 0x41700000u); // / 15
  var id = 0u;
  if (!f_is_zero(d)) { id = f_div(0x3f800000u, d); }
  put_u16(0u, f32_to_f16_bits(d));
  put_u16(2u, f32_to_f16_bits(mn));
  for (var j = 0u; j < 16u; j = j + 1u) {
    let a = f_mul(f_sub(load(x0 + j), mn), id);
    let c = f_mul(f_sub(load(x0 + 16u + j), mn), id);
    let xi0 = min(15, to_i8(f_to_i32_trunc(f_add(a, 0x3f000000u)))); // + 0.5f
    let xi1 = min(15, to_i8(f_to_i32_trunc(f_add(c, 0x3f000000u))));
    put_u8(4u + j, (bitcast<u32>(xi0) & 0xffu) | (bitcast<u32>(xi1) << 4u));
  }
}
