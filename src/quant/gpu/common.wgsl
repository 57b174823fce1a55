// common.wgsl: bindings, source loading and block output shared by every quantization kernel.
//
// Each invocation quantizes one block (BLOCK source elements -> TYPE_SIZE bytes), exactly like one iteration of
// ggml's quantize_row_*_ref loop, so sums run sequentially in the reference order. Sources arrive as stored
// (F32, F16 or BF16 bits) and are widened to binary32 bits with integer operations (exact). Block sizes of 18, 22,
// 34, 110 or 210 bytes leave two blocks sharing a 32-bit word, so blocks are assembled in a private word buffer and
// merged into the (cleared) output with atomicOr, which is exact and order-independent.

struct Params {
  n_blocks: u32,
  src_dtype: u32, // 0 = F32, 1 = F16, 2 = BF16
  zero: u32,  // always 0; see ZERO
  zero2: u32, // always 0; see ZERO2 (softfloat.wgsl)
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> params: Params;

// Always 0 at run time, but unknown to the compiler: loops start from it so that drivers do not unroll them.
// Unrolled softfloat loops made the k-quant pipelines take tens of seconds to compile on llvmpipe; it changes no
// result (integer code has no rounding freedom).
var<private> ZERO: u32;
// A second run-time 0 that the compiler cannot prove equal to ZERO (softfloat.wgsl's fusion barrier).
var<private> ZERO2: u32;

// Element i of this dispatch's source chunk, as binary32 bits.
fn load(i: u32) -> u32 {
  if (params.src_dtype == 0u) { return src[i]; }
  let h = (src[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu;
  if (params.src_dtype == 1u) { return f16_to_f32_bits(h); }
  return h << 16u;
}

// Output block under construction: up to 256 bytes, little-endian packed.
var<private> ob: array<u32, 64>;

fn ob_clear() {
  for (var i = 0u; i < 64u; i = i + 1u) { ob[i] = 0u; }
}
fn put_u8(byte_index: u32, v: u32) {
  ob[byte_index >> 2u] = ob[byte_index >> 2u] | ((v & 0xffu) << ((byte_index & 3u) * 8u));
}
fn put_u16(byte_index: u32, v: u32) {
  put_u8(byte_index, v);
  put_u8(byte_index + 1u, v >> 8u);
}

// Merge the finished block `b` (type_size bytes, even) into dst at byte b * type_size.
fn emit(b: u32, type_size: u32) {
  let base = b * type_size;
  let w0 = base >> 2u;
  let nw = (type_size + 3u) / 4u;
  if ((base & 3u) == 0u) {
    for (var i = 0u; i < nw; i = i + 1u) { atomicOr(&dst[w0 + i], ob[i]); }
  } else {
    // starts half-way into a word: every word straddles two destination words
    for (var i = 0u; i < nw; i = i + 1u) {
      let v = ob[i];
      atomicOr(&dst[w0 + i], v << 16u);
      let hi = v >> 16u;
      if (hi != 0u) { atomicOr(&dst[w0 + i + 1u], hi); }
    }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let b = gid.x + gid.y * nwg.x * 64u;
  if (b >= params.n_blocks) { return; }
  ZERO = params.zero;
  ZERO2 = params.zero2;
  ob_clear();
  quantize_block(b);
  emit(b, TYPE_SIZE);
}
