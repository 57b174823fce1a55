/**
 * `llama quantize` as a library call: a Hugging Face Llama checkpoint or an F32/F16/BF16 GGUF → a GGUF of the asked
 * type, streamed tensor by tensor (bounded memory), written under a temporary name and renamed when complete.
 *
 * What the output equals (the exactness contract, tested against llama.cpp's own files):
 * - GGUF input: `llama-quantize [--pure] in.gguf out.gguf TYPE` — KVs copied in order with general.quantization_version
 *   and general.file_type moved to the end, tensors in llama-quantize's order (layer number, then name), the per-tensor
 *   type choice of src/quant/choose.ts, the reference quantizers, 32-byte padding. We add no KVs of our own.
 * - Hugging Face input, TYPE F32/F16/BF16: `convert_hf_to_gguf.py --outtype f32|f16|bf16` (tensor order, names,
 *   Q/K permutation, KVs incl. tokenizer, license and lineage from the model card).
 * - Hugging Face input, any other TYPE: `convert_hf_to_gguf.py --outtype f32` followed by `llama-quantize` (the lossless
 *   route: BF16/F16 weights become float32 exactly, never rounded through F16 first).
 *
 * Devices (`device`): the CPU path (worker pool) or the GPU quantizer of src/quant/gpu/, which writes the same bytes.
 * The device is chosen once (`selectQuantDevice`). On the GPU every tensor whose target type has a kernel is sent as
 * stored (F32/F16/BF16) and its blocks are written by the same GGUF writer; same-type copies skip the quantizer and
 * types without a kernel take the CPU path. The NaN/Inf check runs on the source bytes on both paths.
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { EnvironmentError, IntegrityError, LlamaError, UsageError } from '../errors.ts';
import { withAtomicPath } from '../fs/atomic.ts';
import { ggmlNbytes, GgufWriter, type GgufKv, type GgufTensorPlan } from '../formats/gguf.ts';
import { resolveCacheDir } from '../hub/config.ts';
import { noProgress, type ProgressSink } from '../progress/events.ts';
import { chooseTensorType } from '../quant/choose.ts';
import type { GpuQuantizer } from '../quant/gpu/runner.ts';
import { selectQuantDevice, type QuantDeviceChoice } from '../quant/gpu/select.ts';
import { QuantPool } from '../quant/pool.ts';
import { GGML_TYPES, parseFtype, rowSizeBytes, type GgmlTypeName, type LlamaFtype } from '../quant/types.ts';
import { cachedSnapshot } from '../hub/cache.ts';
import { parseRepoRef } from '../hub/ids.ts';
import { isGgufFile, openGgufSource, openHfSource, tensorRows, type ModelSource, type SourceTensor } from './source.ts';

export type QuantizeDevice = 'auto' | 'cpu' | 'gpu';

export interface QuantizeOptions {
  /** HF checkpoint directory, GGUF file, or a repo id already pulled into the cache (`org/name[@revision]`). */
  input: string;
  /** F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K (+ aliases). */
  type: string;
  /** Default `<model-name>-<TYPE>.gguf` in `cwd`. */
  out?: string;
  /** Worker threads; default all cores. The bytes do not depend on it. */
  threads?: number;
  /** llama-quantize --pure: every quantizable tensor gets the type's default block type. */
  pure?: boolean;
  device?: QuantizeDevice;
  /** GPU path: source bytes per quantizer call (default 32 MiB); tests lower it to cut tensors into many chunks. */
  gpuChunkBytes?: number;
  cwd?: string;
  /** Hugging Face cache directory for repo-id inputs (default HF_HUB_CACHE / HF_HOME / ~/.cache/huggingface/hub). */
  cacheDir?: string;
  onProgress?: ProgressSink;
  /** Abort between chunks: the temporary file is removed and nothing is written at `out`. */
  signal?: AbortSignal;
}

export interface QuantizedTensor {
  name: string;
  ne: number[];
  type: GgmlTypeName;
  sourceType: GgmlTypeName;
  /** Set when the row length forced llama-quantize's fallback from this type. */
  fallbackFrom?: GgmlTypeName;
}

export interface QuantizeResult {
  out: string;
  type: string;
  fileType: number;
  /** 'convert' = convert_hf_to_gguf.py semantics; 'quantize' = llama-quantize semantics. */
  mode: 'convert' | 'quantize';
  input: { kind: 'hf' | 'gguf'; path: string };
  bytes: number;
  tensors: QuantizedTensor[];
  threads: number;
  /** Where the quantizers ran. */
  device: 'cpu' | 'gpu';
  /** The adapter, when the GPU was used. */
  adapter?: QuantizeAdapter;
  /** One line: the device chosen and why (e.g. why `auto` chose the CPU). */
  deviceNote: string;
}

export interface QuantizeAdapter {
  name: string;
  backend: string;
  vendor: string;
  /** A software renderer (llvmpipe/lavapipe, SwiftShader): only `--device gpu` uses one. */
  software: boolean;
}

/** Elements per chunk: large enough to split across workers, small enough to keep memory bounded (~16 MB of f32). */
const CHUNK_ELEMENTS = 1 << 22;

/** Where a repo id (`org/name[@revision]`) pulled into the HF cache lives: snapshots/<commit of refs/<revision>>. */
function resolveRepoId(input: string, cacheDir: string | undefined): { dir: string; name: string } | undefined {
  const ref = parseRepoRef(input);
  if (ref === undefined) return undefined;
  const snapshot = cachedSnapshot(cacheDir ?? resolveCacheDir(undefined), ref.repo, ref.revision);
  return snapshot === undefined ? undefined : { dir: snapshot.dir, name: ref.repo.split('/')[1]! };
}

export async function openModelSource(input: string, cwd: string, cacheDir?: string): Promise<ModelSource> {
  const path = resolve(cwd, input);
  let info;
  try {
    info = await stat(path);
  } catch {
    const cached = resolveRepoId(input, cacheDir);
    if (cached !== undefined) return openHfSource(cached.dir, cached.name);
    throw new UsageError('QUANTIZE_INPUT_NOT_FOUND', `${input} is neither a file, a directory nor a repo pulled into the cache`, {
      hint: 'Pass a Hugging Face checkpoint directory, an F32/F16/BF16 .gguf file, or run `llama pull <repo>` first.',
      details: { input },
    });
  }
  if (info.isDirectory()) return openHfSource(path);
  if (await isGgufFile(path)) return openGgufSource(path);
  throw new UsageError('QUANTIZE_INPUT_KIND', `${input} is not a GGUF file or a checkpoint directory`, {
    hint: 'Pass a Hugging Face checkpoint directory or an F32/F16/BF16 .gguf file.',
    details: { input: path },
  });
}

/** llama-model-loader weight_name_comparer: layer number from `blk.%d.` (others -1), then byte order of the name. */
export function llamaQuantizeOrder<T extends { name: string }>(tensors: readonly T[]): T[] {
  const layer = (name: string): number => {
    const m = /^blk\.(-?\d+)\./.exec(name);
    return m === null ? -1 : Number(m[1]);
  };
  const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
  return [...tensors].sort((a, b) => layer(a.name) - layer(b.name) || Buffer.compare(bytes(a.name), bytes(b.name)));
}

interface Planned {
  source: SourceTensor;
  type: GgmlTypeName;
  /** The intermediate type the chosen type is made from (convert --outtype f32 makes every HF tensor F32). */
  baseType: GgmlTypeName;
  nDims?: number;
  fallbackFrom?: GgmlTypeName;
}

const FLOAT_FTYPES = new Set(['F32', 'F16', 'BF16']);

/** Decide every tensor's output type and the KVs, without touching tensor data. */
export function planQuantization(source: ModelSource, ftype: LlamaFtype, pure: boolean): { mode: 'convert' | 'quantize'; kvs: GgufKv[]; tensors: Planned[] } {
  if (source.kind === 'hf' && FLOAT_FTYPES.has(ftype.name)) {
    // convert_hf_to_gguf.py prepare_tensors: 1-D tensors, norms and non-weights stay F32; the rest get --outtype.
    const tensors = source.tensors.map((t): Planned => {
      const keepF32 = t.nDims <= 1 || t.name.endsWith('_norm.weight') || !t.name.endsWith('.weight');
      return { source: t, type: keepF32 ? 'F32' : ftype.defaultType, baseType: t.type, nDims: t.nDims };
    });
    return { mode: 'convert', kvs: source.kvs(ftype.id), tensors };
  }
  const drop = new Set(['general.quantization_version', 'general.file_type', 'split.no', 'split.count', 'split.tensors.count']);
  const kvs = source.kvs(0).filter((k) => !drop.has(k.key));
  kvs.push({ key: 'general.quantization_version', value: { type: 4, value: 2 } });
  kvs.push({ key: 'general.file_type', value: { type: 4, value: ftype.id } });
  const tensors = llamaQuantizeOrder(source.tensors).map((t): Planned => {
    const baseType: GgmlTypeName = source.kind === 'hf' ? 'F32' : t.type;
    const choice = chooseTensorType({ name: t.name, shape: t.ne, type: baseType }, ftype, source.facts, { pure });
    const planned: Planned = { source: t, type: choice.type, baseType };
    if (choice.fallbackFrom !== undefined) planned.fallbackFrom = choice.fallbackFrom;
    return planned;
  });
  return { mode: 'quantize', kvs, tensors };
}

/** Words per block of the NaN/Inf scan: a block with a hit is scanned again element by element. */
const NONFINITE_BLOCK = 4096;

/**
 * Index of the first NaN/Inf element of raw F32/F16/BF16 data, or -1. An element is NaN/Inf when its exponent bits
 * are all ones; adding the exponent's lowest bit then carries into the sign bit. So one and, one add and one or per
 * 32-bit word (two halves at once for F16/BF16) test a whole block, and only a block with a hit is looked at again.
 * (On the GPU path this check is most of the main thread's work.)
 */
function firstNonFinite(type: GgmlTypeName, bytes: Uint8Array): number {
  const f32 = type === 'F32';
  const exponent = f32 ? 0x7f800000 : type === 'F16' ? 0x7c007c00 : 0x7f807f80;
  const lowBit = f32 ? 0x00800000 : type === 'F16' ? 0x04000400 : 0x00800080;
  const sign = f32 ? 0x80000000 : 0x80008000;
  const halfExponent = type === 'F16' ? 0x7c00 : 0x7f80;
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 2);
  for (let b = 0; b < words.length; b += NONFINITE_BLOCK) {
    const end = Math.min(b + NONFINITE_BLOCK, words.length);
    let any = 0;
    for (let i = b; i < end; i++) any |= (words[i]! & exponent) + lowBit;
    if ((any & sign) !== 0) return firstNonFiniteIn(f32, halfExponent, aligned, b * 4, end * 4);
  }
  return firstNonFiniteIn(f32, halfExponent, aligned, words.length * 4, aligned.length);
}

/** Element by element (little-endian) over bytes [from, to): the first element whose exponent is all ones (halfExponent: F16/BF16). */
function firstNonFiniteIn(f32: boolean, halfExponent: number, bytes: Uint8Array, from: number, to: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (f32) {
    for (let o = from; o + 3 < to; o += 4) if ((view.getUint32(o, true) & 0x7f800000) === 0x7f800000) return o >> 2;
    return -1;
  }
  for (let o = from; o + 1 < to; o += 2) if ((view.getUint16(o, true) & halfExponent) === halfExponent) return o >> 1;
  return -1;
}

function nonFiniteError(t: SourceTensor, index: number): IntegrityError {
  return new IntegrityError('QUANTIZE_NONFINITE', `tensor ${t.name} in ${basename(t.file)} holds NaN or Inf (element ${index})`, {
    hint: 'The weights are corrupt or the model diverged in training; llama.cpp refuses such tensors too. Re-download or fix the checkpoint.',
    details: { file: t.file, tensor: t.name, element: index },
  });
}

/**
 * Shared-memory buffers reused for every chunk: the pool's workers read the source and write the result in place.
 * (Fresh SharedArrayBuffers per chunk stay referenced from the worker isolates until their garbage collector runs,
 * which it rarely does: memory grew with the model size, 3 GB for a 2 GB model.) Three source slots and two
 * destination slots let chunk k+1 be read while chunk k is converted and chunk k-1 written.
 */
class SharedScratch {
  private readonly slots = new Map<string, Uint8Array>();

  get(kind: 'src' | 'dst', index: number, length: number): Uint8Array {
    const key = `${kind}${index}`;
    let buffer = this.slots.get(key);
    if (buffer === undefined || buffer.length < length) {
      buffer = new Uint8Array(new SharedArrayBuffer(length));
      this.slots.set(key, buffer);
    }
    return buffer.subarray(0, length);
  }
}

interface Chunk {
  bytes: Uint8Array;
  type: GgmlTypeName;
  row: number;
  count: number;
}

/**
 * One tensor in its output type, chunk by chunk into `emit`, pipelined: the read of chunk k+1 (libuv), the conversion
 * of chunk k (pool workers) and the write of chunk k-1 (libuv) run at the same time; memory stays a few chunks.
 */
async function produceTensor(
  p: Planned, pool: QuantPool, scratch: SharedScratch, emit: (bytes: Uint8Array) => Promise<void>, signal?: AbortSignal,
): Promise<void> {
  const t = p.source;
  const rows = tensorRows(t);
  if (rows === 0) return;
  const rowLength = t.ne[0]!;
  const perChunk = Math.max(t.rowAlign, Math.floor(CHUNK_ELEMENTS / rowLength / t.rowAlign) * t.rowAlign);
  const raw = t.readRawRows;
  const srcRowBytes = rowLength * (raw !== undefined ? GGML_TYPES[t.type].typeSize : 4);
  const outRowBytes = rowSizeBytes(p.type, rowLength);
  const read = async (k: number): Promise<Chunk> => {
    const row = k * perChunk;
    const count = Math.min(perChunk, rows - row);
    const target = scratch.get('src', k % 3, count * srcRowBytes);
    if (raw !== undefined) return { bytes: await raw(row, count, target), type: t.type, row, count };
    const f32 = await t.readRows(row, count);
    target.set(new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength));
    return { bytes: target, type: 'F32', row, count };
  };
  const chunks = Math.ceil(rows / perChunk);
  let next: Promise<Chunk> | undefined = read(0);
  let writing: Promise<void> = Promise.resolve();
  try {
    for (let k = 0; k < chunks; k++) {
      if (signal?.aborted) throw interrupted();
      const chunk: Chunk = await next!;
      // slot (k+1) % 3 last held chunk k-2, whose write finished before chunk k-1's began
      next = k + 1 < chunks ? read(k + 1) : undefined;
      next?.catch(() => {}); // observed when awaited; keeps an early failure from being reported as unhandled
      const bad = firstNonFinite(chunk.type, chunk.bytes);
      if (bad >= 0) throw nonFiniteError(t, chunk.row * rowLength + bad);
      const out =
        chunk.type === p.type
          ? chunk.bytes
          : await pool.convert({
              srcType: chunk.type as 'F32' | 'F16' | 'BF16',
              src: chunk.bytes,
              dstType: p.type,
              rowLength,
              dst: scratch.get('dst', k % 2, chunk.count * outRowBytes),
            });
      await writing;
      writing = emit(out);
    }
    await writing;
  } finally {
    // never leave a read or write running into the next tensor's buffers
    await Promise.allSettled([next, writing]);
  }
}

/**
 * Source bytes per GPU call: large enough to fill a big GPU (one invocation per block), small enough that the few
 * chunks in flight stay a bounded amount of memory (~4 × 32 MiB of sources plus their results).
 */
const GPU_CHUNK_BYTES_DEFAULT = 32 << 20;
/** GPU results waiting to be written while the next chunk is read and quantized: double-buffered and then some. */
const GPU_IN_FLIGHT = 2;

/**
 * Source buffers for the GPU path, reused in turn (fresh 32 MiB buffers per chunk cost the main thread page faults
 * and garbage collection). Four suffice: when chunk g is read, at most chunks g-2 and g-1 wait to be written (and the
 * quantizer is done with a chunk's source once its call resolves), chunk g-3 was written before chunk g-1 was queued.
 */
class GpuSourceRing {
  private readonly buffers: Uint8Array[] = [];
  private index = 0;

  take(length: number): Uint8Array {
    const i = this.index++ % (GPU_IN_FLIGHT + 2);
    let buffer = this.buffers[i];
    if (buffer === undefined || buffer.length < length) {
      buffer = new Uint8Array(length);
      this.buffers[i] = buffer;
    }
    return buffer.subarray(0, length);
  }
}

interface GpuChunk {
  bytes: Uint8Array;
  type: 'F32' | 'F16' | 'BF16';
  row: number;
  count: number;
}

/**
 * The tensors of `plan` on the GPU, in order, into `emit`. Chunks of rows go to the quantizer (whose calls queue)
 * and their results are written in order, at most GPU_IN_FLIGHT behind: the read of chunk k+1, the GPU work of chunks
 * k-1..k and the write of chunk k-2 overlap, across tensor boundaries too. A tensor the GPU cannot make goes the CPU
 * way (produceTensor) after everything before it is written.
 */
async function produceOnGpu(
  tensors: readonly Planned[], gpu: GpuQuantizer, pool: QuantPool, scratch: SharedScratch,
  emit: (bytes: Uint8Array) => Promise<void>, chunkBytes: number, signal?: AbortSignal,
): Promise<void> {
  const pending: Promise<Uint8Array>[] = [];
  const ring = new GpuSourceRing();
  const drainTo = async (keep: number): Promise<void> => {
    while (pending.length > keep) await emit(await pending.shift()!);
  };
  let next: Promise<GpuChunk> | undefined;
  try {
    for (const p of tensors) {
      const t = p.source;
      const raw = t.readRawRows;
      const chunkType = raw !== undefined ? t.type : 'F32';
      if (chunkType !== p.type && !gpu.supports(p.type)) {
        await drainTo(0);
        await produceTensor(p, pool, scratch, emit, signal);
        continue;
      }
      const rows = tensorRows(t);
      if (rows === 0) continue;
      const rowLength = t.ne[0]!;
      const srcRowBytes = rowLength * GGML_TYPES[chunkType].typeSize;
      const perChunk = Math.max(t.rowAlign, Math.floor(chunkBytes / srcRowBytes / t.rowAlign) * t.rowAlign);
      const chunks = Math.ceil(rows / perChunk);
      const read = async (k: number): Promise<GpuChunk> => {
        const row = k * perChunk;
        const count = Math.min(perChunk, rows - row);
        if (raw !== undefined) {
          return { bytes: await raw(row, count, ring.take(count * srcRowBytes)), type: t.type as GpuChunk['type'], row, count };
        }
        const f32 = await t.readRows(row, count);
        return { bytes: new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength), type: 'F32', row, count };
      };
      next = read(0);
      for (let k = 0; k < chunks; k++) {
        if (signal?.aborted) throw interrupted();
        const chunk: GpuChunk = await next!;
        next = k + 1 < chunks ? read(k + 1) : undefined;
        next?.catch(() => {}); // observed when awaited
        const bad = firstNonFinite(chunk.type, chunk.bytes);
        if (bad >= 0) throw nonFiniteError(t, chunk.row * rowLength + bad);
        const out = chunk.type === p.type
          ? Promise.resolve(chunk.bytes)
          : gpu.quantizeRows(p.type, { dtype: chunk.type, bytes: chunk.bytes }, rowLength, chunk.count);
        out.catch(() => {}); // observed when drained
        pending.push(out);
        await drainTo(GPU_IN_FLIGHT);
      }
    }
    await drainTo(0);
  } finally {
    // nothing may still run on the GPU or the file when the caller destroys the quantizer or aborts the writer
    await Promise.allSettled([...pending, next]);
  }
}

function interrupted(): LlamaError {
  return new LlamaError('unexpected', 'QUANTIZE_INTERRUPTED', 'quantization was interrupted; nothing was written', {
    hint: 'Run the command again; an interrupted run leaves no partial output.',
  });
}

function defaultOut(source: ModelSource, ftype: LlamaFtype, cwd: string): string {
  return join(cwd, `${source.modelName}-${ftype.name}.gguf`);
}

export async function quantize(options: QuantizeOptions): Promise<QuantizeResult> {
  const onProgress = options.onProgress ?? noProgress;
  const cwd = options.cwd ?? process.cwd();
  const device = options.device ?? 'auto';
  if (device !== 'auto' && device !== 'cpu' && device !== 'gpu') {
    throw new UsageError('QUANTIZE_BAD_DEVICE', `unknown device ${String(device)}`, { hint: 'Use --device auto, cpu or gpu.' });
  }
  const ftype = parseFtype(options.type);
  const threads = options.threads ?? availableParallelism();
  if (!Number.isSafeInteger(threads) || threads < 1) {
    throw new UsageError('QUANTIZE_BAD_THREADS', `--threads must be a positive integer, got ${String(threads)}`, {
      hint: 'Pass --threads N with N ≥ 1, or leave it out to use every core.',
    });
  }
  const gpuChunkBytes = options.gpuChunkBytes ?? GPU_CHUNK_BYTES_DEFAULT;
  if (!Number.isSafeInteger(gpuChunkBytes) || gpuChunkBytes < 1) {
    throw new UsageError('QUANTIZE_BAD_CHUNK', `gpuChunkBytes must be a positive integer, got ${String(gpuChunkBytes)}`, {
      hint: 'Leave it out for the default (32 MiB).',
    });
  }
  const source = await openModelSource(options.input, cwd, options.cacheDir);
  const pool = new QuantPool({ threads });
  const scratch = new SharedScratch();
  let choice: QuantDeviceChoice | undefined;
  try {
    const out = options.out === undefined ? defaultOut(source, ftype, cwd) : resolve(cwd, options.out);
    if (resolve(out) === resolve(source.path)) {
      throw new UsageError('QUANTIZE_OUT_IS_INPUT', `the output ${out} is the input file`, { hint: 'Choose another --out.' });
    }
    const plan = planQuantization(source, ftype, options.pure === true);
    // once for the whole model; `gpu` with no adapter throws exit 7 naming what is missing
    choice = await selectQuantDevice(device);
    onProgress({ type: 'message', level: 'info', text: choice.note });
    const gpu = choice.quantizer;
    for (const p of plan.tensors) {
      // the row length must fit the block of the chosen type (choose.ts falls back; --pure may not)
      rowSizeBytes(p.type, p.source.ne[0]!);
      if (p.fallbackFrom !== undefined) {
        onProgress({ type: 'message', level: 'warn', text: `${p.source.name}: rows of ${p.source.ne[0]} do not fit ${p.fallbackFrom}, using ${p.type} (as llama-quantize does)` });
      }
    }
    const infos: GgufTensorPlan[] = plan.tensors.map((p) => {
      const info: GgufTensorPlan = { name: p.source.name, ne: p.source.ne, type: GGML_TYPES[p.type].id };
      if (p.nDims !== undefined) info.nDims = p.nDims;
      return info;
    });
    const task = 'quantize';
    // progress in bytes of tensor data written (known up front), so a 70B model's few huge tensors still move the bar
    const total = infos.reduce((sum, info) => sum + ggmlNbytes(info.type, info.ne), 0);
    onProgress({ type: 'start', task, label: `${ftype.name} → ${basename(out)}`, unit: 'bytes', total });
    let done = 0;
    try {
      await withAtomicPath(out, async (tmp) => {
        const writer = await GgufWriter.create(tmp, plan.kvs, infos);
        const emit = async (chunk: Uint8Array): Promise<void> => {
          await writer.write(chunk);
          done += chunk.length;
          onProgress({ type: 'advance', task, done, total });
        };
        try {
          if (gpu !== undefined) {
            await produceOnGpu(plan.tensors, gpu, pool, scratch, emit, gpuChunkBytes, options.signal);
          } else {
            for (const p of plan.tensors) await produceTensor(p, pool, scratch, emit, options.signal);
          }
          await writer.close();
        } catch (error) {
          await writer.abort();
          throw error;
        }
      });
    } catch (error) {
      onProgress({ type: 'end', task, ok: false });
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new EnvironmentError('QUANTIZE_DISK_FULL', `no space left to write ${out}`, {
          hint: 'Free disk space or write the output elsewhere with --out.',
          details: { out },
          cause: error,
        });
      }
      throw error;
    }
    onProgress({ type: 'end', task, ok: true, note: `${plan.tensors.length} tensors` });
    const { size } = await stat(out);
    const a = choice.adapter;
    return {
      out,
      type: ftype.name,
      fileType: ftype.id,
      mode: plan.mode,
      input: { kind: source.kind, path: source.path },
      bytes: size,
      tensors: plan.tensors.map((p) => {
        const t: QuantizedTensor = { name: p.source.name, ne: p.source.ne, type: p.type, sourceType: p.source.type };
        if (p.fallbackFrom !== undefined) t.fallbackFrom = p.fallbackFrom;
        return t;
      }),
      threads,
      device: choice.device,
      ...(choice.device === 'gpu' && a !== undefined
        ? { adapter: { name: a.name, backend: a.backend, vendor: a.vendor, software: a.software } }
        : {}),
      deviceNote: choice.note,
    };
  } finally {
    choice?.quantizer?.destroy();
    await pool.close();
    await source.close();
  }
}
