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
import type { ModelSource } from '../convert/source.ts';
import { EnvironmentError, UsageError } from '../errors.ts';
import { withAtomicPath } from '../fs/atomic.ts';
import { ggmlNbytes, GgufWriter, type GgufTensorPlan } from '../formats/gguf.ts';
import { resolveCacheDir } from '../hub/config.ts';
import { noProgress, type ProgressSink } from '../progress/events.ts';
import { QUANT_DEVICE_MODES, type QuantDevice, type QuantDeviceMode } from '../quant/gpu/modes.ts';
import { selectQuantDevice, type QuantDeviceChoice } from '../quant/gpu/select.ts';
import { QuantPool } from '../quant/pool.ts';
import { GGML_TYPES, parseFtype, rowSizeBytes, type GgmlTypeName, type LlamaFtype } from '../quant/types.ts';
import { produceTensor, SharedScratch } from './cpu-pipeline.ts';
import { GPU_CHUNK_BYTES_DEFAULT, produceOnGpu } from './gpu-pipeline.ts';
import { throwIfInterrupted } from './abort.ts';
import { openModelSource } from './input.ts';
import { planQuantization } from './plan.ts';

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
  device?: QuantDeviceMode;
  /** GPU path: source bytes per quantizer call (default 32 MiB); tests lower it to cut tensors into many chunks. */
  gpuChunkBytes?: number;
  cwd?: string;
  /** Environment for the Hugging Face cache location and the GPU stack (VK_DRIVER_FILES, …); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** What the GPU runtime (Dawn, the Vulkan loader) printed while `auto` looked for an adapter; dropped if not given. */
  onRuntimeOutput?: (text: string) => void;
  /** Hugging Face cache directory for repo-id inputs (default HF_HUB_CACHE / HF_HOME / ~/.cache/huggingface/hub). */
  cacheDir?: string;
  onProgress?: ProgressSink;
  /** Abort between chunks: the temporary file is removed, nothing is written at `out`, and the error thrown is named AbortError. */
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
  device: QuantDevice;
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


function defaultOut(source: ModelSource, ftype: LlamaFtype, cwd: string): string {
  return join(cwd, `${source.modelName}-${ftype.name}.gguf`);
}

export async function quantize(options: QuantizeOptions): Promise<QuantizeResult> {
  const onProgress = options.onProgress ?? noProgress;
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const device = options.device ?? 'auto';
  if (!(QUANT_DEVICE_MODES as readonly string[]).includes(device)) {
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
  // Start-up work runs side by side: the workers start and the GPU probe (a child process) runs while the input's
  // header is read; an input error still comes first, as before.
  const pool = new QuantPool({ threads });
  pool.warm();
  const selecting = selectQuantDevice(device, { env, ...(options.onRuntimeOutput !== undefined ? { onRuntimeOutput: options.onRuntimeOutput } : {}) });
  selecting.catch(() => {}); // observed below; an input error must not leave it unhandled
  let source: ModelSource;
  try {
    source = await openModelSource(options.input, cwd, options.cacheDir ?? resolveCacheDir(undefined, env));
  } catch (error) {
    await pool.close();
    (await selecting.catch(() => undefined))?.quantizer?.destroy();
    throw error;
  }
  const scratch = new SharedScratch();
  let choice: QuantDeviceChoice | undefined;
  try {
    const out = options.out === undefined ? defaultOut(source, ftype, cwd) : resolve(cwd, options.out);
    if (resolve(out) === resolve(source.path)) {
      throw new UsageError('QUANTIZE_OUT_IS_INPUT', `the output ${out} is the input file`, { hint: 'Choose another --out.' });
    }
    const plan = planQuantization(source, ftype, options.pure === true);
    // once for the whole model; `gpu` with no adapter throws exit 7 naming what is missing
    choice = await selecting;
    throwIfInterrupted(options.signal);
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
    (choice ?? (await selecting.catch(() => undefined)))?.quantizer?.destroy();
    await pool.close();
    await source.close();
  }
}
