// q8_0.wgsl: ggml quantize_row_q8_0_ref (ggml-quants.c; shared/research/gguf.md §3). Block: f16 d; i8 qs[32].
//
// Exactness: every float operation is a softfloat.wgsl call on binary32 bits (one correctly rounded result per C
// operator, subnormals kept, nothing the compiler may fuse, reassociate or flush). roundf is done on the bits
// (half away from zero); amax/127 and 1/d are correctly rounded divisions, as in the reference.

const BLOCK: u32 = 32u;
const TYPE_SIZE: u32 = 34u;

fn quantize_block(b: u32) {
  let x0 = b * BLOCK;
  var amax = 0u;
  for (var j = 0u; j < 32u; j = j + 1u) {
    let a = f_abs(load(x0 + j));
    if (!f_gt(amax, a)) { amax = a; } // amax = MAX(amax, fabsf(v))
  }
  let d = f_div(amax, 0x42fe0000u); // / 127.0f
  var id = 0u;
  if (!f_is_zero(d)) { id = f_div(0x3f800000u, d); }
  put_u16(0u, f32_to_f16_bits(d));
  for (var j = 0u; j < 32u; j = j + 1u) {
    let q = f_roundf_i32(f_mul(load(x0 + j), id));
    put_u8(2u + j, bitcast<u32>(q));
  }
}
