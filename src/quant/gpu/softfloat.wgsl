// softfloat.wgsl: IEEE-754 binary32 arithmetic on u32 bit patterns, shared by every quantization kernel.
//
// Why integer arithmetic instead of WGSL's f32: the reference quantizers (ggml-base, x86-64 SSE, see
// shared/research/gguf.md §2) round once per C operator in binary32 with subnormals kept. WGSL promises none of
// that: division is only accurate to 2.5 ulp, a driver may contract a*b+c into one fma, it may reassociate or flush
// subnormals to zero (llvmpipe sets FTZ/DAZ), and there is no roundf. A bitcast round trip does not stop contraction
// (compilers drop it: the IR is untyped), so the kernels never use f32 arithmetic at all. Every operation below
// takes and returns the binary32 bits as u32 and rounds exactly once, to nearest-even, with subnormals, like SSE
// without FTZ/DAZ. Integer operations have no rounding freedom, so the compiler cannot change a result.
//
// Conventions: `f_*` functions take/return bits. NaN results: an operand NaN is returned quieted (first operand
// first), an invalid operation gives the x86 default NaN 0xFFC00000. Finite inputs never reach those paths in the
// quantizers except through overflow to infinity.

const F_SIGN: u32 = 0x80000000u;
const F_ABS: u32 = 0x7fffffffu;
const F_INF: u32 = 0x7f800000u;
const F_DEFAULT_NAN: u32 = 0xffc00000u;

fn f_is_nan(a: u32) -> bool { return (a & F_ABS) > F_INF; }
fn f_is_zero(a: u32) -> bool { return (a & F_ABS) == 0u; }
fn f_abs(a: u32) -> u32 { return a & F_ABS; }
fn f_neg(a: u32) -> u32 { return a ^ F_SIGN; }

// Total order key for non-NaN values with -0 == +0.
fn f_key(a: u32) -> u32 {
  var x = a;
  if ((x & F_ABS) == 0u) { x = 0u; }
  if ((x & F_SIGN) != 0u) { return ~x; }
  return x | F_SIGN;
}
// a < b, a > b, a == b as C evaluates them (false when either is NaN).
fn f_lt(a: u32, b: u32) -> bool {
  if (f_is_nan(a) || f_is_nan(b)) { return false; }
  return f_key(a) < f_key(b);
}
fn f_gt(a: u32, b: u32) -> bool { return f_lt(b, a); }
fn f_eq(a: u32, b: u32) -> bool {
  if (f_is_nan(a) || f_is_nan(b)) { return false; }
  return f_key(a) == f_key(b);
}

// Shift right keeping a sticky bit ("jamming") so that rounding still sees the discarded bits.
fn shr_jam(x: u32, n: u32) -> u32 {
  if (n == 0u) { return x; }
  if (n >= 32u) { return select(0u, 1u, x != 0u); }
  let lost = (x << (32u - n)) != 0u;
  return (x >> n) | select(0u, 1u, lost);
}

// Round and pack. `sig` holds the significand with its leading bit at bit 30 (or lower when e == 1 and the result
// is subnormal) and 7 extra bits below the result's last bit; `e` is the biased exponent the leading bit stands for.
fn round_pack(s: u32, e_in: i32, sig_in: u32) -> u32 {
  var e = e_in;
  var sig = sig_in;
  if (e <= 0) {
    sig = shr_jam(sig, u32(1 - e));
    e = 1;
  }
  if (e >= 255) { return s | F_INF; }
  let round_bits = sig & 0x7fu;
  var m = (sig + 0x40u) >> 7u;
  if (round_bits == 0x40u) { m = m & ~1u; }
  // ((e - 1) << 23) + m: a carry out of the significand bumps the exponent, a subnormal m leaves it at 0.
  let r = (u32(e - 1) << 23u) + m;
  if (r >= F_INF) { return s | F_INF; }
  return s | r;
}

fn quiet(a: u32) -> u32 { return a | 0x00400000u; }

fn sf_add(a: u32, b: u32) -> u32 {
  if (f_is_nan(a)) { return quiet(a); }
  if (f_is_nan(b)) { return quiet(b); }
  let sa = a & F_SIGN;
  let sb = b & F_SIGN;
  let ea = i32((a >> 23u) & 0xffu);
  let eb = i32((b >> 23u) & 0xffu);
  if (ea == 255 || eb == 255) {
    if (ea == 255 && eb == 255) {
      if (sa != sb) { return F_DEFAULT_NAN; }
      return a;
    }
    if (ea == 255) { return a; }
    return b;
  }
  if (f_is_zero(a) && f_is_zero(b)) {
    // +0 + -0 = +0 under round-to-nearest; equal signs keep theirs.
    return sa & sb;
  }
  if (f_is_zero(a)) { return b; }
  if (f_is_zero(b)) { return a; }
  // order by magnitude so that x is the larger
  var x = a;
  var y = b;
  if ((b & F_ABS) > (a & F_ABS)) { x = b; y = a; }
  let sx = x & F_SIGN;
  var ex = i32((x >> 23u) & 0xffu);
  var ey = i32((y >> 23u) & 0xffu);
  var mx = (x & 0x7fffffu) << 7u;
  var my = (y & 0x7fffffu) << 7u;
  if (ex == 0) { ex = 1; } else { mx = mx | 0x40000000u; }
  if (ey == 0) { ey = 1; } else { my = my | 0x40000000u; }
  my = shr_jam(my, u32(ex - ey));
  if ((x & F_SIGN) == (y & F_SIGN)) {
    var sig = mx + my;
    var e = ex;
    if (sig >= 0x80000000u) {
      sig = shr_jam(sig, 1u);
      e = e + 1;
    }
    return round_pack(sx, e, sig);
  }
  let sig = mx - my;
  if (sig == 0u) { return 0u; }
  // normalise so the leading bit is at bit 30; round_pack shifts back if that takes e below 1
  let lz = i32(countLeadingZeros(sig)) - 1;
  return round_pack(sx, ex - lz, sig << u32(lz));
}

// Fast path: the hardware's f32 + and * where that is provably the correctly rounded result. WGSL (and Vulkan's
// SPIR-V precision rules) make addition and multiplication correctly rounded; what they allow besides is flushing
// subnormals and contracting a*b+c into an fma. So the hardware result is used only when both operands and the
// result are normal (exponent field 1..254 resp. 2..253: nothing to flush, no overflow), and every operand and result
// passes through an integer xor with ZERO / ZERO2: both are 0 at run time but two different uniform values to the
// compiler, so it can neither see a multiply feeding an add (no fusion) nor cancel the xors, fold constants or
// reassociate across calls. Everything else (zeros, subnormals, infinities, NaN, overflow) goes to the integer path.
fn hw_ok(a: u32) -> bool { return ((a >> 23u) & 0xffu) - 1u < 254u; }
fn hw_res_ok(r: u32) -> bool { return ((r >> 23u) & 0xffu) - 2u < 252u; }

// ±0 + x = x and x + ±0 = x exactly for finite nonzero x; ±0 * finite = signed zero: integer shortcuts for the
// zeros that sums start from, kept off the slow path.
fn finite_nonzero(a: u32) -> bool { return (a & F_ABS) - 1u < 0x7f7fffffu; }

fn f_add(a: u32, b: u32) -> u32 {
  if (hw_ok(a) && hw_ok(b)) {
    let r = bitcast<u32>(bitcast<f32>(a ^ ZERO2) + bitcast<f32>(b ^ ZERO2)) ^ ZERO;
    if (hw_res_ok(r)) { return r; }
  } else if (f_is_zero(a) && finite_nonzero(b)) {
    return b;
  } else if (f_is_zero(b) && finite_nonzero(a)) {
    return a;
  }
  return sf_add(a, b);
}

fn f_mul(a: u32, b: u32) -> u32 {
  if (hw_ok(a) && hw_ok(b)) {
    let r = bitcast<u32>(bitcast<f32>(a ^ ZERO2) * bitcast<f32>(b ^ ZERO2)) ^ ZERO;
    if (hw_res_ok(r)) { return r; }
  } else if ((f_is_zero(a) && (b & F_ABS) < F_INF) || (f_is_zero(b) && (a & F_ABS) < F_INF)) {
    return (a ^ b) & F_SIGN;
  }
  return sf_mul(a, b);
}

fn f_sub(a: u32, b: u32) -> u32 {
  if (f_is_nan(b)) {
    if (f_is_nan(a)) { return quiet(a); }
    return quiet(b);
  }
  return f_add(a, b ^ F_SIGN);
}

// Unpack a finite nonzero value into a significand with the leading bit at bit 23 and an unbounded biased exponent.
struct Unpacked { e: i32, m: u32 }
fn unpack_norm(a: u32) -> Unpacked {
  let e = i32((a >> 23u) & 0xffu);
  let f = a & 0x7fffffu;
  if (e != 0) { return Unpacked(e, f | 0x800000u); }
  let sh = i32(countLeadingZeros(f)) - 8;
  return Unpacked(1 - sh, f << u32(sh));
}

// 24 x 24 -> 48-bit product as (lo, hi) words.
fn mul_24x24(a: u32, b: u32) -> vec2<u32> {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let ll = al * bl;
  let mid = al * bh + ah * bl; // < 2^25, no overflow
  let hh = ah * bh;
  let lo = ll + (mid << 16u);
  let carry = select(0u, 1u, lo < ll);
  let hi = hh + (mid >> 16u) + carry;
  return vec2<u32>(lo, hi);
}

fn sf_mul(a: u32, b: u32) -> u32 {
  if (f_is_nan(a)) { return quiet(a); }
  if (f_is_nan(b)) { return quiet(b); }
  let s = (a ^ b) & F_SIGN;
  let a_inf = (a & F_ABS) == F_INF;
  let b_inf = (b & F_ABS) == F_INF;
  if (a_inf || b_inf) {
    if (f_is_zero(a) || f_is_zero(b)) { return F_DEFAULT_NAN; }
    return s | F_INF;
  }
  if (f_is_zero(a) || f_is_zero(b)) { return s; }
  let ua = unpack_norm(a);
  let ub = unpack_norm(b);
  let p = mul_24x24(ua.m, ub.m); // in [2^46, 2^48)
  var e = ua.e + ub.e - 127;
  // take bits so the leading one lands at bit 30, jamming everything below
  var sig: u32;
  if ((p.y & 0x8000u) != 0u) {
    // p >> 17
    sig = (p.y << 15u) | (p.x >> 17u);
    sig = sig | select(0u, 1u, (p.x & 0x1ffffu) != 0u);
    e = e + 1;
  } else {
    sig = (p.y << 16u) | (p.x >> 16u);
    sig = sig | select(0u, 1u, (p.x & 0xffffu) != 0u);
  }
  return round_pack(s, e, sig);
}

fn f_div(a: u32, b: u32) -> u32 {
  if (f_is_nan(a)) { return quiet(a); }
  if (f_is_nan(b)) { return quiet(b); }
  let s = (a ^ b) & F_SIGN;
  let a_inf = (a & F_ABS) == F_INF;
  let b_inf = (b & F_ABS) == F_INF;
  if (a_inf) {
    if (b_inf) { return F_DEFAULT_NAN; }
    return s | F_INF;
  }
  if (b_inf) { return s; }
  if (f_is_zero(b)) {
    if (f_is_zero(a)) { return F_DEFAULT_NAN; }
    return s | F_INF;
  }
  if (f_is_zero(a)) { return s; }
  let ua = unpack_norm(a);
  let ub = unpack_norm(b);
  var r = ua.m;
  var e = ua.e - ub.e + 127;
  if (r < ub.m) {
    r = r << 1u;
    e = e - 1;
  }
  // restoring long division: 31 quotient bits, leading bit at bit 30; the remainder makes the sticky bit
  var q = 0u;
  for (var i = ZERO; i < 31u; i = i + 1u) {
    q = q << 1u;
    if (r >= ub.m) {
      r = r - ub.m;
      q = q | 1u;
    }
    r = r << 1u;
  }
  q = q | select(0u, 1u, r != 0u);
  return round_pack(s, e, q);
}

fn f_sqrt(a: u32) -> u32 {
  if (f_is_nan(a)) { return quiet(a); }
  if (f_is_zero(a)) { return a; }
  if ((a & F_SIGN) != 0u) { return F_DEFAULT_NAN; }
  if (a == F_INF) { return a; }
  let u = unpack_norm(a);
  let E = u.e - 127;
  // radicand R = m * 2^23 (E even) or m * 2^24 (E odd), a 48-bit number whose root lies in [2^23, 2^24)
  var lo: u32;
  var hi: u32;
  if ((E & 1) == 0) {
    lo = u.m << 23u;
    hi = u.m >> 9u;
  } else {
    lo = u.m << 24u;
    hi = u.m >> 8u;
  }
  var rem = 0u;
  var root = 0u;
  for (var i = 23i + i32(ZERO); i >= 0i; i = i - 1i) {
    let bit = u32(2 * i);
    var pair: u32;
    if (bit >= 32u) { pair = (hi >> (bit - 32u)) & 3u; } else { pair = (lo >> bit) & 3u; }
    rem = (rem << 2u) | pair;
    let trial = (root << 2u) | 1u;
    if (rem >= trial) {
      rem = rem - trial;
      root = (root << 1u) | 1u;
    } else {
      root = root << 1u;
    }
  }
  // (root + 1/2)^2 = root^2 + root + 1/4, and a square root is never exactly halfway: round up iff rem > root
  let m = root + select(0u, 1u, rem > root);
  let eb = (E >> 1u) + 127;
  return (u32(eb - 1) << 23u) + m;
}

// Exact conversion of a small integer (|i| < 2^24) to binary32.
fn f_from_i32(i: i32) -> u32 {
  if (i == 0) { return 0u; }
  let s = select(0u, F_SIGN, i < 0);
  let m = u32(abs(i));
  let lz = countLeadingZeros(m);
  let e = 127u + 31u - lz;
  let frac = (m << (lz + 1u)) >> 9u; // drop the leading one, keep 23 bits
  return s | (e << 23u) | frac;
}

// C's float -> int conversion: truncation toward zero. NaN and out-of-range values give 0x80000000 (x86 cvttss2si).
fn f_to_i32_trunc(a: u32) -> i32 {
  let e = i32((a >> 23u) & 0xffu);
  if (e >= 127 + 31) { return bitcast<i32>(0x80000000u); }
  if (e < 127) { return 0; }
  let m = (a & 0x7fffffu) | 0x800000u;
  var v: u32;
  if (e - 127 >= 23) { v = m << u32(e - 127 - 23); } else { v = m >> u32(23 - (e - 127)); }
  if ((a & F_SIGN) != 0u) { return -i32(v); }
  return i32(v);
}

// roundf: round half away from zero, to an integer (|result| < 2^31 for the values the quantizers pass).
fn f_roundf_i32(a: u32) -> i32 {
  let e = i32((a >> 23u) & 0xffu);
  if (e >= 127 + 31) { return bitcast<i32>(0x80000000u); }
  if (e < 126) { return 0; } // |a| < 0.5
  let m = (a & 0x7fffffu) | 0x800000u;
  var v: u32;
  if (e - 127 >= 23) {
    v = m << u32(e - 127 - 23);
  } else {
    // add half of the last kept unit, then truncate: ties go away from zero
    let sh = u32(23 - (e - 127)); // 1..24
    v = (m + (1u << (sh - 1u))) >> sh;
  }
  if ((a & F_SIGN) != 0u) { return -i32(v); }
  return i32(v);
}

// C's (int8_t) store of an int: keep the low byte, sign-extended.
fn to_i8(v: i32) -> i32 { return (v << 24u) >> 24u; }

// ggml's nearest_int: fval + 12582912.f (one binary32 addition), then the low mantissa bits (round half to even).
fn nearest_int(fv: u32) -> i32 {
  let v = f_add(fv, 0x4b400000u);
  return i32(v & 0x007fffffu) - 0x00400000;
}

// binary32 -> binary16 bits, round half to even, subnormals exact, overflow -> inf, NaN -> 0x7E00 with the sign
// (ggml-impl.h ggml_compute_fp32_to_fp16).
fn f32_to_f16_bits(u: u32) -> u32 {
  let sign = (u >> 16u) & 0x8000u;
  let a = u & F_ABS;
  if (a >= 0x477ff000u) {
    return sign | select(0x7c00u, 0x7e00u, a > F_INF);
  }
  if (a >= 0x38800000u) {
    let m = a - 0x38000000u;
    let h = m >> 13u;
    let rem = m & 0x1fffu;
    let up = rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0u);
    return sign | (h + select(0u, 1u, up));
  }
  if (a < 0x33000000u) { return sign; }
  let e = a >> 23u;
  let mant = (a & 0x7fffffu) | 0x800000u;
  let sh = 126u - e;
  let h = mant >> sh;
  let rem = mant & ((1u << sh) - 1u);
  let half = 1u << (sh - 1u);
  let up = rem > half || (rem == half && (h & 1u) != 0u);
  return sign | (h + select(0u, 1u, up));
}

// binary16 bits -> binary32 bits, exact.
fn f16_to_f32_bits(h: u32) -> u32 {
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 31u) { return sign | F_INF | (m << 13u); }
  if (e != 0u) { return sign | ((e + 112u) << 23u) | (m << 13u); }
  if (m == 0u) { return sign; }
  // subnormal half: normalise
  let lz = countLeadingZeros(m) - 22u; // leading one of a 10-bit field
  let mm = (m << (lz + 1u)) & 0x3ffu;
  return sign | ((113u - lz - 1u) << 23u) | (mm << 13u);
}

// binary32 bits -> bfloat16 bits (ggml_compute_fp32_to_bf16): quiet NaN, else round half to even.
fn f32_to_bf16_bits(u: u32) -> u32 {
  if ((u & F_ABS) > F_INF) { return ((u >> 16u) | 64u) & 0xffffu; }
  return ((u + (0x7fffu + ((u >> 16u) & 1u))) >> 16u) & 0xffffu;
}
