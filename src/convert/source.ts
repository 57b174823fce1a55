/**
 * Model sources for the quantize pipeline: a Hugging Face Llama checkpoint (converted on the fly, tensor by tensor) or
 * an F32/F16/BF16 GGUF file. Both give tensors with GGUF names and dims that can be read a range of rows at a time,
 * so nothing larger than a chunk is ever in memory.
 */
import { open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { IntegrityError, UsageError } from '../errors.ts';
import { getKv, GgufTensorReader, kv, readGguf, type GgufKv } from '../formats/gguf.ts';
import { decodeFloats, rowCount, SafetensorsCheckpoint, unsupportedDtype, type SafetensorsTensor } from '../formats/safetensors.ts';
import type { ModelFacts } from '../quant/choose.ts';
import { isFloatTypeName, type FloatTypeName } from '../quant/types.ts';
import { ggufTensorName, llama3RopeFactors, llamaParameterKvs, permuteHeads } from './llama.ts';
import { readHfModelConfig, type HfModelConfig } from './model-config.ts';
import { metadataKvs, readGenerationConfig, readModelCard, resolveMetadata } from './metadata.ts';
import { vocabKvs } from './vocab.ts';

export interface SourceTensor {
  /** GGUF name. */
  name: string;
  /** ggml dims, ne[0] = row length. */
  ne: number[];
  /** Dims as the source's writer stores them (convert_hf_to_gguf.py: the numpy rank). */
  nDims: number;
  /** Type of the data as stored in the source. */
  type: FloatTypeName;
  /** Chunks must hold a multiple of this many rows (one attention head for permuted Q/K). */
  rowAlign: number;
  /** Where the data lives, for error messages. */
  file: string;
  /** Rows [row, row + count) as float32, transformed as the GGUF wants them. */
  readRows(row: number, count: number): Promise<Float32Array>;
  /** The same rows as stored in the source, when no transformation applies (copies keep the bytes); into `target` if given. */
  readRawRows?: (row: number, count: number, target?: Uint8Array) => Promise<Uint8Array>;
}

export interface ModelSource {
  kind: 'hf' | 'gguf';
  path: string;
  /** Used for the default output name. */
  modelName: string;
  /** In the order the source's writer emits them. */
  tensors: SourceTensor[];
  facts: ModelFacts;
  /** The KVs the source's writer emits, with general.file_type = `fileType`. */
  kvs(fileType: number): GgufKv[];
  close(): Promise<void>;
}

export function tensorRows(t: { ne: readonly number[] }): number {
  let rows = 1;
  for (let i = 1; i < t.ne.length; i++) rows *= t.ne[i]!;
  return rows;
}

// ------------------------------------------------------------------------------------------------ Hugging Face source

/**
 * Open a Hugging Face LlamaForCausalLM checkpoint directory as convert_hf_to_gguf.py would see it. `modelName` stands
 * for the directory's name (output file name, general.name heuristics): a cache snapshot passes its repo's name.
 */
export async function openHfSource(dir: string, modelName = basename(dir)): Promise<ModelSource> {
  const config = await readHfModelConfig(dir);
  const checkpoint = await SafetensorsCheckpoint.open(dir);
  try {
    const tensors: SourceTensor[] = [];
    for (const st of checkpoint.tensors) {
      const name = ggufTensorName(st.name);
      if (name === null) continue;
      if (!isFloatTypeName(st.dtype)) throw unsupportedDtype(st);
      tensors.push(hfTensor(checkpoint, st, name, config));
    }
    // the weights bound the sizes config.json claims before anything is allocated from them (rope factors, vocab)
    checkShapes(tensors, config, dir);
    const rope = llama3RopeFactors(config);
    if (rope !== undefined) {
      // convert_hf_to_gguf.py yields rope_freqs before the checkpoint's tensors
      tensors.unshift({
        name: 'rope_freqs.weight',
        ne: [rope.length],
        nDims: 1,
        type: 'F32',
        rowAlign: 1,
        file: join(dir, 'config.json'),
        readRows: async () => rope.slice(),
      });
    }
    const hasOutput = tensors.some((t) => t.name === 'output.weight');
    const card = await readModelCard(dir);
    const totalParams = tensors.reduce((sum, t) => sum + t.ne.reduce((a, b) => a * b, 1), 0);
    const metadata = resolveMetadata(modelName, card, config.raw, totalParams, await readGenerationConfig(dir));
    const vocab = await vocabKvs({ dir, vocabSize: config.vocabSize, config: config.raw });
    return {
      kind: 'hf',
      path: dir,
      modelName,
      tensors,
      facts: { nLayer: config.nLayer, nHead: config.nHead, nHeadKv: config.nHeadKv, hasOutput },
      kvs: (fileType) => [
        kv.str('general.architecture', 'llama'),
        kv.str('general.type', 'model'),
        ...metadataKvs(metadata),
        ...llamaParameterKvs(config, fileType),
        // current upstream prepare_metadata: quantization version, then the vocabulary (2025-02: the reverse)
        kv.u32('general.quantization_version', 2),
        ...vocab,
      ],
      close: () => checkpoint.close(),
    };
  } catch (error) {
    await checkpoint.close();
    throw error;
  }
}

function hfTensor(checkpoint: SafetensorsCheckpoint, st: SafetensorsTensor, name: string, config: HfModelConfig): SourceTensor {
  const ne = [...st.shape].reverse();
  if (ne.length === 0) ne.push(1);
  const rowLength = ne[0]!;
  const dtype = st.dtype as FloatTypeName;
  // LlamaModel.modify_tensors: q_proj permuted with n_head, k_proj with n_head_kv (weights and biases).
  const heads = /\.attn_q\.(weight|bias)$/.test(name) ? config.nHead : /\.attn_k\.(weight|bias)$/.test(name) ? config.nHeadKv : 0;
  const rows = rowCount(st);
  let rowAlign = 1;
  if (heads > 0 && st.shape.length === 1) {
    // a q/k bias: the same permutation over its elements (read whole: it is one row)
    const n = st.shape[0]!;
    if (n % heads !== 0 || (n / heads) % 2 !== 0) throw badHeads(st, n, heads);
    return {
      name, ne, nDims: 1, type: dtype, rowAlign: 1, file: st.file,
      readRows: async () => permuteHeads(decodeFloats(dtype, await checkpoint.readRowsRaw(st, 0, 1)), n, 1, n / heads),
    };
  }
  if (heads > 0) {
    if (rows % heads !== 0 || (rows / heads) % 2 !== 0) throw badHeads(st, rows, heads);
    rowAlign = rows / heads;
  }
  const tensor: SourceTensor = {
    name,
    ne,
    nDims: Math.max(st.shape.length, 1),
    type: dtype,
    rowAlign,
    file: st.file,
    readRows: async (row, count) => {
      const values = decodeFloats(dtype, await checkpoint.readRowsRaw(st, row, count));
      return heads > 0 ? permuteHeads(values, count, rowLength, rowAlign) : values;
    },
  };
  if (heads === 0) tensor.readRawRows = (row, count, target) => checkpoint.readRowsRaw(st, row, count, target);
  return tensor;
}

function badHeads(st: SafetensorsTensor, rows: number, heads: number): IntegrityError {
  return new IntegrityError('CONVERT_BAD_SHAPE', `tensor ${st.name} has ${rows} rows, not ${heads} heads of an even size`, {
    hint: 'The weights do not match config.json (num_attention_heads / num_key_value_heads).',
    details: { file: st.file, tensor: st.name },
  });
}

function checkShapes(tensors: SourceTensor[], config: HfModelConfig, dir: string): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const kvDim = config.nHeadKv * config.headDim;
  const ffn = typeof config.raw.intermediate_size === 'number' ? config.raw.intermediate_size : undefined;
  const expect = (name: string, ne: number[]): void => {
    const t = byName.get(name);
    if (t === undefined) {
      throw new IntegrityError('CONVERT_MISSING_TENSOR', `the checkpoint in ${dir} has no tensor for ${name}`, {
        hint: 'A shard is incomplete or the checkpoint is not a full LlamaForCausalLM; download it again.',
        details: { dir, tensor: name },
      });
    }
    if (t.ne.length !== ne.length || t.ne.some((d, i) => d !== ne[i])) {
      throw new IntegrityError('CONVERT_BAD_SHAPE', `${name} has shape ${JSON.stringify(t.ne)}, config.json implies ${JSON.stringify(ne)}`, {
        hint: 'The weights do not match config.json; use the config that came with them.',
        details: { file: t.file, tensor: name },
      });
    }
  };
  expect('token_embd.weight', [config.nEmbd, config.vocabSize]);
  expect('output_norm.weight', [config.nEmbd]);
  if (byName.has('output.weight')) expect('output.weight', [config.nEmbd, config.vocabSize]);
  for (let i = 0; i < config.nLayer; i++) {
    expect(`blk.${i}.attn_norm.weight`, [config.nEmbd]);
    expect(`blk.${i}.ffn_norm.weight`, [config.nEmbd]);
    expect(`blk.${i}.attn_q.weight`, [config.nEmbd, config.nHead * config.headDim]);
    expect(`blk.${i}.attn_k.weight`, [config.nEmbd, kvDim]);
    expect(`blk.${i}.attn_v.weight`, [config.nEmbd, kvDim]);
    expect(`blk.${i}.attn_output.weight`, [config.nHead * config.headDim, config.nEmbd]);
    if (ffn !== undefined) {
      expect(`blk.${i}.ffn_gate.weight`, [config.nEmbd, ffn]);
      expect(`blk.${i}.ffn_up.weight`, [config.nEmbd, ffn]);
      expect(`blk.${i}.ffn_down.weight`, [ffn, config.nEmbd]);
    }
  }
}

// ------------------------------------------------------------------------------------------------------- GGUF source

const GGUF_FLOAT_IDS: Record<number, FloatTypeName> = { 0: 'F32', 1: 'F16', 30: 'BF16' };

/** Open an F32/F16/BF16 GGUF (the input llama-quantize takes without --allow-requantize). */
export async function openGgufSource(path: string): Promise<ModelSource> {
  const file = await readGguf(path);
  const arch = getKv(file, 'general.architecture');
  if (arch !== 'llama') {
    throw new UsageError('QUANTIZE_UNSUPPORTED_ARCHITECTURE', `${basename(path)} has architecture ${String(arch)}; only llama is supported`, {
      hint: 'llama quantize handles Llama-architecture GGUF files; use llama.cpp for others.',
      details: { file: path, architecture: arch },
    });
  }
  const reader = new GgufTensorReader(file);
  const tensors = file.tensors.map((info): SourceTensor => {
    const type = GGUF_FLOAT_IDS[info.type];
    if (type === undefined) {
      throw new UsageError('QUANTIZE_REQUANTIZE', `${basename(path)}: tensor ${info.name} is already quantized`, {
        hint: 'Requantizing loses quality twice; start from the F32/F16/BF16 GGUF or the Hugging Face checkpoint.',
        details: { file: path, tensor: info.name },
      });
    }
    const size = type === 'F32' ? 4 : 2;
    const rowBytes = info.ne[0]! * size;
    const readRawRows = (row: number, count: number, target?: Uint8Array): Promise<Uint8Array> =>
      reader.read(info, row * rowBytes, count * rowBytes, target);
    return {
      name: info.name,
      ne: info.ne,
      nDims: info.nDims,
      type,
      rowAlign: 1,
      file: path,
      readRows: async (row, count) => decodeFloats(type, await readRawRows(row, count)),
      readRawRows,
    };
  });
  const u32 = (key: string): number | undefined => {
    const v = getKv(file, key);
    return typeof v === 'number' ? v : undefined;
  };
  const nHead = u32('llama.attention.head_count') ?? 0;
  return {
    kind: 'gguf',
    path,
    modelName: basename(path).replace(/\.gguf$/i, '').replace(/-(F32|F16|BF16)$/i, ''),
    tensors,
    facts: {
      nLayer: u32('llama.block_count') ?? 0,
      nHead,
      nHeadKv: u32('llama.attention.head_count_kv') ?? nHead,
      hasOutput: file.tensors.some((t) => t.name === 'output.weight'),
    },
    kvs: () => file.kvs,
    close: () => reader.close(),
  };
}

/** Is `path` a GGUF file (by its magic)? */
export async function isGgufFile(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'r');
    try {
      const b = Buffer.alloc(4);
      await handle.read(b, 0, 4, 0);
      return b.toString('latin1') === 'GGUF';
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}
