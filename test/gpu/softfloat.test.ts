/**
 * softfloat.wgsl, the exact binary32 arithmetic every kernel is built on, against the host's IEEE arithmetic:
 * + - * / sqrt (Math.fround of the double result is the correctly rounded binary32 result for binary32 operands),
 * nearest_int, roundf, truncation, comparisons, and the half conversions, over random bit patterns of every
 * exponent (subnormals, zeros, infinities, NaN) plus cancellation and tie cases. Skipped without an adapter.
 */
import { gpuSkipReason } from '../support/gpu.ts';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { LlamaError } from '../../src/errors.ts';
import { fp16BitsToFp32, fp32BitsToFp16Bits } from '../../src/quant/fp16.ts';
import { openGpu, type OpenedGpu } from '../../src/quant/gpu/device.ts';
import { useRuntimeDir } from './compare.ts';
import { rng } from './data.ts';

useRuntimeDir();

const OUTPUTS = 13;
const HARNESS = /* wgsl */ `
var<private> ZERO: u32;
var<private> ZERO2: u32;
@group(0) @binding(0) var<storage, read> xa: array<u32>;
@group(0) @binding(1) var<storage, read> xb: array<u32>;
@group(0) @binding(2) var<storage, read_write> res: array<u32>;
@group(0) @binding(3) var<uniform> zeros: vec4<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = g.x;
  if (i >= arrayLength(&xa)) { return; }
  ZERO = zeros.x;
  ZERO2 = zeros.y;
  let a = xa[i];
  let b = xb[i];
  let o = i * ${OUTPUTS}u;
  res[o] = f_add(a, b);
  res[o + 1u] = f_sub(a, b);
  res[o + 2u] = f_mul(a, b);
  res[o + 3u] = f_div(a, b);
  res[o + 4u] = f_sqrt(a);
  res[o + 5u] = bitcast<u32>(nearest_int(a));
  res[o + 6u] = bitcast<u32>(f_roundf_i32(a));
  res[o + 7u] = bitcast<u32>(f_to_i32_trunc(a));
  res[o + 8u] = select(0u, 1u, f_lt(a, b)) | select(0u, 2u, f_eq(a, b)) | select(0u, 4u, f_gt(a, b));
  res[o + 9u] = f32_to_f16_bits(a);
  res[o + 10u] = f16_to_f32_bits(b & 0xffffu);
  // a*b+c and a*b-c patterns a compiler would like to fuse into one fma
  let c = xb[(i + 1u) % arrayLength(&xb)];
  res[o + 11u] = f_add(f_mul(a, b), c);
  res[o + 12u] = f_sub(f_mul(a, b), f_mul(c, a));
}`;

let gpu: OpenedGpu | undefined;
let skipReason = '';
before(async () => {
  try {
    gpu = await openGpu({ allowSoftware: true });
  } catch (error) {
    if (!(error instanceof LlamaError) || error.exitCode !== 7) throw error;
    skipReason = gpuSkipReason(error);
  }
});
after(() => gpu?.device.destroy());

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const fromBits = (u: number): number => {
  u32[0] = u;
  return f32[0]!;
};
const toBits = (x: number): number => {
  f32[0] = x;
  return u32[0]!;
};
const isNaNBits = (u: number): boolean => (u & 0x7fffffff) > 0x7f800000;

function inputs(n: number): [Uint32Array, Uint32Array] {
  const r = rng(12345);
  const a = new Uint32Array(n);
  const b = new Uint32Array(n);
  const rand32 = (): number => Math.floor(r() * 4294967296) >>> 0;
  const special = [0, 0x80000000, 1, 0x80000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000,
    0x3f800000, 0xbf800000, 0x3f000000, 0x4b400000, 0x3fc00000, 0x40200000, 0x7fc00000];
  for (let i = 0; i < n; i++) {
    const k = i % 8;
    if (i < special.length * special.length) {
      a[i] = special[i % special.length]!;
      b[i] = special[Math.floor(i / special.length)]!;
    } else if (k === 0) {
      // near-cancellation: b is -a with a few low bits changed
      a[i] = rand32();
      b[i] = (a[i]! ^ 0x80000000 ^ (rand32() & 0xff)) >>> 0;
    } else if (k === 1) {
      // products and quotients around the subnormal boundary
      a[i] = (((rand32() & 0x80000000) | ((40 + (rand32() % 60)) << 23) | (rand32() & 0x7fffff)) >>> 0);
      b[i] = (((rand32() & 0x80000000) | ((40 + (rand32() % 60)) << 23) | (rand32() & 0x7fffff)) >>> 0);
    } else if (k === 2) {
      // small integers and halves: ties for roundf / nearest_int, exact conversions
      a[i] = toBits((Math.floor(r() * 512) - 256) / 2);
      b[i] = toBits(Math.floor(r() * 64) + 1);
    } else if (k === 3) {
      // subnormal operands
      a[i] = ((rand32() & 0x807fffff) >>> 0);
      b[i] = rand32();
    } else {
      a[i] = rand32();
      b[i] = rand32();
    }
  }
  return [a, b];
}

test('softfloat.wgsl matches IEEE binary32 with round-to-nearest-even and subnormals', async (t) => {
  if (gpu === undefined) return t.skip(skipReason);
  const { device } = gpu;
  const n = 40000;
  const [a, b] = inputs(n);
  const softfloat = readFileSync(new URL('../../src/quant/gpu/softfloat.wgsl', import.meta.url), 'utf8');
  const module = device.createShaderModule({ code: softfloat + HARNESS });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const mk = (data: Uint32Array): GPUBuffer => {
    const buf = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buf, 0, data);
    return buf;
  };
  const ba = mk(a);
  const bb = mk(b);
  const zeros = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(zeros, 0, new Uint32Array(4));
  const out = device.createBuffer({ size: n * OUTPUTS * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: n * OUTPUTS * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: ba } }, { binding: 1, resource: { buffer: bb } }, { binding: 2, resource: { buffer: out } }, { binding: 3, resource: { buffer: zeros } }],
  }));
  pass.dispatchWorkgroups(Math.ceil(n / 64));
  pass.end();
  enc.copyBufferToBuffer(out, 0, read, 0, n * OUTPUTS * 4);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const res = new Uint32Array(read.getMappedRange().slice(0));
  read.unmap();

  const names = ['add', 'sub', 'mul', 'div', 'sqrt'];
  const failures: string[] = [];
  const check = (i: number, k: number, want: number, name: string): void => {
    const got = res[i * OUTPUTS + k]!;
    const ok = isNaNBits(want) ? isNaNBits(got) : got === want >>> 0;
    if (!ok && failures.length < 10) {
      failures.push(`${name}(0x${a[i]!.toString(16)}, 0x${b[i]!.toString(16)}): gpu 0x${got.toString(16)} want 0x${(want >>> 0).toString(16)}`);
    }
  };
  for (let i = 0; i < n; i++) {
    const x = fromBits(a[i]!);
    const y = fromBits(b[i]!);
    const exact = [x + y, x - y, x * y, x / y, Math.sqrt(x)];
    for (let k = 0; k < 5; k++) check(i, k, toBits(Math.fround(exact[k]!)), names[k]!);
    if (Number.isFinite(x) && Math.abs(x) < 4194303) {
      // ggml nearest_int: binary32 x + 12582912.f, low mantissa bits
      check(i, 5, (toBits(Math.fround(x + 12582912)) & 0x7fffff) - 0x400000, 'nearest_int');
    }
    if (Number.isFinite(x) && Math.abs(x) < 2 ** 30) {
      check(i, 6, x >= 0 ? Math.floor(x + 0.5) : -Math.floor(0.5 - x), 'roundf');
      check(i, 7, Math.trunc(x), 'trunc');
    }
    if (!Number.isNaN(x) && !Number.isNaN(y)) check(i, 8, (x < y ? 1 : 0) | (x === y ? 2 : 0) | (x > y ? 4 : 0), 'compare');
    else check(i, 8, 0, 'compare');
    check(i, 9, fp32BitsToFp16Bits(a[i]!), 'f32_to_f16');
    check(i, 10, toBits(fp16BitsToFp32(b[i]! & 0xffff)), 'f16_to_f32');
    const z = fromBits(b[(i + 1) % n]!);
    check(i, 11, toBits(Math.fround(Math.fround(x * y) + z)), 'mul-add');
    check(i, 12, toBits(Math.fround(Math.fround(x * y) - Math.fround(z * x))), 'mul-sub');
  }
  for (const x of [ba, bb, zeros, out, read]) x.destroy();
  assert.deepEqual(failures, []);
});
