// q4_0.wgsl: ggml quantize_row_q4_0_ref (ggml-quants.c; shared/research/gguf.md §3). Block: f16 d; u8 qs[16].
//
// Exactness: all float operations are softfloat.wgsl calls on binary32 bits, one rounding per C operator and in C
// order: x*id is rounded before +8.5 is added (ggml-base has no FMA; a fused version differs in ~0.03 % of
// blocks). The (int8_t) cast truncates on the bits; MIN(15, ·) is taken on the signed value as in C.

const BLOCK: u32 = 32u;
const TYPE_SIZE: u32 = 18u;

fn quantize_block(b: u32) {
  let x0 = b * BLOCK;
  var amax = 0u;
  var mx = 0u;
  for (var j = 0u; j < 32u; j = j + 1u) {
    let v = load(x0 + j);
    let a = f_abs(v);
    if (f_lt(amax, a)) { amax = a; mx = v; }
  }
  let d = f_div(mx, 0xc1000000u); // max / -8
  var id = 0u;
  if (!f_is_zero(d)) { id = f_div(0x3f800000u, d); }
  put_u16(0u, f32_to_f16_bits(d));
  for (var j = 0u; j < 16u; j = j + 1u) {
    let a = f_mul(load(x0 + j), id);
    let c = f_mul(load(x0 + 16u + j), id);
    let xi0 = min(15, to_i8(f_to_i32_trunc(f_add(a, 0x41080000u)))); // + 8.5f
    let xi1 = min(15, to_i8(f_to_i32_trunc(f_add(c, 0x41080000u))));
    put_u8(2u + j, (bitcast<u32>(xi0) & 0xffu) | (bitcast<u32>(xi1) << 4u));
  }
}
