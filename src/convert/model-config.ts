/** A Hugging Face checkpoint's config.json, read and checked for what the Llama converter needs. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';

/** The architectures convert_hf_to_gguf.py maps to MODEL_ARCH.LLAMA that this converter handles (dense, no MoE). */
const LLAMA_ARCHITECTURES = ['LlamaForCausalLM', 'LLaMAForCausalLM'];

/** The model's config.json (Hugging Face), as far as the converter needs it; not the tool's own configuration. */
export interface HfModelConfig {
  architecture: string;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  nHeadKv: number;
  headDim: number;
  vocabSize: number;
  /** The raw config.json, for the keys that are only copied. */
  raw: Record<string, unknown>;
}

export function num(raw: Record<string, unknown>, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const value = raw[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return undefined;
}

export async function readHfModelConfig(dir: string): Promise<HfModelConfig> {
  const path = join(dir, 'config.json');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
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
  if (!LLAMA_ARCHITECTURES.includes(architecture)) {
    throw new UsageError('CONVERT_UNSUPPORTED_ARCHITECTURE', `architecture ${architecture} is not supported`, {
      hint: 'llama quantize converts LlamaForCausalLM checkpoints (Llama 1, 2, 3, 3.1, 3.2, 3.3). Convert other models with llama.cpp.',
      details: { architecture, file: path },
    });
  }
  const need = (keys: readonly string[]): number => {
    const value = num(raw, keys);
    if (value === undefined || !Number.isSafeInteger(value) || value <= 0) {
      throw new UsageError('CONVERT_BAD_CONFIG', `config.json has no valid ${keys[0]}`, {
        hint: 'config.json is incomplete; use the file that came with the checkpoint.',
        details: { file: path, key: keys[0] },
      });
    }
    return value;
  };
  const nLayer = need(['n_layers', 'num_hidden_layers', 'n_layer', 'num_layers']);
  const nEmbd = need(['hidden_size', 'n_embd']);
  const nHead = need(['num_attention_heads', 'n_head']);
  const nHeadKv = num(raw, ['num_key_value_heads']) ?? nHead;
  const headDim = num(raw, ['head_dim']) ?? Math.floor(nEmbd / nHead);
  const vocabSize = need(['vocab_size']);
  if (nHead % nHeadKv !== 0) {
    throw new UsageError('CONVERT_BAD_CONFIG', `num_attention_heads ${nHead} is not a multiple of num_key_value_heads ${nHeadKv}`, {
      hint: 'config.json is inconsistent; use the file that came with the checkpoint.',
      details: { file: path },
    });
  }
  return { architecture, nLayer, nEmbd, nHead, nHeadKv, headDim, vocabSize, raw };
}
