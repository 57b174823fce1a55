/**
 * The GPU quantizer: WGSL kernels (this folder's *.wgsl) run through Dawn, byte-identical to the CPU quantizers.
 *
 * API
 * - `createGpuQuantizer({ limits?, allowSoftware?, chunkBytes? })` → `GpuQuantizer`:
 *   - `quantizeRows(type, src, rowLength, nRows)`: `src = { dtype: 'F32' | 'F16' | 'BF16', bytes }` holds the rows
 *     as stored (little-endian); resolves to the `nRows` rows in `type`, exactly the bytes the CPU path writes.
 *   - `supports(type)`, `adapterInfo`, `limits` (the limits in force), `stats.dispatches`, `destroy()`.
 * - `GPU_TYPES`: the output types with a kernel.
 *
 * How it runs: the tensor is cut into chunks of whole blocks that fit the device limits (maxStorageBufferBindingSize,
 * maxBufferSize for source and destination; maxComputeWorkgroupsPerDimension, with a 2-D grid past it) and
 * `chunkBytes`. Two slots (source, destination, mappable read-back buffer) alternate, so the upload and dispatch of
 * chunk i+1 overlap the read-back of chunk i. `limits` can lower the adapter's limits, which tests use to force
 * several dispatches and a 2-D grid.
 *
 * The kernel sources are read at run time from next to this module, so the build must copy src/quant/gpu/*.wgsl
 * into dist/src/quant/gpu/.
 */
import { readFileSync } from 'node:fs';
import { EnvironmentError, UsageError } from '../../errors.ts';
import { GGML_TYPES, rowSizeBytes, type FloatTypeName, type GgmlTypeName } from '../types.ts';
import { openGpu, type GpuAdapterInfo } from './device.ts';


export interface GpuSource {
  dtype: FloatTypeName;
  /** The rows as stored, little-endian, nRows * rowLength elements. */
  bytes: Uint8Array;
}

export interface GpuLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupsPerDimension: number;
}

export interface GpuQuantizerOptions {
  /** Lower the adapter's limits (never raise them): tests use this to force several dispatches. */
  limits?: Partial<GpuLimits>;
  /** Accept a software adapter (llvmpipe, SwiftShader). Default true: `--device gpu` runs on whatever exists. */
  allowSoftware?: boolean;
  /** Upper bound on the source bytes of one dispatch (default 64 MiB: enough blocks to fill a large GPU, one
   *  invocation per block; smaller chunks pipeline sooner). */
  chunkBytes?: number;
}

export interface GpuQuantizer {
  readonly adapterInfo: GpuAdapterInfo;
  readonly limits: GpuLimits;
  /** Dispatches issued so far (tests check that lowered limits split a tensor). */
  readonly stats: { dispatches: number };
  supports(type: GgmlTypeName): boolean;
  quantizeRows(type: GgmlTypeName, src: GpuSource, rowLength: number, nRows: number): Promise<Uint8Array>;
  destroy(): void;
}

interface KernelSpec {
  /** Kernel files after softfloat.wgsl and common.wgsl. */
  files: string[];
  constants?: Record<string, number>;
}

/** Output type → kernel file (and pipeline constants). */
const KERNELS: Partial<Record<GgmlTypeName, KernelSpec>> = {
  F32: { files: ['float.wgsl'], constants: { OUT_KIND: 0, TYPE_SIZE: 4 } },
  F16: { files: ['float.wgsl'], constants: { OUT_KIND: 1, TYPE_SIZE: 2 } },
  BF16: { files: ['float.wgsl'], constants: { OUT_KIND: 2, TYPE_SIZE: 2 } },
  Q8_0: { files: ['q8_0.wgsl'] },
  Q4_0: { files: ['q4_0.wgsl'] },
  Q4_1: { files: ['q4_1.wgsl'] },
  Q5_0: { files: ['q5_0.wgsl'] },
  Q5_1: { files: ['q5_1.wgsl'] },
  Q2_K: { files: ['kquant_common.wgsl', 'q2_k.wgsl'] },
  Q3_K: { files: ['kquant_common.wgsl', 'q3_k.wgsl'] },
  Q4_K: { files: ['kquant_common.wgsl', 'q4_k.wgsl'] },
  Q5_K: { files: ['kquant_common.wgsl', 'q5_k.wgsl'] },
  Q6_K: { files: ['kquant_common.wgsl', 'q6_k.wgsl'] },
};

export const GPU_TYPES: readonly GgmlTypeName[] = Object.freeze(Object.keys(KERNELS) as GgmlTypeName[]);

const DTYPE_CODE: Record<FloatTypeName, number> = { F32: 0, F16: 1, BF16: 2 };
const DTYPE_SIZE: Record<FloatTypeName, number> = { F32: 4, F16: 2, BF16: 2 };
const WORKGROUP = 64;
const PARAMS_BYTES = 16;

function readKernel(file: string): string {
  const url = new URL(`./${file}`, import.meta.url);
  try {
    return readFileSync(url, 'utf8');
  } catch (error) {
    throw new EnvironmentError('GPU_KERNEL_MISSING', `The GPU kernel source ${file} is missing next to the quantizer (${url.pathname}).`, {
      hint: 'The installation is incomplete: reinstall llama-dist (a build must copy src/quant/gpu/*.wgsl into dist/src/quant/gpu/), or use --device cpu.',
      cause: error,
    });
  }
}

/** Full WGSL module: the shared softfloat and I/O code, then the type's kernel files. */
export function kernelSource(files: readonly string[]): string {
  return ['softfloat.wgsl', 'common.wgsl', ...files].map(readKernel).join('\n');
}

const align4 = (n: number): number => Math.ceil(n / 4) * 4;

interface Slot {
  src: GPUBuffer;
  dst: GPUBuffer;
  read: GPUBuffer;
  params: GPUBuffer;
  bindGroup: GPUBindGroup;
  /** Settles when this slot's last read-back has been copied out. */
  busy: Promise<void>;
}

export async function createGpuQuantizer(options: GpuQuantizerOptions = {}): Promise<GpuQuantizer> {
  const { device, info } = await openGpu({ allowSoftware: options.allowSoftware ?? true });
  const dl = device.limits;
  const lower = (name: keyof GpuLimits): number => Math.min(dl[name], options.limits?.[name] ?? Infinity);
  const limits: GpuLimits = {
    maxStorageBufferBindingSize: lower('maxStorageBufferBindingSize'),
    maxBufferSize: lower('maxBufferSize'),
    maxComputeWorkgroupsPerDimension: lower('maxComputeWorkgroupsPerDimension'),
  };
  const chunkBytes = Math.max(4096, options.chunkBytes ?? 64 * 1024 * 1024);
  // the largest buffer any chunk may use
  const maxBuffer = Math.floor(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / 4) * 4;

  const layout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } },
      { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } },
      { binding: 2, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
    ],
  });
  const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
  const pipelines = new Map<GgmlTypeName, Promise<GPUComputePipeline>>();
  let slots: Slot[] = [];
  let slotSrcBytes = 0;
  let slotDstBytes = 0;
  let destroyed = false;
  let queue: Promise<unknown> = Promise.resolve();
  const stats = { dispatches: 0 };
  let lostReason: string | undefined;
  void device.lost.then((info) => {
    if (!destroyed) lostReason = info.message || info.reason;
  });

  function pipelineFor(type: GgmlTypeName): Promise<GPUComputePipeline> {
    let p = pipelines.get(type);
    if (p === undefined) {
      const spec = KERNELS[type];
      if (spec === undefined) throw new Error(`no GPU kernel for ${type}`);
      const module = device.createShaderModule({ code: kernelSource(spec.files), label: type });
      p = device.createComputePipelineAsync({
        layout: pipelineLayout,
        compute: { module, entryPoint: 'main', ...(spec.constants ? { constants: spec.constants } : {}) },
      }).catch(async (error: unknown) => {
        // a kernel that does not compile is a bug: say where
        const info = await module.getCompilationInfo();
        const lines = info.messages.map((m) => `${m.type} ${m.lineNum}:${m.linePos} ${m.message}`);
        throw new Error(`GPU kernel for ${type} failed to build: ${(error as Error).message}\n${lines.join('\n')}`);
      });
      pipelines.set(type, p);
    }
    return p;
  }

  function ensureSlots(srcBytes: number, dstBytes: number): void {
    if (slots.length > 0 && srcBytes <= slotSrcBytes && dstBytes <= slotDstBytes) return;
    for (const s of slots) {
      s.src.destroy();
      s.dst.destroy();
      s.read.destroy();
      s.params.destroy();
    }
    slotSrcBytes = Math.max(srcBytes, slotSrcBytes);
    slotDstBytes = Math.max(dstBytes, slotDstBytes);
    slots = [0, 1].map(() => {
      const src = device.createBuffer({ size: slotSrcBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      const dst = device.createBuffer({ size: slotDstBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      const read = device.createBuffer({ size: slotDstBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const params = device.createBuffer({ size: PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      const bindGroup = device.createBindGroup({
        layout,
        entries: [
          { binding: 0, resource: { buffer: src } },
          { binding: 1, resource: { buffer: dst } },
          { binding: 2, resource: { buffer: params } },
        ],
      });
      return { src, dst, read, params, bindGroup, busy: Promise.resolve() };
    });
  }

  async function run(type: GgmlTypeName, src: GpuSource, rowLength: number, nRows: number): Promise<Uint8Array> {
    const t = GGML_TYPES[type];
    if (KERNELS[type] === undefined) {
      throw new UsageError('GPU_TYPE_UNSUPPORTED', `The GPU quantizer has no kernel for ${type}.`, {
        hint: `Use --device cpu for ${type}; the GPU handles ${GPU_TYPES.join(', ')}.`,
        details: { type },
      });
    }
    const outBytes = rowSizeBytes(type, rowLength) * nRows;
    const esz = DTYPE_SIZE[src.dtype];
    const nElements = rowLength * nRows;
    if (src.bytes.byteLength !== nElements * esz) {
      throw new UsageError('GPU_SOURCE_SIZE', `The ${src.dtype} source holds ${src.bytes.byteLength} bytes, expected ${nElements * esz} for ${nRows} rows of ${rowLength}.`, {
        hint: 'Pass the tensor bytes exactly as stored, rows × row length elements.',
        details: { bytes: src.bytes.byteLength, rowLength, nRows, dtype: src.dtype },
      });
    }
    const out = new Uint8Array(outBytes);
    const nBlocks = nElements / t.blockSize;
    if (nBlocks === 0) return out;

    // Blocks per chunk: within every buffer limit, the dispatch grid and chunkBytes; even, so that F16/BF16
    // sources of one-element blocks stay 4-byte aligned.
    const srcPerBlock = t.blockSize * esz;
    const maxGrid = limits.maxComputeWorkgroupsPerDimension;
    let perChunk = Math.min(
      Math.floor(maxBuffer / Math.max(srcPerBlock, t.typeSize + 4)),
      Math.floor(chunkBytes / srcPerBlock),
      maxGrid * maxGrid * WORKGROUP,
    );
    if (perChunk >= 2) perChunk -= perChunk % 2;
    if (perChunk < 1) {
      throw new EnvironmentError('GPU_LIMITS_TOO_SMALL', `The GPU's buffer limit (${maxBuffer} bytes) cannot hold one ${type} block.`, {
        hint: 'Use --device cpu.',
        details: { limits },
      });
    }
    perChunk = Math.min(perChunk, nBlocks);
    ensureSlots(align4(perChunk * srcPerBlock), align4(perChunk * t.typeSize + 4));
    const pipeline = await pipelineFor(type);

    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let failure: unknown;
    try {
      await dispatchAll();
    } catch (error) {
      failure = error;
    }
    // pop both scopes whatever happened, so the next tensor starts clean
    const validation = await device.popErrorScope().catch(() => null);
    const oom = await device.popErrorScope().catch(() => null);
    if (lostReason !== undefined) {
      throw new EnvironmentError('GPU_DEVICE_LOST', `The GPU device was lost while quantizing to ${type}: ${lostReason}`, {
        hint: 'The driver reset the GPU (a watchdog timeout or a driver fault). Retry, or use --device cpu.',
        cause: failure,
      });
    }
    if (oom !== null) {
      throw new EnvironmentError('GPU_OUT_OF_MEMORY', `The GPU ran out of memory quantizing to ${type}: ${oom.message}`, {
        hint: 'Close other GPU programs, or use --device cpu.',
      });
    }
    if (validation !== null) throw new Error(`WebGPU validation error in the ${type} kernel: ${validation.message}`);
    if (failure !== undefined) throw failure;
    return out;

    async function dispatchAll(): Promise<void> {
      const params = new Uint32Array(PARAMS_BYTES / 4);
      let index = 0;
      for (let b0 = 0; b0 < nBlocks; b0 += perChunk, index++) {
        const nb = Math.min(perChunk, nBlocks - b0);
        const slot = slots[index % 2]!;
        await slot.busy; // read-back of the chunk that used this slot two steps ago is done
        const srcStart = b0 * srcPerBlock;
        const srcLen = nb * srcPerBlock;
        let chunk = src.bytes.subarray(srcStart, srcStart + srcLen);
        // writeBuffer wants 4-byte multiples and an ArrayBuffer (the worker pool's sources live in SharedArrayBuffers)
        if (srcLen % 4 !== 0 || chunk.byteOffset % 4 !== 0 || !(chunk.buffer instanceof ArrayBuffer)) {
          const padded = new Uint8Array(align4(srcLen));
          padded.set(chunk);
          chunk = padded;
        }
        device.queue.writeBuffer(slot.src, 0, chunk.buffer, chunk.byteOffset, chunk.byteLength);
        params[0] = nb;
        params[1] = DTYPE_CODE[src.dtype];
        device.queue.writeBuffer(slot.params, 0, params);

        const dstLen = nb * t.typeSize;
        const readLen = align4(dstLen);
        const groups = Math.ceil(nb / WORKGROUP);
        const gx = Math.min(groups, maxGrid);
        const gy = Math.ceil(groups / gx);
        const enc = device.createCommandEncoder();
        enc.clearBuffer(slot.dst, 0, align4(dstLen + 4));
        const pass = enc.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, slot.bindGroup);
        pass.dispatchWorkgroups(gx, gy);
        stats.dispatches++;
        pass.end();
        enc.copyBufferToBuffer(slot.dst, 0, slot.read, 0, readLen);
        device.queue.submit([enc.finish()]);
        const outOffset = b0 * t.typeSize;
        const busy = slot.read.mapAsync(GPUMapMode.READ, 0, readLen).then(() => {
          out.set(new Uint8Array(slot.read.getMappedRange(0, readLen), 0, dstLen), outOffset);
          slot.read.unmap();
        });
        busy.catch(() => undefined); // awaited later; never an unhandled rejection
        slot.busy = busy;
      }
      await Promise.all(slots.map((s) => s.busy));
    }
  }

  return {
    adapterInfo: info,
    limits,
    stats,
    supports: (type) => KERNELS[type] !== undefined,
    quantizeRows(type, src, rowLength, nRows) {
      if (destroyed) return Promise.reject(new Error('GPU quantizer used after destroy()'));
      // one tensor at a time: the slots are shared
      const result = queue.then(() => run(type, src, rowLength, nRows));
      queue = result.catch(() => undefined);
      return result;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      device.destroy();
    },
  };
}
