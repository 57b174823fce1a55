/**
 * Native layout (src/convert/native.ts): names and merge rules as convert_llama_weights_to_hf.py, rank slices merged
 * along the right dim, params.json → config fields. A full native → GGUF comparison is not built yet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeRanks, nativeHparams, nativeTensorPlan } from '../../src/convert/native.ts';
import type { LlamaError } from '../../src/errors.ts';

test('native names map to GGUF names with their model-parallel split', () => {
  assert.deepEqual(nativeTensorPlan('layers.3.attention.wo.weight', true), { nativeName: 'layers.3.attention.wo.weight', ggufName: 'blk.3.attn_output.weight', concat: 1 });
  assert.equal(nativeTensorPlan('layers.0.feed_forward.w3.weight', true)?.ggufName, 'blk.0.ffn_up.weight');
  assert.equal(nativeTensorPlan('layers.0.feed_forward.w2.weight', true)?.concat, 1);
  assert.equal(nativeTensorPlan('layers.0.attention_norm.weight', false)?.concat, 'replicated');
  assert.equal(nativeTensorPlan('tok_embeddings.weight', false)?.concat, 1);
  assert.equal(nativeTensorPlan('tok_embeddings.weight', true)?.concat, 0);
  assert.equal(nativeTensorPlan('rope.freqs', false), null);
  assert.throws(() => nativeTensorPlan('vision.patch_embed.weight', true), (e: LlamaError) => e.code === 'CONVERT_UNKNOWN_TENSOR' && e.exitCode === 2);
});

test('rank slices merge by rows (dim 0) and by columns (dim 1)', () => {
  const a = Uint8Array.from([1, 2, 3, 4]); // 2×2, one byte per element
  const b = Uint8Array.from([5, 6, 7, 8]);
  assert.deepEqual(mergeRanks([a, b], [[2, 2], [2, 2]], 0, 1), { data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), shape: [4, 2] });
  assert.deepEqual(mergeRanks([a, b], [[2, 2], [2, 2]], 1, 1), { data: Uint8Array.from([1, 2, 5, 6, 3, 4, 7, 8]), shape: [2, 4] });
  assert.deepEqual(mergeRanks([a, b], [[4], [4]], 'replicated', 1).data, a);
  assert.throws(() => mergeRanks([a, b], [[2, 2], [1, 4]], 1, 1), (e: LlamaError) => e.code === 'CONVERT_SHARD_MISMATCH');
});

test('params.json gives the config convert_llama_weights_to_hf.py writes (Llama 3.2 1B numbers)', () => {
  const hp = nativeHparams({ dim: 2048, n_layers: 16, n_heads: 32, n_kv_heads: 8, vocab_size: 128256, ffn_dim_multiplier: 1.5, multiple_of: 256, norm_eps: 1e-5, rope_theta: 500000.0 }, 0);
  // Llama-3.2-1B's config.json: intermediate_size 8192.
  assert.equal(hp.intermediate_size, 8192);
  assert.equal(hp.num_key_value_heads, 8);
  // Llama 3.1 8B: multiplier 1.3, multiple_of 1024 → 14336.
  assert.equal(nativeHparams({ dim: 4096, n_layers: 32, n_heads: 32, ffn_dim_multiplier: 1.3, multiple_of: 1024 }, 128256).intermediate_size, 14336);
  // Llama 2 7B: dim 4096, multiple_of 256, no multiplier → 11008; vocab_size -1 in params.json → the tokenizer's.
  const l2 = nativeHparams({ dim: 4096, n_layers: 32, n_heads: 32, multiple_of: 256, norm_eps: 1e-5, vocab_size: -1 }, 32000);
  assert.equal(l2.intermediate_size, 11008);
  assert.equal(l2.vocab_size, 32000);
  assert.equal(l2.num_key_value_heads, 32);
});
