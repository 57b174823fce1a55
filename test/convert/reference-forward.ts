/**
 * A small float64 Llama forward pass straight from a Hugging Face checkpoint (safetensors + config.json), written from
 * the transformers LlamaForCausalLM definition: RMSNorm, rotate-half RoPE (with Llama 3 frequency scaling),
 * grouped-query causal attention, SwiGLU MLP, tied or separate lm_head. The reference the GGUF logits are checked
 * against; it never reads the GGUF, so a conversion mistake (names, permutation, rope factors) shows as a mismatch.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsCheckpoint } from '../../src/formats/safetensors.ts';

type Matrix = { rows: number; cols: number; data: Float64Array };

interface RopeScaling {
  rope_type?: string;
  type?: string;
  factor: number;
  low_freq_factor: number;
  high_freq_factor: number;
  original_max_position_embeddings: number;
}

interface Config {
  num_attention_heads: number;
  num_key_value_heads?: number;
  num_hidden_layers: number;
  hidden_size: number;
  head_dim?: number;
  rms_norm_eps: number;
  rope_theta?: number;
  rope_scaling?: RopeScaling | null;
}

async function load(ckpt: SafetensorsCheckpoint, name: string): Promise<Matrix> {
  const t = ckpt.get(name);
  if (t === undefined) throw new Error(`missing ${name}`);
  const f32 = await ckpt.readTensor(t);
  const rows = t.shape.length === 2 ? t.shape[0]! : 1;
  return { rows, cols: f32.length / rows, data: Float64Array.from(f32) };
}

function matvec(m: Matrix, x: Float64Array): Float64Array {
  const out = new Float64Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    const o = r * m.cols;
    for (let c = 0; c < m.cols; c++) s += m.data[o + c]! * x[c]!;
    out[r] = s;
  }
  return out;
}

function rmsNorm(x: Float64Array, w: Matrix, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const scale = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * scale * w.data[i]!);
}

/** transformers' inverse frequencies, including rope_type "llama3" (_compute_llama3_parameters). */
function inverseFrequencies(config: Config, headDim: number): Float64Array {
  const base = config.rope_theta ?? 10000;
  const inv = new Float64Array(headDim / 2).map((_, i) => 1 / base ** ((2 * i) / headDim));
  const s = config.rope_scaling;
  if (s == null || (s.rope_type ?? s.type) !== 'llama3') return inv;
  const lowWavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const highWavelen = s.original_max_position_embeddings / s.high_freq_factor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / s.factor;
    const smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    return (1 - smooth) * (f / s.factor) + smooth * f;
  });
}

function rope(v: Float64Array, heads: number, headDim: number, pos: number, inv: Float64Array): void {
  const half = headDim / 2;
  for (let h = 0; h < heads; h++) {
    const o = h * headDim;
    for (let i = 0; i < half; i++) {
      const a = pos * inv[i]!;
      const c = Math.cos(a);
      const s = Math.sin(a);
      const x1 = v[o + i]!;
      const x2 = v[o + i + half]!;
      v[o + i] = x1 * c - x2 * s;
      v[o + i + half] = x2 * c + x1 * s;
    }
  }
}

/** Logits of the last position for `tokens`. */
export async function referenceLogits(dir: string, tokens: readonly number[]): Promise<Float64Array> {
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Config;
  const ckpt = await SafetensorsCheckpoint.open(dir);
  try {
    const heads = config.num_attention_heads;
    const kvHeads = config.num_key_value_heads ?? heads;
    const headDim = config.head_dim ?? config.hidden_size / heads;
    const eps = config.rms_norm_eps;
    const inv = inverseFrequencies(config, headDim);
    const embed = await load(ckpt, 'model.embed_tokens.weight');
    let xs = tokens.map((t) => embed.data.slice(t * embed.cols, (t + 1) * embed.cols));
    for (let l = 0; l < config.num_hidden_layers; l++) {
      const p = `model.layers.${l}.`;
      const [inNorm, wq, wk, wv, wo, postNorm, wg, wu, wd] = await Promise.all(
        ['input_layernorm', 'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'post_attention_layernorm', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'].map((n) => load(ckpt, `${p}${n}.weight`)),
      );
      const qs: Float64Array[] = [];
      const ks: Float64Array[] = [];
      const vs: Float64Array[] = [];
      xs.forEach((x, pos) => {
        const h = rmsNorm(x, inNorm!, eps);
        const q = matvec(wq!, h);
        const k = matvec(wk!, h);
        rope(q, heads, headDim, pos, inv);
        rope(k, kvHeads, headDim, pos, inv);
        qs.push(q);
        ks.push(k);
        vs.push(matvec(wv!, h));
      });
      xs = xs.map((x, pos) => {
        const attn = new Float64Array(heads * headDim);
        for (let h = 0; h < heads; h++) {
          const kvh = Math.floor(h / (heads / kvHeads));
          const scores = new Float64Array(pos + 1);
          for (let j = 0; j <= pos; j++) {
            let s = 0;
            for (let d = 0; d < headDim; d++) s += qs[pos]![h * headDim + d]! * ks[j]![kvh * headDim + d]!;
            scores[j] = s / Math.sqrt(headDim);
          }
          const max = Math.max(...scores);
          let sum = 0;
          for (let j = 0; j <= pos; j++) sum += scores[j] = Math.exp(scores[j]! - max);
          for (let j = 0; j <= pos; j++) {
            for (let d = 0; d < headDim; d++) attn[h * headDim + d] = attn[h * headDim + d]! + (scores[j]! / sum) * vs[j]![kvh * headDim + d]!;
          }
        }
        const o = matvec(wo!, attn);
        const y = x.map((v, i) => v + o[i]!);
        const h2 = rmsNorm(y, postNorm!, eps);
        const g = matvec(wg!, h2);
        const u = matvec(wu!, h2);
        const act = g.map((v, i) => (v / (1 + Math.exp(-v))) * u[i]!);
        const down = matvec(wd!, act);
        return y.map((v, i) => v + down[i]!);
      });
    }
    const norm = await load(ckpt, 'model.norm.weight');
    const head = ckpt.get('lm_head.weight') === undefined ? embed : await load(ckpt, 'lm_head.weight');
    return matvec(head, rmsNorm(xs[xs.length - 1]!, norm, eps));
  } finally {
    await ckpt.close();
  }
}
