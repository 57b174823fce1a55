// q4_k.wgsl: ggml quantize_row_q4_K_ref (ggml-quants.c; shared/research/gguf.md §4).
// Block: f16 d; f16 dmin; u8 scales[12]; u8 qs[128].
//
// Exactness: see kquant_common.wgsl: binary32 softfloat on u32 bits (one rounding per C operator, no fusion, no
// reassociation, subnormals kept; sqrtf correctly rounded by an integer square root), sequential sums in reference
// order, nearest_int via a real +12582912.f addition.

const BLOCK: u32 = 256u;
const TYPE_SIZE: u32 = 144u;

fn quantize_block(b: u32) {
  load_superblock(b);
  k4_common(15, 0xbf800000u, 20); // make_qkx2_quants(32, 15, ..., -1.f, 0.1f, 20, false)
  var q = 16u;
  for (var j = ZERO; j < 256u; j = j + 64u) {
    for (var l = ZERO; l < 32u; l = l + 1u) { put_u8(q + l, LL[j + l] | (LL[j + l + 32u] << 4u)); }
    q = q + 32u;
  }
}
