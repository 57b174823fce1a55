/**
 * A Hugging Face checkpoint's config.json, read and checked for what the Llama converter needs, before anything is
 * allocated from it: every hyper-parameter the GGUF gets must fit its GGUF type (u32, f32) and make a model (positive
 * sizes, a positive rope base, a scaling factor > 0, low_freq_factor < high_freq_factor, …). A key counts as given
 * when it is present, null included, as convert_hf_to_gguf.py's find_hparam takes the first present key.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.ts';
import { readRegularFile } from '../fs/regular-file.ts';

/** The architectures convert_hf_to_gguf.py maps to MODEL_ARCH.LLAMA that this converter handles (dense, no MoE). */
const LLAMA_ARCHITECTURES = ['LlamaForCausalLM', 'LLaMAForCausalLM'];

/**
 * Llama-family architectures this converter refuses with their own reason. Mllama: llama.cpp of 2026-09-12 has no
 * converter, no `mllama` architecture and no mmproj for it (convert_hf_to_gguf.py logs "Model
 * MllamaForConditionalGeneration is not supported", llama.cpp #9663, #13805); Ollama's single-file mllama GGUF is
 * its own engine's format, not one llama.cpp loads (shared/research/publish-sign-quant2.md §5).
 */
const KNOWN_UNCONVERTED: Record<string, { code: string; reason: string; hint: string }> = {
  MllamaForConditionalGeneration: {
    code: 'CONVERT_MLLAMA_UNSUPPORTED',
    reason: 'llama.cpp has no converter and no GGUF architecture for Llama 3.2 Vision (Mllama), so no GGUF of it would load in llama.cpp',
    hint: 'Quantize the text-only Llama 3.2 models (1B, 3B) or Llama 3.3; for the Vision models use a runtime with its own Mllama support.',
  },
  Llama4ForConditionalGeneration: {
    code: 'CONVERT_LLAMA4_NOT_BUILT',
    reason: 'Llama 4 (mixture of experts, vision encoder) conversion is not built in this version of llama-dist',
    hint: 'Convert it with llama.cpp\'s convert_hf_to_gguf.py, then run llama quantize on the GGUF.',
  },
  Llama4ForCausalLM: {
    code: 'CONVERT_LLAMA4_NOT_BUILT',
    reason: 'Llama 4 (mixture of experts) conversion is not built in this version of llama-dist',
    hint: 'Convert it with llama.cpp\'s convert_hf_to_gguf.py, then run llama quantize on the GGUF.',
  },
};

/** The model's config.json (Hugging Face), as far as the converter needs it; not the tool's own configuration. */
export interface HfModelConfig {
  architecture: string;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  nHeadKv: number;
  headDim: number;
  vocabSize: number;
  /** The raw config.json (checked), for the keys that are only copied. */
  raw: Record<string, unknown>;
}

/** convert_hf_to_gguf.py's key lists (find_hparam: the first present key wins) for each hyper-parameter written. */
export const HPARAM_KEYS = {
  blockCount: ['n_layers', 'num_hidden_layers', 'n_layer', 'num_layers'],
  contextLength: ['max_position_embeddings', 'n_ctx', 'n_positions', 'max_length', 'max_sequence_length', 'model_max_length'],
  embeddingLength: ['hidden_size', 'n_embd', 'dim'],
  feedForwardLength: ['prefix_dense_intermediate_size', 'dense_intermediate_size', 'intermediate_size', 'n_inner', 'hidden_dim'],
  headCount: ['num_attention_heads', 'n_head', 'n_heads'],
  headCountKv: ['num_key_value_heads', 'n_kv_heads'],
  ropeTheta: ['global_rope_theta', 'rope_global_theta', 'rope_theta_global', 'rope_theta', 'rotary_emb_base'],
  rmsNormEps: ['rms_norm_eps', 'norm_eps'],
  layerNormEps: ['layer_norm_eps', 'layer_norm_epsilon', 'norm_epsilon'],
  headDim: ['head_dim'],
  vocabSize: ['vocab_size'],
  originalContextLength: ['original_max_position_embeddings'],
} as const;

const U32_MAX = 2 ** 32 - 1;
/** The largest finite float32: a larger value would be written as Inf. */
const F32_MAX = 3.4028234663852886e38;

/** A count or size: a GGUF u32 that is at least 1. */
const size = z.number({ error: 'must be a number' }).int('must be an integer').min(1, 'must be at least 1').max(U32_MAX, 'does not fit a GGUF u32 (at most 4294967295)');
const positiveF32 = z.number({ error: 'must be a number' }).positive('must be greater than 0').max(F32_MAX, 'does not fit a GGUF f32');
const epsilon = z.number({ error: 'must be a number' }).min(0, 'must not be negative').max(F32_MAX, 'does not fit a GGUF f32');

const HPARAM_SCHEMAS: Record<keyof typeof HPARAM_KEYS, z.ZodType<number>> = {
  blockCount: size,
  contextLength: size,
  embeddingLength: size,
  feedForwardLength: size,
  headCount: size,
  headCountKv: size,
  ropeTheta: positiveF32,
  rmsNormEps: epsilon,
  layerNormEps: epsilon,
  headDim: size,
  vocabSize: size,
  originalContextLength: size,
};

/** The rope parameters object (`rope_scaling` / `rope_parameters`) as far as the Llama rope types use it. */
const ropeSchema = z.looseObject({
  rope_type: z.string({ error: 'must be a string' }).optional(),
  type: z.string({ error: 'must be a string' }).optional(),
  factor: positiveF32.optional(),
  low_freq_factor: positiveF32.optional(),
  high_freq_factor: positiveF32.optional(),
  original_max_position_embeddings: size.optional(),
  rope_theta: positiveF32.optional(),
}).refine((r) => r.low_freq_factor === undefined || r.high_freq_factor === undefined || r.low_freq_factor < r.high_freq_factor, {
  message: 'low_freq_factor must be less than high_freq_factor',
  path: ['low_freq_factor'],
});

/** The first present key of `keys` in `raw` and its value (convert_hf_to_gguf.py find_hparam). */
export function findHparam(raw: Record<string, unknown>, keys: readonly string[]): { key: string; value: unknown } | undefined {
  for (const key of keys) if (Object.hasOwn(raw, key)) return { key, value: raw[key] };
  return undefined;
}

/** The value of the first present key of `keys`, once readHfModelConfig has checked it is a number. */
export function num(raw: Record<string, unknown>, keys: readonly string[]): number | undefined {
  const found = findHparam(raw, keys);
  return typeof found?.value === 'number' ? found.value : undefined;
}

function badValue(path: string, key: string, value: unknown, reason: string): UsageError {
  return new UsageError('CONVERT_BAD_CONFIG', `config.json: ${key} ${reason} (got ${JSON.stringify(value) ?? String(value)})`, {
    hint: 'config.json is damaged or does not describe this model; use the file that came with the weights.',
    details: { file: path, key, value },
  });
}

/** Every hyper-parameter the converter reads, checked against its GGUF type and what makes a model. */
function checkHparams(path: string, raw: Record<string, unknown>): void {
  for (const [name, keys] of Object.entries(HPARAM_KEYS) as [keyof typeof HPARAM_KEYS, readonly string[]][]) {
    const found = findHparam(raw, keys);
    if (found === undefined) continue;
    const checked = HPARAM_SCHEMAS[name].safeParse(found.value);
    if (!checked.success) throw badValue(path, found.key, found.value, checked.error.issues[0]?.message ?? 'is not valid');
  }
  for (const key of ['rope_parameters', 'rope_scaling']) {
    const value = raw[key];
    if (value === undefined || value === null) continue;
    const rope = value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
    // rope_parameters may hold one object per attention kind; the converter reads full_attention's
    const full = rope?.full_attention;
    const target = full !== null && typeof full === 'object' ? full : value;
    const checked = ropeSchema.safeParse(target);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const field = issue?.path.length ? `${key}.${issue.path.join('.')}` : key;
      const got = issue?.path.length && target !== null && typeof target === 'object' ? (target as Record<string, unknown>)[String(issue.path[0])] : target;
      throw badValue(path, field, got, issue?.code === 'invalid_type' && issue.path.length === 0 ? 'must be an object' : issue?.message ?? 'is not valid');
    }
    break; // convert reads rope_parameters, else rope_scaling
  }
}

export async function readHfModelConfig(dir: string): Promise<HfModelConfig> {
  const path = join(dir, 'config.json');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse((await readRegularFile(path)).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError('CONVERT_NO_CONFIG', `cannot read ${path}: ${(error as Error).message}`, {
      hint: 'Point at a Hugging Face checkpoint directory (it holds config.json, *.safetensors and tokenizer files).',
      details: { file: path },
      cause: error,
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UsageError('CONVERT_BAD_CONFIG', `${path} is not a JSON object`, { hint: 'Repair config.json.', details: { file: path } });
  }
  const architectures = Array.isArray(raw.architectures) ? raw.architectures : [];
  const architecture = typeof architectures[0] === 'string' ? architectures[0] : String(raw.model_type ?? 'unknown');
  const known = KNOWN_UNCONVERTED[architecture];
  if (known !== undefined) {
    throw new UsageError(known.code, `architecture ${architecture} is not supported: ${known.reason}`, {
      hint: known.hint,
      details: { architecture, file: path },
    });
  }
  if (!LLAMA_ARCHITECTURES.includes(architecture)) {
    throw new UsageError('CONVERT_UNSUPPORTED_ARCHITECTURE', `architecture ${architecture} is not supported`, {
      hint: 'llama quantize converts LlamaForCausalLM checkpoints (Llama 1, 2, 3, 3.1, 3.2, 3.3). Convert other models with llama.cpp.',
      details: { architecture, file: path },
    });
  }
  checkHparams(path, raw);
  const need = (keys: readonly string[]): number => {
    const value = num(raw, keys);
    if (value === undefined) {
      throw new UsageError('CONVERT_BAD_CONFIG', `config.json has no valid ${keys[0]}`, {
        hint: 'config.json is incomplete; use the file that came with the checkpoint.',
        details: { file: path, key: keys[0] },
      });
    }
    return value;
  };
  const nLayer = need(HPARAM_KEYS.blockCount);
  const nEmbd = need(['hidden_size', 'n_embd']);
  const nHead = need(['num_attention_heads', 'n_head']);
  const nHeadKv = num(raw, ['num_key_value_heads']) ?? nHead;
  const headDim = num(raw, HPARAM_KEYS.headDim) ?? Math.floor(nEmbd / nHead);
  const vocabSize = need(HPARAM_KEYS.vocabSize);
  if (nHead % nHeadKv !== 0) {
    throw new UsageError('CONVERT_BAD_CONFIG', `num_attention_heads ${nHead} is not a multiple of num_key_value_heads ${nHeadKv}`, {
      hint: 'config.json is inconsistent; use the file that came with the checkpoint.',
      details: { file: path },
    });
  }
  return { architecture, nLayer, nEmbd, nHead, nHeadKv, headDim, vocabSize, raw };
}
