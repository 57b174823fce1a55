/**
 * Hugging Face LlamaForCausalLM → GGUF: hyper-parameter KVs, tensor names, the Q/K permutation and the Llama 3.1
 * `rope_freqs` tensor, as llama.cpp's convert_hf_to_gguf.py (`LlamaModel`, base `Model`) writes them. Facts from
 * ../shared/research/gguf.md §6 (llama.cpp c392e509, 2025-02) checked against current upstream convert_hf_to_gguf.py.
 */
import { UsageError } from '../errors.ts';
import { kv, type GgufKv } from '../formats/gguf.ts';
import { HPARAM_KEYS, num, type HfModelConfig } from './model-config.ts';

/**
 * `set_gguf_parameters` of TextModel then LlamaModel (current upstream order: rope scaling before freq_base, which
 * comes from the rope parameters; the 2025-02 tree wrote freq_base first and linear scaling last); `ftype` is
 * general.file_type.
 */
export function llamaParameterKvs(config: HfModelConfig, ftype: number): GgufKv[] {
  const raw = config.raw;
  const out: GgufKv[] = [kv.u32('llama.block_count', config.nLayer)];
  const nCtx = num(raw, HPARAM_KEYS.contextLength);
  if (nCtx !== undefined) out.push(kv.u32('llama.context_length', nCtx));
  const nEmbd = num(raw, HPARAM_KEYS.embeddingLength);
  if (nEmbd !== undefined) out.push(kv.u32('llama.embedding_length', nEmbd));
  const nFf = num(raw, HPARAM_KEYS.feedForwardLength);
  if (nFf !== undefined) out.push(kv.u32('llama.feed_forward_length', nFf));
  const nHead = num(raw, HPARAM_KEYS.headCount);
  if (nHead !== undefined) out.push(kv.u32('llama.attention.head_count', nHead));
  const nHeadKv = num(raw, HPARAM_KEYS.headCountKv);
  if (nHeadKv !== undefined) out.push(kv.u32('llama.attention.head_count_kv', nHeadKv));
  if (raw.is_causal === false) out.push(kv.bool('llama.attention.causal', false));
  const rope = ropeParameters(raw);
  const ropeType = typeof rope.rope_type === 'string' ? rope.rope_type : undefined;
  if (ropeType === 'linear' && typeof rope.factor === 'number') {
    out.push(kv.str('llama.rope.scaling.type', 'linear'));
    out.push(kv.f32('llama.rope.scaling.factor', rope.factor));
  } else if (ropeType !== undefined && ropeType.toLowerCase() !== 'llama3') {
    throw new UsageError('CONVERT_UNSUPPORTED_ROPE', `rope scaling type ${ropeType} is not supported for Llama conversion`, {
      hint: 'Supported: no scaling, linear, and llama3 (Llama 3.1+). Convert other variants with llama.cpp.',
      details: { ropeType },
    });
  }
  if (typeof rope.rope_theta === 'number') out.push(kv.f32('llama.rope.freq_base', rope.rope_theta));
  const rmsEps = num(raw, HPARAM_KEYS.rmsNormEps);
  if (rmsEps !== undefined) out.push(kv.f32('llama.attention.layer_norm_rms_epsilon', rmsEps));
  const normEps = num(raw, HPARAM_KEYS.layerNormEps);
  if (normEps !== undefined) out.push(kv.f32('llama.attention.layer_norm_epsilon', normEps));
  const headDim = num(raw, HPARAM_KEYS.headDim);
  if (headDim !== undefined) {
    out.push(kv.u32('llama.attention.key_length', headDim));
    out.push(kv.u32('llama.attention.value_length', headDim));
  }
  out.push(kv.u32('general.file_type', ftype));
  out.push(kv.u32('llama.vocab_size', config.vocabSize));
  out.push(kv.u32('llama.rope.dimension_count', config.headDim));
  return out;
}

/**
 * TextModel's rope parameters: config `rope_parameters` or `rope_scaling`, with rope_theta, rope_type (from `type`)
 * and original_max_position_embeddings mirrored in from the top level when absent.
 */
function ropeParameters(raw: Record<string, unknown>): Record<string, unknown> {
  const source = raw.rope_parameters ?? raw.rope_scaling;
  const rope: Record<string, unknown> = source !== null && typeof source === 'object' && !Array.isArray(source) ? { ...(source as Record<string, unknown>) } : {};
  const full = rope.full_attention;
  if (full !== null && typeof full === 'object') return full as Record<string, unknown>;
  const theta = num(raw, HPARAM_KEYS.ropeTheta);
  if (!('rope_theta' in rope) && theta !== undefined) rope.rope_theta = theta;
  if (!('rope_type' in rope) && rope.type !== undefined) rope.rope_type = rope.type;
  const original = num(raw, HPARAM_KEYS.originalContextLength);
  if (!('original_max_position_embeddings' in rope) && original !== undefined) rope.original_max_position_embeddings = original;
  return rope;
}

/**
 * The `rope_freqs.weight` factors for `rope_type: "llama3"` (Llama 3.1+), or undefined. convert_hf_to_gguf.py computes
 * them with float32 torch ops; each step here is rounded to float32 the way torch evaluates it (`a / t` on a tensor is
 * `t.reciprocal() * a`). `base ** x` uses a correctly rounded pow, which torch's vectorised powf may miss by an ulp in
 * the smooth band; llama.cpp uses these as frequency divisors, so an ulp there is immaterial.
 */
export function llama3RopeFactors(config: HfModelConfig): Float32Array | undefined {
  const scaling = ropeParameters(config.raw);
  const ropeType = String(scaling.rope_type ?? '').toLowerCase();
  if (ropeType !== 'llama3') return undefined;
  const f = Math.fround;
  const base = typeof scaling.rope_theta === 'number' ? scaling.rope_theta : 10000;
  const dim = config.headDim;
  const factor = typeof scaling.factor === 'number' ? scaling.factor : 8.0;
  const low = typeof scaling.low_freq_factor === 'number' ? scaling.low_freq_factor : 1.0;
  const high = typeof scaling.high_freq_factor === 'number' ? scaling.high_freq_factor : 4.0;
  const oldCtx = typeof scaling.original_max_position_embeddings === 'number' ? scaling.original_max_position_embeddings : 8192;
  const lowWavelen = oldCtx / low;
  const highWavelen = oldCtx / high;
  const out = new Float32Array(Math.ceil(dim / 2));
  const twoPi = f(2 * Math.PI);
  for (let i = 0; i < out.length; i++) {
    const exponent = f((2 * i) / dim);
    const freq = f(1 / f(Math.pow(f(base), exponent)));
    const wavelen = f(f(1 / freq) * twoPi);
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = factor;
    else {
      const smooth = f(f(f(f(1 / wavelen) * f(oldCtx)) - f(low)) / f(high - low));
      out[i] = f(1 / f(f(f(1 - smooth) / f(factor)) + smooth));
    }
  }
  return out;
}

/**
 * HF tensor name → GGUF name (gguf-py tensor_mapping.py for LLAMA); null for names convert skips; a name it cannot
 * map is an error there too ("Can not map tensor").
 */
export function ggufTensorName(hfName: string): string | null {
  if (hfName.endsWith('.rotary_emb.inv_freq') || hfName.endsWith('.attention.masked_bias') || hfName.endsWith('.attention.bias')) {
    return null;
  }
  const suffixMatch = /\.(weight|bias)$/.exec(hfName);
  if (suffixMatch === null) throw unmappable(hfName);
  const suffix = suffixMatch[0];
  const stem = hfName.slice(0, -suffix.length);
  const direct: Record<string, string> = {
    'model.embed_tokens': 'token_embd',
    'model.norm': 'output_norm',
    lm_head: 'output',
  };
  if (direct[stem] !== undefined) return direct[stem] + suffix;
  const layer = /^model\.layers\.(\d+)\.(.+)$/.exec(stem);
  if (layer === null) throw unmappable(hfName);
  const blockNames: Record<string, string> = {
    input_layernorm: 'attn_norm',
    'self_attn.q_proj': 'attn_q',
    'self_attn.k_proj': 'attn_k',
    'self_attn.v_proj': 'attn_v',
    'self_attn.o_proj': 'attn_output',
    post_attention_layernorm: 'ffn_norm',
    'mlp.gate_proj': 'ffn_gate',
    'mlp.up_proj': 'ffn_up',
    'mlp.down_proj': 'ffn_down',
  };
  const mapped = blockNames[layer[2]!];
  if (mapped === undefined) throw unmappable(hfName);
  return `blk.${layer[1]}.${mapped}${suffix}`;
}

function unmappable(name: string): UsageError {
  return new UsageError('CONVERT_UNKNOWN_TENSOR', `cannot map tensor ${name} to a llama.cpp name`, {
    hint: 'The checkpoint holds tensors a plain LlamaForCausalLM does not have; it is probably another architecture.',
    details: { tensor: name },
  });
}

/**
 * LlamaModel.permute for whole heads: HF's rotate-half layout → llama.cpp's interleaved one.
 * out row h*hd + 2i + j = in row h*hd + j*(hd/2) + i. `rows` holds `nRows` rows of `rowLength`, a whole number of heads.
 */
export function permuteHeads(rows: Float32Array, nRows: number, rowLength: number, headRows: number): Float32Array {
  const out = new Float32Array(rows.length);
  const half = headRows / 2;
  for (let h = 0; h < nRows; h += headRows) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const dst = (h + 2 * i + j) * rowLength;
        const src = (h + j * half + i) * rowLength;
        out.set(rows.subarray(src, src + rowLength), dst);
      }
    }
  }
  return out;
}
