// float.wgsl: F32 / F16 / BF16 outputs (one element per invocation).
//
// Exactness: no float arithmetic at all. The source is widened to binary32 bits exactly (common.wgsl), then
// narrowed with the integer round-half-to-even conversions of softfloat.wgsl (f32_to_f16_bits is ggml's
// ggml_compute_fp32_to_fp16, f32_to_bf16_bits its ggml_compute_fp32_to_bf16, quiet-NaN rule included).

override OUT_KIND: u32 = 0u; // 0 = F32, 1 = F16, 2 = BF16
const BLOCK: u32 = 1u;
override TYPE_SIZE: u32 = 4u;

fn quantize_block(b: u32) {
  let v = load(b);
  if (OUT_KIND == 0u) {
    ob[0] = v;
  } else if (OUT_KIND == 1u) {
    ob[0] = f32_to_f16_bits(v);
  } else {
    ob[0] = f32_to_bf16_bits(v);
  }
}
