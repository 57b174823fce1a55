/**
 * Meta's native Llama layout (params.json + consolidated.NN.pth, one file per model-parallel rank) as tensors with
 * GGUF names, merged across ranks. Facts from transformers' convert_llama_weights_to_hf.py (the route llama.cpp points
 * native users to, ../shared/research/publish-sign-quant2.md §6):
 * - column-parallel weights (wq, wk, wv, w1, w3, output) are split by rows → ranks are concatenated along torch dim 0;
 * - row-parallel weights (wo, w2) are split by columns → concatenated along dim 1;
 * - tok_embeddings: dim 1 for Llama 1/2 (ParallelEmbedding), dim 0 for Llama 3 (VocabParallelEmbedding);
 * - norms are replicated: rank 0's copy; `rope.freqs` is a buffer the HF conversion drops.
 * The q/k rows need no permutation here: HF's converter permutes Meta's interleaved rotary layout into rotate-half and
 * convert_hf_to_gguf.py permutes it back (LlamaModel.permute), so a GGUF holds Meta's order.
 */
import { UsageError } from '../errors.ts';

export type ConcatDim = 0 | 1 | 'replicated';

export interface NativeTensorPlan {
  nativeName: string;
  ggufName: string;
  concat: ConcatDim;
}

const BLOCK: Record<string, [string, ConcatDim]> = {
  'attention.wq': ['attn_q', 0],
  'attention.wk': ['attn_k', 0],
  'attention.wv': ['attn_v', 0],
  'attention.wo': ['attn_output', 1],
  'feed_forward.w1': ['ffn_gate', 0],
  'feed_forward.w2': ['ffn_down', 1],
  'feed_forward.w3': ['ffn_up', 0],
  attention_norm: ['attn_norm', 'replicated'],
  ffn_norm: ['ffn_norm', 'replicated'],
};

/** The GGUF name and merge rule of a native tensor; null for what the conversion drops. */
export function nativeTensorPlan(name: string, llama3: boolean): NativeTensorPlan | null {
  if (name === 'rope.freqs') return null;
  if (name === 'tok_embeddings.weight') return { nativeName: name, ggufName: 'token_embd.weight', concat: llama3 ? 0 : 1 };
  if (name === 'norm.weight') return { nativeName: name, ggufName: 'output_norm.weight', concat: 'replicated' };
  if (name === 'output.weight') return { nativeName: name, ggufName: 'output.weight', concat: 0 };
  const m = /^layers\.(\d+)\.(.+)\.weight$/.exec(name);
  const rule = m ? BLOCK[m[2] as string] : undefined;
  if (!m || !rule) {
    throw new UsageError('CONVERT_UNKNOWN_TENSOR', `cannot map the native tensor ${name} to a llama.cpp name`, {
      hint: 'Only Meta\'s native Llama text checkpoints (params.json + consolidated.NN.pth) are read; this one holds other tensors.',
      details: { tensor: name },
    });
  }
  return { nativeName: name, ggufName: `blk.${m[1]}.${rule[0]}.weight`, concat: rule[1] };
}

/**
 * Merge one tensor's rank slices (row-major, `shapes[r]` = [rows, cols] or [n]) into the whole tensor's bytes.
 * `elementSize` bytes per element.
 */
export function mergeRanks(slices: Uint8Array[], shapes: number[][], concat: ConcatDim, elementSize: number): { data: Uint8Array; shape: number[] } {
  const first = shapes[0];
  if (!first || slices.length !== shapes.length) throw new Error('mergeRanks needs one shape per slice');
  if (concat === 'replicated' || slices.length === 1) return { data: slices[0] as Uint8Array, shape: first };
  const rows = first[0] as number;
  if (concat === 0) {
    const cols = first.slice(1);
    for (const s of shapes) if (s.slice(1).join() !== cols.join()) throw mismatch(shapes);
    const total = slices.reduce((a, s) => a + s.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const s of slices) {
      out.set(s, at);
      at += s.length;
    }
    return { data: out, shape: [shapes.reduce((a, s) => a + (s[0] as number), 0), ...cols] };
  }
  for (const s of shapes) if (s.length !== 2 || s[0] !== rows) throw mismatch(shapes);
  const widths = shapes.map((s) => (s[1] as number) * elementSize);
  const rowBytes = widths.reduce((a, b) => a + b, 0);
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    let at = r * rowBytes;
    slices.forEach((s, i) => {
      const w = widths[i] as number;
      out.set(s.subarray(r * w, (r + 1) * w), at);
      at += w;
    });
  }
  return { data: out, shape: [rows, rowBytes / elementSize] };
}

function mismatch(shapes: number[][]): UsageError {
  return new UsageError('CONVERT_SHARD_MISMATCH', `the model-parallel shards do not fit together (shapes ${shapes.map((s) => s.join('×')).join(', ')})`, {
    hint: 'All consolidated.NN.pth of one checkpoint must come from the same release; download them again (llama pull meta:… checks them against checklist.chk).',
  });
}

/** params.json → the config.json fields convert_llama_weights_to_hf.py writes (intermediate size as it computes it). */
export function nativeHparams(params: Record<string, unknown>, vocabSize: number): Record<string, unknown> {
  const num = (k: string): number | undefined => (typeof params[k] === 'number' ? (params[k] as number) : undefined);
  const dim = num('dim');
  const nHeads = num('n_heads');
  const nLayers = num('n_layers');
  if (dim === undefined || nHeads === undefined || nLayers === undefined) {
    throw new UsageError('CONVERT_NATIVE_PARAMS', 'params.json lacks dim, n_heads or n_layers.', { hint: 'Use the params.json Meta ships beside consolidated.00.pth.' });
  }
  const multipleOf = num('multiple_of') ?? 256;
  const multiplier = num('ffn_dim_multiplier') ?? 1;
  // compute_intermediate_size: multiple_of * ceil(int(multiplier * int(8 * dim / 3)) / multiple_of)
  const intermediate = multipleOf * Math.floor((Math.floor(multiplier * Math.floor((8 * dim) / 3)) + multipleOf - 1) / multipleOf);
  return {
    architectures: ['LlamaForCausalLM'],
    hidden_size: dim,
    intermediate_size: intermediate,
    num_attention_heads: nHeads,
    num_hidden_layers: nLayers,
    num_key_value_heads: num('n_kv_heads') ?? nHeads,
    rms_norm_eps: num('norm_eps') ?? 1e-5,
    rope_theta: num('rope_theta') ?? 10000,
    vocab_size: (num('vocab_size') ?? -1) > 0 ? num('vocab_size') : vocabSize,
  };
}
