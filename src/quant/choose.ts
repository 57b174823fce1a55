/**
 * Per-tensor type choice of llama-quantize for the Llama architecture (dense Llama 1/2/3, Mistral-style GQA), as a
 * pure function. Source: llama.cpp src/llama-quant.cpp (`tensor_allows_quantization`, `llama_tensor_get_type_impl`,
 * `tensor_type_fallback`, `llama_tensor_get_type`), current upstream; facts in shared/research/gguf.md §5.
 *
 * API
 * - `chooseTensorType(tensor, ftype, facts, options?)` → `{ type, quantize, fallbackFrom? }`:
 *   `tensor = { name, shape, type }` with `shape` in ggml order (shape[0] = ne[0] = row length) and `type` the source
 *   tensor type; `ftype` a LlamaFtype or its name; `facts = { nLayer, nHead, nHeadKv, hasOutput, nExpert? }` where
 *   `hasOutput` is false for tied embeddings (no `output.weight` in the file). `quantize` is false when the tensor
 *   is kept as it is (1-D tensors, norms, …: then `type` is the source type). `fallbackFrom` names the type that
 *   was wanted when the row length forced a fallback (worth a warning, as llama-quantize prints one).
 * - `options`: `pure` (--pure: every quantizable tensor gets the ftype's default type; the row-length fallback still
 *   applies), `leaveOutputTensor` (--leave-output-tensor), `outputTensorType` / `tokenEmbeddingType`
 *   (--output-tensor-type / --token-embedding-type, applied as given, without fallback, as upstream does).
 * - `tensorAllowsQuantization(name, shape)`: the name/shape filter alone.
 * - `useMoreBits(i, n)`: llama.cpp's layer pattern for the _M mixtures.
 *
 * Counters: llama-quantize counts attn_v / ffn_down tensors in its sorted tensor order (layer number, then name);
 * for Llama every layer has exactly one of each, so the i-th one is layer i. Here the layer is parsed from the name
 * (`blk.N.`), which makes the function independent of call order. n_attention_wv = n_ffn_down = nLayer.
 *
 * Differences from the 2025-02 tree the reference files came from (shared/research/gguf.md §5 item 8/9), following
 * current upstream: the row-length fallback of Q2_K/Q3_K is Q4_0 (was IQ4_NL, which we do not implement), and
 * --pure applies the fallback (the old tree aborted). Neither shows in the reference mixtures (all rows are
 * multiples of 256).
 */
import { UsageError } from '../errors.ts';
import { GGML_TYPES, LLAMA_FTYPES, type GgmlTypeName, type LlamaFtype, type LlamaFtypeName } from './types.ts';

export interface TensorDescription {
  readonly name: string;
  /** ggml order: shape[0] is ne[0], the row length. */
  readonly shape: readonly number[];
  /** Type of the source tensor (what a kept tensor stays). */
  readonly type: GgmlTypeName;
}

export interface ModelFacts {
  /** llama.block_count */
  readonly nLayer: number;
  /** llama.attention.head_count */
  readonly nHead: number;
  /** llama.attention.head_count_kv (defaults to nHead in llama.cpp) */
  readonly nHeadKv: number;
  /** Whether the file has an output.weight tensor; false means tied embeddings (token_embd is also the output). */
  readonly hasOutput: boolean;
  /** llama.expert_count (0 or absent for dense models). */
  readonly nExpert?: number;
}

export interface ChooseOptions {
  readonly pure?: boolean;
  readonly leaveOutputTensor?: boolean;
  readonly outputTensorType?: GgmlTypeName;
  readonly tokenEmbeddingType?: GgmlTypeName;
}

export interface TensorTypeChoice {
  readonly type: GgmlTypeName;
  /** False when the tensor is copied as it is (not a quantizable weight). */
  readonly quantize: boolean;
  /** Set when the row length forced a fallback from this type. */
  readonly fallbackFrom?: GgmlTypeName;
}

/** ggml_n_dims: index of the last dimension > 1, plus one (at least 1). */
function nDims(shape: readonly number[]): number {
  for (let i = shape.length - 1; i >= 1; i--) if ((shape[i] ?? 1) > 1) return i + 1;
  return 1;
}

// Substrings that llama-quantize never quantizes (tensor_allows_quantization); most are other architectures', kept so
// the filter is the same one.
const NEVER_QUANTIZED = [
  '_norm.weight', 'ffn_gate_inp.weight', 'ffn_gate_tid2eid.weight', 'altup', 'laurel', 'per_layer_model_proj',
  'ssm_conv1d', 'shortconv.conv.weight', 'indexer.k_proj.weight', 'indexer.q_proj.weight',
  'time_mix_first.weight', 'time_mix_w0.weight', 'time_mix_w1.weight', 'time_mix_w2.weight', 'time_mix_v0.weight',
  'time_mix_v1.weight', 'time_mix_v2.weight', 'time_mix_a0.weight', 'time_mix_a1.weight', 'time_mix_a2.weight',
  'time_mix_g1.weight', 'time_mix_g2.weight', 'time_mix_decay_w1.weight', 'time_mix_decay_w2.weight',
  'time_mix_lerp_fused.weight', 'attn_rel_b.weight', '.position_embd', 'sam.pos_embd', 'sam.neck.', 'sam.net_',
  '.rel_pos', '.patch_embd', '.patch_merger', 'a.rvq.codebook', 'mm.a.code_embd',
];

export function tensorAllowsQuantization(name: string, shape: readonly number[], leaveOutputTensor = false): boolean {
  if (nDims(shape) < 2) return false;
  if (!name.endsWith('weight')) return false;
  if (leaveOutputTensor && name === 'output.weight') return false;
  if (name === 'position_embd.weight' || name === 'token_types.weight') return false;
  return !NEVER_QUANTIZED.some((s) => name.includes(s));
}

export function useMoreBits(i: number, n: number): boolean {
  const n8 = Math.trunc(n / 8);
  return i < n8 || i >= Math.trunc((7 * n) / 8) || (i - n8) % 3 === 2;
}

type Category = 'token_embd' | 'output' | 'attn_v' | 'attn_k' | 'attn_q' | 'attn_output' | 'ffn_up' | 'ffn_gate' | 'ffn_down' | 'other';

/** tensor_get_category, restricted to what Llama files contain (attn_qkv / attn_kv_b count as attn_v there). */
function category(name: string): Category {
  if (name === 'output.weight') return 'output';
  if (name === 'token_embd.weight') return 'token_embd';
  if (name.includes('attn_qkv.weight') || name.includes('attn_kv_b.weight') || name.includes('attn_v.weight')) return 'attn_v';
  if (name.includes('attn_k.weight')) return 'attn_k';
  if (name.includes('attn_q.weight')) return 'attn_q';
  if (name.includes('attn_output.weight')) return 'attn_output';
  if (name.includes('ffn_up')) return 'ffn_up';
  if (name.includes('ffn_gate')) return 'ffn_gate';
  if (name.includes('ffn_down')) return 'ffn_down';
  return 'other';
}

function layerOf(name: string): number {
  const m = /^blk\.(\d+)\./.exec(name);
  if (m === null) {
    throw new UsageError('QUANT_TENSOR_LAYER', `Cannot tell the layer of tensor "${name}".`, {
      hint: 'Per-layer tensors must be named blk.<N>.<kind>.weight as in llama.cpp GGUF files.',
      details: { name },
    });
  }
  return Number(m[1]);
}

/** llama_tensor_get_type_impl for LLM_ARCH_LLAMA and the ftypes we support. */
function mixtureType(
  newType: GgmlTypeName, name: string, shape: readonly number[], ftype: LlamaFtypeName, facts: ModelFacts,
): GgmlTypeName {
  const cat = category(name);
  const nExpert = facts.nExpert ?? 0;
  const nGqa = facts.nHeadKv > 0 ? Math.trunc(facts.nHead / facts.nHeadKv) : 0;
  const is70B = facts.nLayer === 80 && facts.nHead !== facts.nHeadKv; // llama-model.cpp: LLM_TYPE_70B
  const nx = shape[0] ?? 0;

  if (cat === 'output' || (!facts.hasOutput && cat === 'token_embd')) {
    if (nx % GGML_TYPES[newType].blockSize !== 0) return 'Q8_0';
    return newType !== 'Q8_0' ? 'Q6_K' : newType;
  }
  if (cat === 'token_embd') return newType;
  if (cat === 'attn_v') {
    const i = layerOf(name);
    const n = facts.nLayer;
    let t = newType;
    if (ftype === 'Q2_K') t = nGqa >= 4 ? 'Q4_K' : 'Q3_K';
    else if (ftype === 'Q3_K_M') t = i < 2 ? 'Q5_K' : 'Q4_K';
    else if (ftype === 'Q3_K_L') t = 'Q5_K';
    else if ((ftype === 'Q4_K_M' || ftype === 'Q5_K_M') && useMoreBits(i, n)) t = 'Q6_K';
    else if (ftype === 'Q4_K_S' && i < 4) t = 'Q5_K';
    if (is70B && (t === 'Q3_K' || t === 'Q4_K')) t = 'Q5_K';
    if (nExpert === 8) t = 'Q8_0';
    return t;
  }
  if (cat === 'attn_k') return nExpert === 8 ? 'Q8_0' : newType;
  if (cat === 'ffn_down') {
    const i = layerOf(name);
    const n = facts.nLayer;
    if (ftype === 'Q2_K') return 'Q3_K';
    if (ftype === 'Q3_K_M') return i < Math.trunc(n / 16) ? 'Q5_K' : 'Q4_K';
    if (ftype === 'Q3_K_L') return 'Q5_K';
    if (ftype === 'Q4_K_M') return useMoreBits(i, n) ? 'Q6_K' : newType;
    if (ftype === 'Q5_K_M') return useMoreBits(i, n) ? 'Q6_K' : newType;
    if (ftype === 'Q4_K_S' && i < Math.trunc(n / 8)) return 'Q5_K';
    return newType; // (Q4_0/Q5_0 → Q4_1/Q5_1 only with an importance matrix)
  }
  if (cat === 'attn_output') {
    if (nExpert === 8) {
      return ftype === 'Q2_K' || ftype === 'Q3_K_S' || ftype === 'Q3_K_M' || ftype === 'Q4_K_S' || ftype === 'Q4_K_M'
        ? 'Q5_K'
        : newType;
    }
    if (ftype === 'Q2_K') return 'Q3_K';
    if (ftype === 'Q3_K_M') return 'Q4_K';
    if (ftype === 'Q3_K_L') return 'Q5_K';
    return newType;
  }
  return newType;
}

/** tensor_type_fallback (current upstream). */
function fallback(name: string, nx: number, target: GgmlTypeName): { type: GgmlTypeName; from?: GgmlTypeName } {
  if (nx % GGML_TYPES[target].blockSize === 0) return { type: target };
  let t: GgmlTypeName;
  switch (target) {
    case 'Q2_K':
    case 'Q3_K':
      t = 'Q4_0';
      break;
    case 'Q4_K':
      t = 'Q5_0';
      break;
    case 'Q5_K':
      t = 'Q5_1';
      break;
    case 'Q6_K':
      t = 'Q8_0';
      break;
    default:
      throw new UsageError('QUANT_NO_FALLBACK', `Tensor "${name}" has rows of ${nx} elements, which ${target} cannot store (blocks of ${GGML_TYPES[target].blockSize}), and llama.cpp defines no fallback for ${target}.`, {
        hint: 'Choose a K-quant type (they fall back to a compatible type) or F16/BF16/F32 for this model.',
        details: { name, rowLength: nx, type: target },
      });
  }
  if (nx % GGML_TYPES[t].blockSize !== 0) t = 'F16';
  return { type: t, from: target };
}

export function chooseTensorType(
  tensor: TensorDescription, ftype: LlamaFtype | LlamaFtypeName, facts: ModelFacts, options: ChooseOptions = {},
): TensorTypeChoice {
  const ft = typeof ftype === 'string' ? LLAMA_FTYPES[ftype] : ftype;
  const { name, shape } = tensor;
  if (!tensorAllowsQuantization(name, shape, options.leaveOutputTensor ?? false)) {
    return { type: tensor.type, quantize: false };
  }
  const tied = !facts.hasOutput;
  if (options.tokenEmbeddingType !== undefined && name === 'token_embd.weight') {
    return { type: options.tokenEmbeddingType, quantize: true };
  }
  if (options.outputTensorType !== undefined && (name === 'output.weight' || (tied && name === 'token_embd.weight'))) {
    return { type: options.outputTensorType, quantize: true };
  }
  let type = ft.defaultType;
  if (!GGML_TYPES[type].quantized) return { type, quantize: true };
  if (options.pure !== true) type = mixtureType(type, name, shape, ft.name, facts);
  const fb = fallback(name, shape[0] ?? 0, type);
  return fb.from === undefined ? { type: fb.type, quantize: true } : { type: fb.type, quantize: true, fallbackFrom: fb.from };
}
