/**
 * The per-tensor type choice against llama-quantize's own decisions: the tensor types recorded in the headers of
 * its outputs for the reference model (test/fixtures/quant/README.md), plus hand-derived cases for what the small
 * model cannot show (32/80 layers, GQA, tied embeddings, odd row lengths).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chooseTensorType, tensorAllowsQuantization, useMoreBits, type ModelFacts } from '../../src/quant/choose.ts';
import { ftypeById, ggmlTypeById, parseFtype, type GgmlTypeName } from '../../src/quant/types.ts';
import { LlamaError } from '../../src/errors.ts';
import { readGgufHeader, type GgufHeader } from './gguf-header.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'quant');
const header = (f: string): GgufHeader => readGgufHeader(new Uint8Array(readFileSync(join(FIXTURES, f))));

const input = header('golden-f32.header.gguf');
const facts: ModelFacts = {
  nLayer: input.kv.get('llama.block_count') as number,
  nHead: input.kv.get('llama.attention.head_count') as number,
  nHeadKv: input.kv.get('llama.attention.head_count_kv') as number,
  hasOutput: input.tensors.some((t) => t.name === 'output.weight'),
};

function typeName(id: number): GgmlTypeName {
  const t = ggmlTypeById(id);
  assert.ok(t !== undefined, `type id ${id}`);
  return t.name;
}

const outputs = readdirSync(FIXTURES).filter((f) => /^(mix|pure)-.*\.header\.gguf$/.test(f)).sort();

test('the fixtures cover every mixture and --pure type', () => {
  assert.equal(outputs.filter((f) => f.startsWith('mix-')).length, 11);
  assert.equal(outputs.filter((f) => f.startsWith('pure-')).length, 10);
});

for (const file of outputs) {
  const pure = file.startsWith('pure-');
  test(`${file.replace('.header.gguf', '')}: every tensor gets llama-quantize's type`, () => {
    const out = header(file);
    const ftype = ftypeById(out.kv.get('general.file_type') as number);
    assert.ok(ftype !== undefined);
    assert.equal(out.tensors.length, input.tensors.length);
    for (const t of out.tensors) {
      const src = input.tensors.find((s) => s.name === t.name);
      assert.ok(src !== undefined, t.name);
      const choice = chooseTensorType({ name: t.name, shape: src.ne, type: typeName(src.type) }, ftype, facts, { pure });
      assert.equal(choice.type, typeName(t.type), `${t.name} in ${file}`);
      assert.equal(choice.quantize, src.ne.length >= 2, t.name);
      assert.equal(choice.fallbackFrom, undefined);
    }
  });
}

const llama2_7b: ModelFacts = { nLayer: 32, nHead: 32, nHeadKv: 32, hasOutput: true };
const w = (name: string, shape: number[] = [4096, 4096]) => ({ name, shape, type: 'F16' as const });

test('use_more_bits picks layers 0-3, every third from 6, and 28-31 of 32 (gguf.md §5)', () => {
  const picked = Array.from({ length: 32 }, (_, i) => i).filter((i) => useMoreBits(i, 32));
  assert.deepEqual(picked, [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]);
  const q4km = Array.from({ length: 32 }, (_, i) => chooseTensorType(w(`blk.${i}.ffn_down.weight`, [11008, 4096]), 'Q4_K_M', llama2_7b).type);
  assert.deepEqual(q4km.map((t, i) => (t === 'Q6_K' ? i : -1)).filter((i) => i >= 0), picked);
  assert.ok(q4km.every((t) => t === 'Q6_K' || t === 'Q4_K'));
});

test('Q2_K attn_v depends on GQA; 70B (80 layers, GQA) lifts Q3_K/Q4_K attn_v to Q5_K', () => {
  const gqa8: ModelFacts = { nLayer: 32, nHead: 32, nHeadKv: 8, hasOutput: true };
  assert.equal(chooseTensorType(w('blk.3.attn_v.weight', [4096, 1024]), 'Q2_K', llama2_7b).type, 'Q3_K');
  assert.equal(chooseTensorType(w('blk.3.attn_v.weight', [4096, 1024]), 'Q2_K', gqa8).type, 'Q4_K');
  const l70b: ModelFacts = { nLayer: 80, nHead: 64, nHeadKv: 8, hasOutput: true };
  assert.equal(chooseTensorType(w('blk.40.attn_v.weight', [8192, 1024]), 'Q3_K_M', l70b).type, 'Q5_K');
  assert.equal(chooseTensorType(w('blk.40.attn_v.weight', [8192, 1024]), 'Q3_K_S', l70b).type, 'Q5_K');
  assert.equal(chooseTensorType(w('blk.40.attn_q.weight', [8192, 8192]), 'Q3_K_S', l70b).type, 'Q3_K');
  const l65b: ModelFacts = { nLayer: 80, nHead: 64, nHeadKv: 64, hasOutput: true };
  assert.equal(chooseTensorType(w('blk.40.attn_v.weight', [8192, 8192]), 'Q3_K_S', l65b).type, 'Q3_K');
});

test('Q3_K_M/Q4_K_S layer thresholds and attn_output rules on 32 layers', () => {
  const t = (name: string, f: Parameters<typeof chooseTensorType>[1]) => chooseTensorType(w(name), f, llama2_7b).type;
  assert.equal(t('blk.1.ffn_down.weight', 'Q3_K_M'), 'Q5_K'); // i < 32/16
  assert.equal(t('blk.2.ffn_down.weight', 'Q3_K_M'), 'Q4_K');
  assert.equal(t('blk.1.attn_v.weight', 'Q3_K_M'), 'Q5_K');
  assert.equal(t('blk.2.attn_v.weight', 'Q3_K_M'), 'Q4_K');
  assert.equal(t('blk.3.attn_v.weight', 'Q4_K_S'), 'Q5_K');
  assert.equal(t('blk.4.attn_v.weight', 'Q4_K_S'), 'Q4_K');
  assert.equal(t('blk.3.ffn_down.weight', 'Q4_K_S'), 'Q5_K'); // i < 32/8
  assert.equal(t('blk.4.ffn_down.weight', 'Q4_K_S'), 'Q4_K');
  assert.equal(t('blk.9.attn_output.weight', 'Q2_K'), 'Q3_K');
  assert.equal(t('blk.9.attn_output.weight', 'Q3_K_M'), 'Q4_K');
  assert.equal(t('blk.9.attn_output.weight', 'Q3_K_L'), 'Q5_K');
  assert.equal(t('blk.9.attn_output.weight', 'Q4_K_M'), 'Q4_K');
  assert.equal(t('blk.9.ffn_up.weight', 'Q3_K_L'), 'Q3_K');
});

test('output.weight: Q6_K for every quantized ftype but Q8_0; tied embeddings treat token_embd as the output', () => {
  for (const f of ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K_S', 'Q4_K_M', 'Q5_K_S', 'Q6_K'] as const) {
    assert.equal(chooseTensorType(w('output.weight', [4096, 32000]), f, llama2_7b).type, 'Q6_K', f);
    assert.equal(chooseTensorType(w('token_embd.weight', [4096, 32000]), f, llama2_7b).type, parseFtype(f).defaultType, f);
  }
  assert.equal(chooseTensorType(w('output.weight', [4096, 32000]), 'Q8_0', llama2_7b).type, 'Q8_0');
  const tied: ModelFacts = { ...llama2_7b, hasOutput: false };
  assert.equal(chooseTensorType(w('token_embd.weight', [2048, 128256]), 'Q4_K_M', tied).type, 'Q6_K');
  assert.equal(chooseTensorType(w('token_embd.weight', [2048, 128256]), 'Q4_K_M', tied, { pure: true }).type, 'Q4_K');
  assert.equal(chooseTensorType(w('output.weight', [4096, 32000]), 'Q4_K_M', llama2_7b, { leaveOutputTensor: true }).quantize, false);
  assert.equal(chooseTensorType(w('output.weight', [4096, 32000]), 'Q4_K_M', llama2_7b, { outputTensorType: 'Q8_0' }).type, 'Q8_0');
  assert.equal(chooseTensorType(w('token_embd.weight', [4096, 32000]), 'Q4_K_M', llama2_7b, { tokenEmbeddingType: 'Q5_K' }).type, 'Q5_K');
});

test('row lengths that are not multiples of 256 fall back (current upstream table), and to F16 below 32', () => {
  const small: ModelFacts = { nLayer: 2, nHead: 4, nHeadKv: 2, hasOutput: true };
  const c = (name: string, nx: number, f: Parameters<typeof chooseTensorType>[1], pure = false) =>
    chooseTensorType(w(name, [nx, 64]), f, small, { pure });
  assert.deepEqual(c('blk.0.attn_q.weight', 64, 'Q4_K_M'), { type: 'Q5_0', quantize: true, fallbackFrom: 'Q4_K' });
  assert.deepEqual(c('blk.1.ffn_down.weight', 64, 'Q4_K_M'), { type: 'Q8_0', quantize: true, fallbackFrom: 'Q6_K' });
  assert.deepEqual(c('blk.0.attn_q.weight', 64, 'Q5_K_S'), { type: 'Q5_1', quantize: true, fallbackFrom: 'Q5_K' });
  assert.deepEqual(c('blk.0.attn_q.weight', 64, 'Q3_K_S'), { type: 'Q4_0', quantize: true, fallbackFrom: 'Q3_K' });
  assert.deepEqual(c('blk.0.attn_q.weight', 64, 'Q2_K'), { type: 'Q4_0', quantize: true, fallbackFrom: 'Q2_K' });
  assert.deepEqual(c('blk.0.attn_q.weight', 64, 'Q4_K_S', true), { type: 'Q5_0', quantize: true, fallbackFrom: 'Q4_K' });
  assert.equal(c('output.weight', 64, 'Q4_K_M').type, 'Q8_0');
  assert.deepEqual(c('blk.0.attn_q.weight', 48, 'Q6_K'), { type: 'F16', quantize: true, fallbackFrom: 'Q6_K' });
  assert.throws(() => c('blk.0.attn_q.weight', 48, 'Q8_0'), (e: unknown) => e instanceof LlamaError && e.code === 'QUANT_NO_FALLBACK');
  assert.throws(() => c('output.weight', 48, 'Q4_0'), (e: unknown) => e instanceof LlamaError && e.code === 'QUANT_NO_FALLBACK');
});

test('only ≥2-D *weight tensors that are not norms are quantized; F16/BF16/F32 ftypes just convert', () => {
  assert.equal(tensorAllowsQuantization('blk.0.attn_norm.weight', [4096]), false);
  assert.equal(tensorAllowsQuantization('rope_freqs.weight', [64]), false);
  assert.equal(tensorAllowsQuantization('blk.0.attn_q.weight', [4096, 1]), false); // ggml_n_dims drops trailing 1s
  assert.equal(tensorAllowsQuantization('blk.0.attn_q.bias', [4096, 2]), false);
  assert.equal(tensorAllowsQuantization('blk.0.ffn_norm.weight', [4096, 2]), false);
  assert.equal(tensorAllowsQuantization('blk.0.attn_q.weight', [4096, 4096]), true);
  const norm = chooseTensorType({ name: 'output_norm.weight', shape: [4096], type: 'F32' }, 'Q4_K_M', llama2_7b);
  assert.deepEqual(norm, { type: 'F32', quantize: false });
  assert.equal(chooseTensorType(w('output.weight', [4096, 32000]), 'BF16', llama2_7b).type, 'BF16');
  assert.equal(chooseTensorType(w('blk.0.attn_v.weight', [100, 3]), 'F16', llama2_7b).type, 'F16');
  assert.throws(() => chooseTensorType(w('layers.0.attn_v.weight'), 'Q4_K_M', llama2_7b), (e: unknown) => e instanceof LlamaError && e.code === 'QUANT_TENSOR_LAYER');
});
