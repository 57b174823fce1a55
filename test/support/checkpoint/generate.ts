/**
 * The tiny-checkpoint generator: writes a directory laid out like a Meta Llama repository on the Hugging Face Hub
 * (config.json, generation_config.json, tokenizer files, safetensors weights — sharded with an index or single —,
 * LICENSE, USE_POLICY.md, README.md) with seeded random weights of any shape.
 *
 * Weights are produced and written one chunk at a time, so memory stays bounded whatever the model size; values are
 * kept only when asked for (tests that compute references), and never for big models.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { open, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { stringify as yamlStringify } from 'yaml';

import { UsageError } from '../../../src/errors.ts';
import { withAtomicPath, writeFileAtomic } from '../../../src/fs/atomic.ts';
import type { ProgressSink } from '../../../src/progress/events.ts';
import { f32BitsToF16Bits, f16BitsToF32 } from './float.ts';
import { weightStream } from './prng.ts';
import { encodeSafetensorsHeader, safetensorsOrder } from './safetensors.ts';
import {
  LLAMA_VERSIONS,
  TORCH_DTYPE_NAMES,
  VERSION_FACTS,
  type LlamaVersion,
  type TokenizerPackage,
  type VersionFacts,
} from './versions.ts';

export type WeightDtype = 'F32' | 'F16' | 'BF16';
export const WEIGHT_DTYPE_BYTES: Readonly<Record<WeightDtype, number>> = { F32: 4, F16: 2, BF16: 2 };

export interface ModelShape {
  layers: number;
  hidden: number;
  intermediate: number;
  heads: number;
  kvHeads: number;
  /** Per-head size; default hidden / heads. */
  headDim?: number;
}

/** Default tiny shape (kv heads become heads / 2 for versions that use GQA). */
export const TINY_SHAPE: Readonly<ModelShape> = { layers: 2, hidden: 64, intermediate: 128, heads: 4, kvHeads: 4 };

/** The per-layer shapes of Llama-2-7B (its config.json); pass `layers` to pick how many for a benchmark. */
export const LLAMA2_7B_SHAPE: Readonly<ModelShape> = { layers: 32, hidden: 4096, intermediate: 11008, heads: 32, kvHeads: 32 };

/** Above this many elements in all, `keepValues` is refused: the values would not fit comfortably in memory. */
export const MAX_KEPT_ELEMENTS = 64 * 1024 * 1024;

/** Elements generated and written per step. */
const CHUNK_ELEMENTS = 1 << 20;

export interface LicenseOptions {
  /** Which of the two files to write; default 'both' (or 'none' where Meta published no text, Llama 1). */
  files?: 'both' | 'none' | 'license' | 'use-policy';
  /** Folder under templates/licenses to copy from; default the version's own. */
  template?: string;
  /** Name of the license file; default 'LICENSE' (Meta's repos rename LICENSE.txt so). */
  fileName?: string;
  /** Write this file with one clause changed, so its bytes no longer match the template. */
  tamper?: 'LICENSE' | 'USE_POLICY.md';
}

export interface CardOptions {
  /** Title; default "Tiny <display name> test checkpoint". */
  name?: string;
  /** `base_model` in the front matter (derivatives name their base this way). */
  baseModel?: string | string[];
  /** The front matter's `license:`; default the version's Hub identifier (llama2, llama3.1, …). */
  license?: string;
  tags?: string[];
  /** More front-matter fields, added last (undefined removes a field). */
  extra?: Record<string, unknown>;
  /** Markdown after the front matter; default a short note on what this checkpoint is. */
  body?: string;
}

export interface CheckpointOptions {
  version: LlamaVersion;
  /** Instruct variant: eos ids as the -Instruct repos have them (a list from 3.1 on). Default false (true for 3.3). */
  instruct?: boolean;
  shape?: Partial<ModelShape>;
  /** Default the version's release dtype: F16 for Llama 1/2, BF16 from Llama 3 on. */
  dtype?: WeightDtype;
  /** Number of safetensors files; 1 (default) writes model.safetensors without an index. */
  shards?: number;
  seed?: number | string;
  /** Default: the version's (true for 3.2, the 1B/3B style; then no lm_head tensor is written). */
  tieWordEmbeddings?: boolean;
  /** Return each tensor's values as stored (decoded to float32). Refused above MAX_KEPT_ELEMENTS. */
  keepValues?: boolean;
  /** Merged into config.json last; a key set to undefined is removed. Tensor shapes do not follow these. */
  configOverrides?: Record<string, unknown>;
  /** Write generation_config.json (default true). */
  generationConfig?: boolean;
  /** Copy tokenizer.json and tokenizer_config.json (default true). */
  tokenizer?: boolean;
  license?: LicenseOptions;
  /** Model card README.md; false to leave it out. */
  card?: CardOptions | false;
  onProgress?: ProgressSink;
}

export interface GeneratedTensor {
  name: string;
  dtype: WeightDtype;
  /** torch order: [out, in] for matrices. */
  shape: number[];
  /** File name relative to the checkpoint directory. */
  file: string;
  /** Offsets in the file's data buffer, as in the header. */
  dataOffsets: [number, number];
  /** Absolute offset of the first byte in the file. */
  fileOffset: number;
  /** The values as stored, decoded to float32 (only with keepValues). */
  values?: Float32Array;
}

export interface WrittenFile {
  /** Relative to the checkpoint directory. */
  path: string;
  size: number;
  sha256: string;
}

export interface CheckpointDescription {
  dir: string;
  version: LlamaVersion;
  instruct: boolean;
  shape: Required<ModelShape>;
  dtype: WeightDtype;
  vocabSize: number;
  tieWordEmbeddings: boolean;
  seed: number | string;
  config: Record<string, unknown>;
  generationConfig: Record<string, unknown> | undefined;
  /** Every file written, sorted by path. */
  files: WrittenFile[];
  /** Weight files in shard order. */
  weightFiles: string[];
  /** Tensors in model (state-dict) order. */
  tensors: GeneratedTensor[];
  /** Sum of the tensors' data bytes (the index's metadata.total_size). */
  totalSize: number;
  /** Which file was tampered, if any. */
  tampered: 'LICENSE' | 'USE_POLICY.md' | undefined;
  licenseTemplate: string | undefined;
}

const TEMPLATES_DIR = fileURLToPath(new URL('../../../templates/licenses/', import.meta.url));
const requireFromHere = createRequire(import.meta.url);

function badOption(message: string, hint: string): UsageError {
  return new UsageError('CHECKPOINT_BAD_OPTION', message, { hint });
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw badOption(`${name} must be a positive integer, got ${String(value)}`, `Pass a whole number ≥ 1 for ${name}.`);
  }
  return value;
}

/** Resolve and check the shape: whole positive sizes, heads divisible by kv heads, even head size (RoPE pairs). */
export function resolveShape(facts: VersionFacts, shape: Partial<ModelShape> = {}): Required<ModelShape> {
  const heads = positiveInteger('heads', shape.heads ?? TINY_SHAPE.heads);
  const defaultKv = facts.gqa && heads % 2 === 0 && shape.heads === undefined ? heads / 2 : heads;
  const kvHeads = positiveInteger('kvHeads', shape.kvHeads ?? defaultKv);
  const hidden = positiveInteger('hidden', shape.hidden ?? TINY_SHAPE.hidden);
  const layers = positiveInteger('layers', shape.layers ?? TINY_SHAPE.layers);
  const intermediate = positiveInteger('intermediate', shape.intermediate ?? TINY_SHAPE.intermediate);
  if (heads % kvHeads !== 0) {
    throw badOption(`heads (${heads}) must be a multiple of kvHeads (${kvHeads})`, 'Pick kvHeads that divides heads.');
  }
  if (shape.headDim === undefined && hidden % heads !== 0) {
    throw badOption(`hidden (${hidden}) must be a multiple of heads (${heads})`, 'Pick heads that divides hidden, or set headDim.');
  }
  const headDim = positiveInteger('headDim', shape.headDim ?? hidden / heads);
  if (headDim % 2 !== 0) throw badOption(`headDim (${headDim}) must be even`, 'RoPE rotates pairs of dimensions: use an even head size.');
  return { layers, hidden, intermediate, heads, kvHeads, headDim };
}

interface PlannedTensor {
  name: string;
  shape: number[];
  numel: number;
  bytes: number;
  mean: number;
  std: number;
}

/** The tensors of a Llama checkpoint in HF state-dict order, with the standard names and torch [out, in] shapes. */
export function planTensors(shape: Required<ModelShape>, vocabSize: number, tied: boolean, dtype: WeightDtype): PlannedTensor[] {
  const { hidden, intermediate, heads, kvHeads, headDim } = shape;
  const width = WEIGHT_DTYPE_BYTES[dtype];
  const out: PlannedTensor[] = [];
  // HF's initializer_range is 0.02; RMSNorm weights sit near 1 (they start at exactly 1 and drift in training).
  const matrix = (name: string, rows: number, cols: number): void => {
    out.push({ name, shape: [rows, cols], numel: rows * cols, bytes: rows * cols * width, mean: 0, std: 0.02 });
  };
  const norm = (name: string): void => {
    out.push({ name, shape: [hidden], numel: hidden, bytes: hidden * width, mean: 1, std: 0.05 });
  };
  matrix('model.embed_tokens.weight', vocabSize, hidden);
  for (let i = 0; i < shape.layers; i++) {
    const p = `model.layers.${i}`;
    matrix(`${p}.self_attn.q_proj.weight`, heads * headDim, hidden);
    matrix(`${p}.self_attn.k_proj.weight`, kvHeads * headDim, hidden);
    matrix(`${p}.self_attn.v_proj.weight`, kvHeads * headDim, hidden);
    matrix(`${p}.self_attn.o_proj.weight`, hidden, heads * headDim);
    matrix(`${p}.mlp.gate_proj.weight`, intermediate, hidden);
    matrix(`${p}.mlp.up_proj.weight`, intermediate, hidden);
    matrix(`${p}.mlp.down_proj.weight`, hidden, intermediate);
    norm(`${p}.input_layernorm.weight`);
    norm(`${p}.post_attention_layernorm.weight`);
  }
  norm('model.norm.weight');
  if (!tied) matrix('lm_head.weight', vocabSize, hidden);
  return out;
}

/**
 * Split tensors (kept in model order, as transformers fills shards) into `count` shards of about equal bytes,
 * none empty.
 */
export function assignShards(sizes: readonly number[], count: number): number[] {
  const n = sizes.length;
  if (count > n) throw badOption(`cannot split ${n} tensors into ${count} shards`, `Use at most ${n} shards, or more layers.`);
  const total = sizes.reduce((a, b) => a + b, 0);
  const assignment: number[] = [];
  let shard = 0;
  let inShard = 0;
  let before = 0;
  for (let i = 0; i < n; i++) {
    const size = sizes[i] as number;
    const mustAdvance = inShard > 0 && n - i <= count - 1 - shard; // one tensor left per shard still to fill
    const pastBoundary = shard < count - 1 && inShard > 0 && before + size / 2 > ((shard + 1) * total) / count;
    if (mustAdvance || pastBoundary) {
      shard += 1;
      inShard = 0;
    }
    assignment.push(shard);
    inShard += 1;
    before += size;
  }
  return assignment;
}

export function shardFileName(index: number, count: number): string {
  return count === 1 ? 'model.safetensors' : `model-${String(index + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.safetensors`;
}

const tokenizerCache = new Map<TokenizerPackage, { json: Buffer; config: Buffer; vocabSize: number }>();

/**
 * The tokenizer files an installed package ships, and its vocabulary size: the largest id in model.vocab and
 * added_tokens, plus one (what transformers' `len(tokenizer)` and llama.cpp's n_vocab come to for these files).
 */
export async function loadTokenizerFiles(pkg: TokenizerPackage): Promise<{ json: Buffer; config: Buffer; vocabSize: number }> {
  const cached = tokenizerCache.get(pkg);
  if (cached !== undefined) return cached;
  const json = await readFile(requireFromHere.resolve(`${pkg}/models/tokenizer.json`));
  const config = await readFile(requireFromHere.resolve(`${pkg}/models/tokenizer_config.json`));
  const parsed = JSON.parse(json.toString('utf8')) as {
    model: { vocab: Record<string, number> };
    added_tokens?: Array<{ id: number }>;
  };
  let max = -1;
  for (const id of Object.values(parsed.model.vocab)) if (id > max) max = id;
  for (const t of parsed.added_tokens ?? []) if (t.id > max) max = t.id;
  const entry = { json, config, vocabSize: max + 1 };
  tokenizerCache.set(pkg, entry);
  return entry;
}

/** Keys whose values transformers writes as Python floats (10000.0, 1e-05): kept so in our JSON too. */
const FLOAT_KEYS = new Set([
  'rms_norm_eps',
  'rope_theta',
  'initializer_range',
  'attention_dropout',
  'factor',
  'low_freq_factor',
  'high_freq_factor',
  'temperature',
  'top_p',
]);

/** Python's float repr: shortest round-trip digits, positional for 1e-4 ≤ |x| < 1e16, else d.ddde±XX. */
export function pythonFloatRepr(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(x);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}

/**
 * JSON as transformers' `to_json_string` writes it: `json.dumps(d, indent=2, sort_keys=True) + "\n"`, with the
 * float-typed fields in Python's float notation. Nested objects keep their order: Meta edited some by hand
 * (Llama 3.1's rope_scaling is not sorted).
 */
export function transformersJson(value: Record<string, unknown>): string {
  const marker = '\u0000pyfloat:';
  const sorted = Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const text = JSON.stringify(
    sorted,
    (key, v: unknown) => (FLOAT_KEYS.has(key) && typeof v === 'number' ? `${marker}${pythonFloatRepr(v)}` : v),
    2,
  );
  return `${text.replace(/"\\u0000pyfloat:([^"]*)"/g, '$1')}\n`;
}

export function buildConfig(
  facts: VersionFacts,
  shape: Required<ModelShape>,
  vocabSize: number,
  dtype: WeightDtype,
  tied: boolean,
  instruct: boolean,
): Record<string, unknown> {
  const c: Record<string, unknown> = {
    architectures: ['LlamaForCausalLM'],
    bos_token_id: facts.bosTokenId,
    eos_token_id: instruct ? facts.instructEosTokenId : facts.eosTokenId,
    hidden_act: 'silu',
    hidden_size: shape.hidden,
    initializer_range: 0.02,
    intermediate_size: shape.intermediate,
    max_position_embeddings: facts.maxPositionEmbeddings,
    model_type: 'llama',
    num_attention_heads: shape.heads,
    num_hidden_layers: shape.layers,
    rms_norm_eps: facts.rmsNormEps,
    tie_word_embeddings: tied,
    torch_dtype: TORCH_DTYPE_NAMES[dtype],
    transformers_version: facts.transformersVersion,
    use_cache: true,
    vocab_size: vocabSize,
  };
  if (facts.version === '1') {
    // huggyllama/llama-7b: no kv-head count (all heads are kv heads), a pad id and the old max_sequence_length.
    c.max_sequence_length = facts.maxPositionEmbeddings;
    c.pad_token_id = 0;
    if (shape.kvHeads !== shape.heads) c.num_key_value_heads = shape.kvHeads;
  } else {
    c.num_key_value_heads = shape.kvHeads;
    c.pretraining_tp = 1;
  }
  if (facts.writesNullRopeScaling || facts.ropeScaling !== null) c.rope_scaling = facts.ropeScaling;
  if (facts.ropeTheta !== undefined) c.rope_theta = facts.ropeTheta;
  if (facts.writesAttentionBias) {
    c.attention_bias = false;
    c.attention_dropout = 0;
  }
  if (facts.writesMlpBias) c.mlp_bias = false;
  if (facts.writesHeadDim || shape.headDim * shape.heads !== shape.hidden) c.head_dim = shape.headDim;
  return c;
}

export function buildGenerationConfig(facts: VersionFacts, instruct: boolean): Record<string, unknown> {
  const g: Record<string, unknown> = {
    bos_token_id: facts.bosTokenId,
    transformers_version: facts.transformersVersion,
  };
  if (facts.version === '1') {
    return { ...g, _from_model_config: true, eos_token_id: facts.eosTokenId, pad_token_id: 0 };
  }
  // Meta-Llama-3-8B-Instruct stops on <|end_of_text|> or <|eot_id|>; 3.1+ list three ids in config.json too.
  const eos = instruct ? (facts.version === '3' ? [facts.eosTokenId, 128009] : facts.instructEosTokenId) : facts.eosTokenId;
  Object.assign(g, { do_sample: true, eos_token_id: eos, temperature: 0.6, top_p: 0.9 });
  if (facts.version === '2') Object.assign(g, { max_length: 4096, pad_token_id: 0 });
  if (facts.version === '3' && instruct) g.max_length = 4096;
  if (!instruct && facts.version !== '2') g._from_model_config = true;
  return g;
}

/** Change one clause so the bytes differ from the template while the text still reads like the license. */
export function tamperText(text: string): string {
  if (text.includes('700 million')) return text.replace('700 million', '7 billion');
  return `${text}\nAdditional permission: this text has been altered.\n`;
}

export function buildCard(facts: VersionFacts, card: CardOptions, shape: Required<ModelShape>): string {
  const front: Record<string, unknown> = {
    language: facts.language,
    license: card.license ?? facts.hubLicense,
  };
  if (card.baseModel !== undefined) front.base_model = card.baseModel;
  front.pipeline_tag = 'text-generation';
  front.tags = card.tags ?? facts.tags;
  for (const [k, v] of Object.entries(card.extra ?? {})) {
    if (v === undefined) delete front[k];
    else front[k] = v;
  }
  const name = card.name ?? `Tiny ${facts.displayName} test checkpoint`;
  const body =
    card.body ??
    `# ${name}\n\nA ${facts.displayName} architecture checkpoint with ${shape.layers} layers and hidden size ${shape.hidden}, ` +
      'filled with seeded random weights by the llama-dist test suite. It is not a trained model.\n';
  return `---\n${yamlStringify(front, { indentSeq: false })}---\n\n${body}`;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Weight files from an earlier run with another shard count would make the directory inconsistent (two sets of
 * weights); a re-run removes those it did not write. Other files are left alone: a caller may have put its own
 * tokenizer, card or license there on purpose (with tokenizer: false, card: false, license.files: 'none').
 */
const WEIGHT_FILE_NAME = /^(?:model\.safetensors|model\.safetensors\.index\.json|model-\d{5}-of-\d{5}\.safetensors)$/;

async function removeStale(dir: string, written: ReadonlySet<string>): Promise<void> {
  for (const name of await readdir(dir)) {
    if (WEIGHT_FILE_NAME.test(name) && !written.has(name)) await rm(join(dir, name), { force: true });
  }
}

/** Float16Array ships in Node 24 (V8 13.6); Node 22 has it only behind a flag. */
const hasNativeF16 = typeof Float16Array === 'function';

/** float32 bits → 16-bit patterns. A function of its own so V8 optimizes the loops (they are the hot path). */
function encodeChunk(dtype: 'F16' | 'BF16', bits: Uint32Array, out: Uint16Array, n: number): void {
  if (dtype === 'F16' && hasNativeF16) {
    // The platform's conversion is RNE as well and several times faster; the tests check it against ours bit for bit.
    new Float16Array(out.buffer, out.byteOffset, n).set(new Float32Array(bits.buffer, bits.byteOffset, n));
  } else if (dtype === 'F16') {
    for (let i = 0; i < n; i++) out[i] = f32BitsToF16Bits(bits[i] as number);
  } else {
    // f32BitsToBf16Bits inlined on int32 views: the same integer steps, kept in small integers for speed.
    const signed = new Int32Array(bits.buffer, bits.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const x = signed[i] as number;
      out[i] = (x & 0x7fffffff) > 0x7f800000 ? (x >>> 16) | 0x40 : ((x + 0x7fff + ((x >>> 16) & 1)) | 0) >>> 16;
    }
  }
}

/** Write the checkpoint into `dir` (created if missing) and describe what was written. */
export async function generateCheckpoint(dir: string, options: CheckpointOptions): Promise<CheckpointDescription> {
  if (!(LLAMA_VERSIONS as readonly string[]).includes(options.version)) {
    throw badOption(`unknown Llama version ${String(options.version)}`, `Use one of ${LLAMA_VERSIONS.join(', ')}.`);
  }
  if (endianness() !== 'LE') throw new Error('the checkpoint generator writes float32 buffers directly and needs a little-endian host');
  const facts = VERSION_FACTS[options.version];
  const instruct = options.instruct ?? facts.instructOnly;
  const shape = resolveShape(facts, options.shape);
  const dtype = options.dtype ?? facts.nativeDtype;
  if (!Object.hasOwn(WEIGHT_DTYPE_BYTES, dtype)) throw badOption(`unknown dtype ${String(dtype)}`, 'Use F32, F16 or BF16.');
  const shardCount = positiveInteger('shards', options.shards ?? 1);
  const seed = options.seed ?? 0;
  const tied = options.tieWordEmbeddings ?? facts.tieWordEmbeddings;
  const onProgress = options.onProgress;

  const tokenizer = await loadTokenizerFiles(facts.tokenizer);
  const vocabSize = tokenizer.vocabSize;
  const planned = planTensors(shape, vocabSize, tied, dtype);
  const totalElements = planned.reduce((a, t) => a + t.numel, 0);
  const keepValues = options.keepValues ?? false;
  if (keepValues && totalElements > MAX_KEPT_ELEMENTS) {
    throw badOption(
      `keepValues asked for ${totalElements} values, more than the ${MAX_KEPT_ELEMENTS} the generator keeps in memory`,
      'Leave keepValues off for big checkpoints and read the tensors back from the files instead.',
    );
  }

  const licenseOptions = options.license ?? {};
  const template = licenseOptions.template ?? facts.licenseTemplate ?? undefined;
  const which = licenseOptions.files ?? (template === undefined ? 'none' : 'both');
  if (which !== 'none' && template === undefined) {
    throw badOption(`Llama ${facts.version} has no license text in templates/licenses`, "Pass license.template (e.g. 'llama2') or license.files: 'none'.");
  }
  const assignment = assignShards(
    planned.map((t) => t.bytes),
    shardCount,
  );

  // Every option is checked; from here on files are written.
  const files: WrittenFile[] = [];
  const writeSmall = async (name: string, data: string | Uint8Array): Promise<void> => {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    await writeFileAtomic(join(dir, name), bytes);
    files.push({ path: name, size: bytes.length, sha256: sha256(bytes) });
  };

  let config = buildConfig(facts, shape, vocabSize, dtype, tied, instruct);
  if (options.configOverrides !== undefined) {
    config = { ...config };
    for (const [k, v] of Object.entries(options.configOverrides)) {
      if (v === undefined) delete config[k];
      else config[k] = v;
    }
  }
  await writeSmall('config.json', transformersJson(config));

  let generationConfig: Record<string, unknown> | undefined;
  if (options.generationConfig ?? true) {
    generationConfig = buildGenerationConfig(facts, instruct);
    await writeSmall('generation_config.json', transformersJson(generationConfig));
  }

  if (options.tokenizer ?? true) {
    await writeSmall('tokenizer.json', tokenizer.json);
    await writeSmall('tokenizer_config.json', tokenizer.config);
  }

  // Weights.
  const weightFiles = Array.from({ length: shardCount }, (_, i) => shardFileName(i, shardCount));
  const generated = new Map<string, GeneratedTensor>();
  const totalSize = planned.reduce((a, t) => a + t.bytes, 0);
  const task = `checkpoint:${dir}`;
  onProgress?.({ type: 'start', task, label: `writing ${weightFiles.length} weight file(s)`, unit: 'bytes', total: totalSize });
  const progress = { done: 0 };
  const f32Chunk = new Float32Array(CHUNK_ELEMENTS);
  const u32Chunk = new Uint32Array(f32Chunk.buffer);
  const u16Chunk = new Uint16Array(CHUNK_ELEMENTS);
  try {
    for (let s = 0; s < shardCount; s++) {
      const fileName = weightFiles[s] as string;
      const inShard = safetensorsOrder(
        planned.filter((_, i) => assignment[i] === s).map((t) => ({ ...t, dtype: dtype as string })),
      );
      let offset = 0;
      const entries = inShard.map((t) => {
        const e = { name: t.name, dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes] as [number, number] };
        offset += t.bytes;
        return e;
      });
      const header = encodeSafetensorsHeader(entries);
      const hash = createHash('sha256');
      await withAtomicPath(join(dir, fileName), async (tmp) => {
        const handle = await open(tmp, 'w');
        try {
          hash.update(header);
          await handle.write(header);
          for (const t of inShard) {
            const entry = entries.find((e) => e.name === t.name);
            if (entry === undefined) throw new Error(`internal: no header entry for ${t.name}`);
            const values = keepValues ? new Float32Array(t.numel) : undefined;
            const stream = weightStream(seed, t.name, t.mean, t.std);
            for (let start = 0; start < t.numel; start += CHUNK_ELEMENTS) {
              const n = Math.min(CHUNK_ELEMENTS, t.numel - start);
              stream.fill(f32Chunk, n);
              let bytes: Uint8Array;
              if (dtype === 'F32') {
                bytes = new Uint8Array(f32Chunk.buffer, 0, n * 4);
                values?.set(f32Chunk.subarray(0, n), start);
              } else {
                encodeChunk(dtype, u32Chunk, u16Chunk, n);
                bytes = new Uint8Array(u16Chunk.buffer, 0, n * 2);
                if (values !== undefined) {
                  if (dtype === 'F16') {
                    for (let i = 0; i < n; i++) values[start + i] = f16BitsToF32(u16Chunk[i] as number);
                  } else {
                    const asBits = new Uint32Array(values.buffer, (start) * 4, n);
                    for (let i = 0; i < n; i++) asBits[i] = (u16Chunk[i] as number) << 16;
                  }
                }
              }
              hash.update(bytes);
              await handle.write(bytes);
              progress.done += bytes.length;
              onProgress?.({ type: 'advance', task, done: progress.done, total: totalSize });
            }
            const described: GeneratedTensor = {
              name: t.name,
              dtype,
              shape: t.shape,
              file: fileName,
              dataOffsets: entry.data_offsets,
              fileOffset: header.length + entry.data_offsets[0],
            };
            if (values !== undefined) described.values = values;
            generated.set(t.name, described);
          }
        } finally {
          await handle.close();
        }
      });
      files.push({ path: fileName, size: header.length + offset, sha256: hash.digest('hex') });
    }
    onProgress?.({ type: 'end', task, ok: true });
  } catch (error) {
    onProgress?.({ type: 'end', task, ok: false });
    throw error;
  }

  if (shardCount > 1) {
    // transformers writes the index with sorted weight_map keys, indent 2, and a final newline.
    const weightMap: Record<string, string> = {};
    for (const name of [...generated.keys()].sort()) weightMap[name] = (generated.get(name) as GeneratedTensor).file;
    await writeSmall('model.safetensors.index.json', `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2)}\n`);
  }

  // License files and model card.
  let tampered: 'LICENSE' | 'USE_POLICY.md' | undefined;
  if (which !== 'none' && template !== undefined) {
    const copy = async (source: string, target: string): Promise<void> => {
      const text = await readFile(join(TEMPLATES_DIR, template, source));
      const kind = source === 'LICENSE.txt' ? 'LICENSE' : 'USE_POLICY.md';
      const tamper = licenseOptions.tamper === kind;
      if (tamper) tampered = kind;
      await writeSmall(target, tamper ? Buffer.from(tamperText(text.toString('utf8')), 'utf8') : text);
    };
    if (which === 'both' || which === 'license') await copy('LICENSE.txt', licenseOptions.fileName ?? 'LICENSE');
    if (which === 'both' || which === 'use-policy') await copy('USE_POLICY.md', 'USE_POLICY.md');
  }
  if (options.card !== false) await writeSmall('README.md', buildCard(facts, options.card ?? {}, shape));

  await removeStale(dir, new Set(files.map((f) => f.path)));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    dir,
    version: facts.version,
    instruct,
    shape,
    dtype,
    vocabSize,
    tieWordEmbeddings: tied,
    seed,
    config,
    generationConfig,
    files,
    weightFiles,
    tensors: planned.map((t) => generated.get(t.name) as GeneratedTensor),
    totalSize,
    tampered,
    licenseTemplate: which !== 'none' ? template : undefined,
  };
}
