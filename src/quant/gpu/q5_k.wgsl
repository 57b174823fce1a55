// q5_k.wgsl: ggml quantize_row_q5_K_ref (ggml-quants.c; shared/research/gguf.md §4).
// Block: f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128].
//
// Exactness: see kquant_common.wgsl: binary32 softfloat on u32 bits (one rounding per C operator, no fusion, no
// reassociation, subnormals kept; sqrtf correctly rounded by an integer square root), sequential sums in reference
// order, nearest_int via a real +12582912.f addition.

const BLOCK: u32 = 256u;
const TYPE_SIZE: u32 = 176u;

fn quantize_block(b: u32) {
  load_superblock(b);
  k4_common(31, 0xbf000000u, 15); // make_qkx2_quants(32, 31, ..., -0.5f, 0.1f, 15, false)
  var ql = 48u;
  var m1 = 1u;
  var m2 = 2u;
  for (var n = ZERO; n < 256u; n = n + 64u) {
    for (var j = ZERO; j < 32u; j = j + 1u) {
      var l1 = LL[n + j];
      if (l1 > 15u) { l1 = l1 - 16u; put_u8(16u + j, m1); }
      var l2 = LL[n + j + 32u];
      if (l2 > 15u) { l2 = l2 - 16u; put_u8(16u + j, m2); }
      put_u8(ql + j, l1 | (l2 << 4u));
    }
    m1 = m1 << 2u;
    m2 = m2 << 2u;
    ql = ql + 32u;
  }
}
