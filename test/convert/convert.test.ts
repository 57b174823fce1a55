/**
 * Hugging Face → GGUF conversion: what convert_hf_to_gguf.py writes for LlamaForCausalLM (tensor names and order,
 * shapes, the Q/K permutation, rope_freqs, KVs and their order, tokenizer import, model-card license and lineage),
 * and the typed errors for inputs it cannot take.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { quantize } from '../../src/quantize/quantize.ts';
import { IntegrityError, UsageError } from '../../src/errors.ts';
import { getKv, GgufTensorReader, readGguf, type GgufFile } from '../../src/formats/gguf.ts';
import { SafetensorsCheckpoint } from '../../src/formats/safetensors.ts';
import { generateCheckpoint, type CheckpointDescription } from '../support/checkpoint/index.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-convert-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function tensorF32(file: GgufFile, name: string): Promise<Float32Array> {
  const info = file.tensors.find((t) => t.name === name);
  assert.ok(info, `no ${name}`);
  assert.equal(info.type, 0);
  const reader = new GgufTensorReader(file);
  try {
    const bytes = await reader.read(info, 0, info.ne.reduce((a, b) => a * b, 1) * 4);
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  } finally {
    await reader.close();
  }
}

const HF_TO_GGUF: Record<string, string> = {
  'model.embed_tokens.weight': 'token_embd.weight',
  'model.norm.weight': 'output_norm.weight',
  'lm_head.weight': 'output.weight',
};
function expectedName(hf: string): string {
  const direct = HF_TO_GGUF[hf];
  if (direct !== undefined) return direct;
  const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(hf)!;
  const kinds: Record<string, string> = {
    input_layernorm: 'attn_norm', post_attention_layernorm: 'ffn_norm', 'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k',
    'self_attn.v_proj': 'attn_v', 'self_attn.o_proj': 'attn_output', 'mlp.gate_proj': 'ffn_gate', 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down',
  };
  return `blk.${m[1]}.${kinds[m[2]!]}.weight`;
}

let llama31: CheckpointDescription;
let llama31File: GgufFile;
test('Llama 3.1 (BF16, sharded, GQA): names, order, shapes, permutation, rope_freqs, KVs', async () => {
  const dir = join(root, 'Llama-3.1-8B-Instruct');
  llama31 = await generateCheckpoint(dir, {
    version: '3.1', instruct: true, shards: 2, seed: 3, keepValues: true,
    card: { baseModel: 'meta-llama/Llama-3.1-8B', extra: { license_name: 'llama3.1', license_link: 'https://llama.meta.com/llama3_1/license' } },
  });
  const out = join(root, 'l31-f32.gguf');
  const result = await quantize({ input: dir, type: 'F32', out });
  assert.equal(result.mode, 'convert');
  const file = (llama31File = await readGguf(out));

  // order: the generated rope_freqs, then shards in name order, each shard's names sorted (safe_open().keys())
  const byShard = new Map<string, string[]>();
  for (const t of llama31.tensors) byShard.set(t.file, [...(byShard.get(t.file) ?? []), t.name]);
  const hfOrder = [...byShard.keys()].sort().flatMap((f) => byShard.get(f)!.sort());
  assert.deepEqual(file.tensors.map((t) => t.name), ['rope_freqs.weight', ...hfOrder.map(expectedName)]);
  for (const t of llama31.tensors) {
    const info = file.tensors.find((g) => g.name === expectedName(t.name))!;
    assert.deepEqual(info.ne, [...t.shape].reverse(), `${t.name} dims reversed`);
  }

  // Q/K permutation: row h*hd + 2i + j of the GGUF is row h*hd + j*hd/2 + i of the HF tensor
  const { heads, kvHeads, headDim, hidden } = llama31.shape;
  for (const [hf, gguf, n] of [['model.layers.1.self_attn.q_proj.weight', 'blk.1.attn_q.weight', heads], ['model.layers.0.self_attn.k_proj.weight', 'blk.0.attn_k.weight', kvHeads]] as const) {
    const source = llama31.tensors.find((t) => t.name === hf)!.values!;
    const converted = await tensorF32(file, gguf);
    for (let h = 0; h < n; h++) {
      for (let i = 0; i < headDim / 2; i++) {
        for (let j = 0; j < 2; j++) {
          const dst = (h * headDim + 2 * i + j) * hidden;
          const src = (h * headDim + j * (headDim / 2) + i) * hidden;
          assert.deepEqual(converted.subarray(dst, dst + hidden), source.subarray(src, src + hidden), `${gguf} head ${h} pair ${i}.${j}`);
        }
      }
    }
  }
  // v_proj is not permuted, only widened from BF16 to F32 exactly
  assert.deepEqual(await tensorF32(file, 'blk.0.attn_v.weight'), llama31.tensors.find((t) => t.name === 'model.layers.0.self_attn.v_proj.weight')!.values!);

  // rope_freqs: Llama 3.1 frequency factors (float64 formula; the float32 steps of torch agree to 1e-6)
  const scaling = llama31.config.rope_scaling as { factor: number; low_freq_factor: number; high_freq_factor: number; original_max_position_embeddings: number };
  const rope = await tensorF32(file, 'rope_freqs.weight');
  assert.equal(rope.length, headDim / 2);
  rope.forEach((got, i) => {
    const freq = 1 / (llama31.config.rope_theta as number) ** ((2 * i) / headDim);
    const wavelen = (2 * Math.PI) / freq;
    const old = scaling.original_max_position_embeddings;
    let want: number;
    if (wavelen < old / scaling.high_freq_factor) want = 1;
    else if (wavelen > old / scaling.low_freq_factor) want = scaling.factor;
    else {
      const smooth = (old / wavelen - scaling.low_freq_factor) / (scaling.high_freq_factor - scaling.low_freq_factor);
      want = 1 / ((1 - smooth) / scaling.factor + smooth);
    }
    assert.ok(Math.abs(got - want) <= 1e-6 * want, `rope_freqs[${i}] ${got} vs ${want}`);
  });

  // KVs in the order current convert_hf_to_gguf.py writes them: architecture, type, sampling (generation_config.json),
  // model card / naming, hyper-parameters, quantization version, vocabulary
  assert.deepEqual(file.kvs.map((k) => k.key), [
    'general.architecture', 'general.type', 'general.sampling.top_p', 'general.sampling.temp',
    'general.name', 'general.finetune', 'general.basename',
    'general.size_label', 'general.license', 'general.license.name', 'general.license.link',
    'general.base_model.count', 'general.base_model.0.name', 'general.base_model.0.organization',
    'general.base_model.0.repo_url', 'general.tags', 'general.languages',
    'llama.block_count', 'llama.context_length', 'llama.embedding_length', 'llama.feed_forward_length', 'llama.attention.head_count',
    'llama.attention.head_count_kv', 'llama.rope.freq_base', 'llama.attention.layer_norm_rms_epsilon', 'general.file_type',
    'llama.vocab_size', 'llama.rope.dimension_count', 'general.quantization_version',
    'tokenizer.ggml.model', 'tokenizer.ggml.pre', 'tokenizer.ggml.tokens', 'tokenizer.ggml.token_type', 'tokenizer.ggml.merges',
    'tokenizer.ggml.bos_token_id', 'tokenizer.ggml.eos_token_id', 'tokenizer.chat_template',
  ]);
  const generation = JSON.parse(await readFile(join(dir, 'generation_config.json'), 'utf8')) as { temperature: number; top_p: number };
  assert.equal(getKv(file, 'general.sampling.temp'), Math.fround(generation.temperature));
  assert.equal(getKv(file, 'general.sampling.top_p'), Math.fround(generation.top_p));
  const c = llama31.config;
  assert.equal(getKv(file, 'general.name'), 'Llama 3.1 8B Instruct');
  // gguf-py's name heuristics on the directory name "Llama-3.1-8B-Instruct": "3.1" is a version right after the first
  // word, so it joins the basename; "8B" is far from the 16M parameters counted, so it is read as a finetune tag
  assert.equal(getKv(file, 'general.basename'), 'Llama-3.1');
  assert.equal(getKv(file, 'general.finetune'), '8b-Instruct');
  assert.equal(getKv(file, 'general.size_label'), '16M');
  assert.equal(getKv(file, 'general.license'), 'llama3.1');
  assert.equal(getKv(file, 'general.license.name'), 'llama3.1');
  assert.equal(getKv(file, 'general.license.link'), 'https://llama.meta.com/llama3_1/license');
  assert.equal(getKv(file, 'general.base_model.count'), 1);
  assert.equal(getKv(file, 'general.base_model.0.name'), 'Llama 3.1 8B');
  assert.equal(getKv(file, 'general.base_model.0.organization'), 'Meta Llama');
  assert.equal(getKv(file, 'general.base_model.0.repo_url'), 'https://huggingface.co/meta-llama/Llama-3.1-8B');
  assert.equal(getKv(file, 'llama.block_count'), c.num_hidden_layers);
  assert.equal(getKv(file, 'llama.context_length'), c.max_position_embeddings);
  assert.equal(getKv(file, 'llama.attention.head_count_kv'), c.num_key_value_heads);
  assert.equal(getKv(file, 'llama.rope.freq_base'), Math.fround(c.rope_theta as number));
  assert.equal(getKv(file, 'llama.rope.dimension_count'), headDim);
  assert.equal(getKv(file, 'general.file_type'), 0);
  assert.equal(getKv(file, 'tokenizer.ggml.model'), 'gpt2');
  assert.equal(getKv(file, 'tokenizer.ggml.pre'), 'llama-bpe');
  const tokenizerJson = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as { model: { merges: unknown[] }; added_tokens: { id: number; content: string }[] };
  const tokenizerConfig = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as { eos_token: string; chat_template: string };
  assert.equal((getKv(file, 'tokenizer.ggml.merges') as string[]).length, tokenizerJson.model.merges.length);
  assert.equal((getKv(file, 'tokenizer.ggml.tokens') as string[]).length, llama31.vocabSize);
  // eos from tokenizer_config.json's eos_token (convert ignores config.json's list-valued eos_token_id)
  assert.equal(getKv(file, 'tokenizer.ggml.eos_token_id'), tokenizerJson.added_tokens.find((t) => t.content === tokenizerConfig.eos_token)!.id);
  assert.equal(getKv(file, 'tokenizer.chat_template'), tokenizerConfig.chat_template);
  const types = getKv(file, 'tokenizer.ggml.token_type') as number[];
  assert.equal(types[128000], 3, '<|begin_of_text|> is CONTROL');
  assert.equal(types[1000], 1, 'an ordinary token is NORMAL');
});

test('a quantized type from a checkpoint equals converting to F32 and then requantizing that GGUF', async () => {
  assert.ok(llama31File, 'runs after the Llama 3.1 test');
  const direct = join(root, 'direct-q4km.gguf');
  const twoStep = join(root, 'twostep-q4km.gguf');
  await quantize({ input: llama31.dir, type: 'Q4_K_M', out: direct });
  await quantize({ input: llama31File.path, type: 'Q4_K_M', out: twoStep });
  assert.equal(Buffer.compare(await readFile(direct), await readFile(twoStep)), 0);
  const q = await readGguf(direct);
  assert.deepEqual(q.kvs.slice(-2).map((k) => [k.key, k.value.value]), [['general.quantization_version', 2], ['general.file_type', 15]]);
});

test('Llama 3.2 (tied embeddings, head_dim in config) to F16: convert --outtype f16 semantics', async () => {
  const dir = join(root, 'Llama-3.2-1B');
  const desc = await generateCheckpoint(dir, { version: '3.2', seed: 5, keepValues: true });
  assert.equal(desc.tieWordEmbeddings, true);
  const out = join(root, 'l32-f16.gguf');
  await quantize({ input: dir, type: 'f16', out });
  const file = await readGguf(out);
  assert.equal(file.tensors.some((t) => t.name === 'output.weight'), false, 'no output.weight with tied embeddings');
  assert.equal(getKv(file, 'general.file_type'), 1);
  assert.equal(getKv(file, 'llama.attention.key_length'), desc.shape.headDim);
  assert.equal(getKv(file, 'llama.attention.value_length'), desc.shape.headDim);
  for (const t of file.tensors) {
    const isF32 = t.ne.length === 1 || t.name.endsWith('_norm.weight');
    assert.equal(t.type, isF32 ? 0 : 1, `${t.name} type`);
  }
  // F16 values are the BF16 weights rounded to half (RNE), as numpy astype(float16) does
  const embd = desc.tensors.find((t) => t.name === 'model.embed_tokens.weight')!.values!;
  const info = file.tensors.find((t) => t.name === 'token_embd.weight')!;
  const reader = new GgufTensorReader(file);
  try {
    const bytes = await reader.read(info, 0, 256);
    const half = new Float16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 256));
    assert.deepEqual([...half], [...embd.subarray(0, 128)].map((v) => Math.f16round(v)));
  } finally {
    await reader.close();
  }
});

test('Llama 2 without tokenizer.model: SentencePiece-style vocabulary from tokenizer.json', async () => {
  const dir = join(root, 'llama-2-7b-hf');
  await generateCheckpoint(dir, { version: '2', seed: 1 });
  const out = join(root, 'l2.gguf');
  await quantize({ input: dir, type: 'Q8_0', out });
  const file = await readGguf(out);
  assert.equal(getKv(file, 'tokenizer.ggml.model'), 'llama');
  assert.equal(getKv(file, 'tokenizer.ggml.pre'), 'default');
  const tokens = getKv(file, 'tokenizer.ggml.tokens') as string[];
  const types = getKv(file, 'tokenizer.ggml.token_type') as number[];
  const tj = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
  for (const [text, id] of Object.entries(tj.model.vocab)) assert.equal(tokens[id], text);
  assert.equal(types[tj.model.vocab['<0x0A>']!], 6, 'byte tokens are BYTE');
  assert.equal(types[1], 3, '<s> is CONTROL');
  assert.equal(getKv(file, 'tokenizer.ggml.bos_token_id'), 1);
  assert.equal(getKv(file, 'tokenizer.ggml.add_bos_token'), true);
  assert.equal(getKv(file, 'tokenizer.ggml.add_eos_token'), false);
  // tokenizer.json's TemplateProcessing pair "<s> A <s> B" has no separator: add_sep_token false, written between
  // add_bos (set by the post-processor first) and add_eos (from tokenizer_config.json)
  const keys = file.kvs.map((k) => k.key).filter((k) => k.startsWith('tokenizer.ggml.add_'));
  assert.deepEqual(keys, ['tokenizer.ggml.add_bos_token', 'tokenizer.ggml.add_sep_token', 'tokenizer.ggml.add_eos_token']);
  assert.equal(getKv(file, 'tokenizer.ggml.add_sep_token'), false);
});

test('a tokenizer.model takes precedence: pieces, scores and types from the SentencePiece model', async () => {
  const dir = join(root, 'spm');
  const desc = await generateCheckpoint(dir, { version: '2', seed: 2, card: false, generationConfig: false });
  // a SentencePiece ModelProto with the first pieces of the vocabulary (protobuf wire format, written by hand)
  const pieces: Array<[string, number, number]> = [['<unk>', 0, 2], ['<s>', 0, 3], ['</s>', 0, 3], ['<0x0A>', 0, 6], ['▁the', -1.5, 1], ['▁a', -2.25, 4], ['unused', 0, 5]];
  const varint = (n: number): number[] => { const out: number[] = []; while (n > 127) { out.push((n & 127) | 128); n >>>= 7; } out.push(n); return out; };
  const bytes: number[] = [0x12, 0x02, 0x08, 0x01]; // a trainer_spec field first: must be skipped
  for (const [text, score, type] of pieces) {
    const t = [...Buffer.from(text)];
    const f = Buffer.alloc(4);
    f.writeFloatLE(score);
    const inner = [0x0a, ...varint(t.length), ...t, 0x15, ...f, 0x18, type];
    bytes.push(0x0a, ...varint(inner.length), ...inner);
  }
  await writeFile(join(dir, 'tokenizer.model'), Buffer.from(bytes));
  const out = join(root, 'spm.gguf');
  await quantize({ input: dir, type: 'F32', out });
  const file = await readGguf(out);
  const tokens = getKv(file, 'tokenizer.ggml.tokens') as string[];
  const scores = getKv(file, 'tokenizer.ggml.scores') as number[];
  const types = getKv(file, 'tokenizer.ggml.token_type') as number[];
  assert.equal(tokens.length, desc.vocabSize, 'padded to config vocab_size');
  assert.deepEqual(tokens.slice(3, 7), ['<0x0A>', '▁the', '▁a', 'unused']);
  assert.deepEqual(scores.slice(3, 6), [0, -1.5, -2.25]);
  // USER_DEFINED pieces become NORMAL; added_tokens_decoder entries override with CONTROL and score -1000
  assert.deepEqual(types.slice(0, 7), [3, 3, 3, 6, 1, 1, 5]);
  assert.deepEqual(scores.slice(0, 3), [-1000, -1000, -1000]);
  assert.equal(tokens[7], '[PAD7]');
  assert.equal(scores[7], -10000);
  assert.equal(types[7], 5);
});

test('inputs convert cannot take are typed errors, and nothing is left behind', async () => {
  const dir = join(root, 'gpt2');
  await generateCheckpoint(dir, { version: '2', seed: 4, configOverrides: { architectures: ['GPT2LMHeadModel'] }, card: false });
  await assert.rejects(quantize({ input: dir, type: 'Q8_0', out: join(root, 'x.gguf') }), (e: unknown) => e instanceof UsageError && e.exitCode === 2 && /GPT2LMHeadModel/.test(e.message));

  const dir2 = join(root, 'notok');
  await generateCheckpoint(dir2, { version: '2', seed: 4, tokenizer: false, card: false });
  await assert.rejects(quantize({ input: dir2, type: 'Q8_0', out: join(root, 'x.gguf') }), (e: unknown) => e instanceof UsageError && e.code === 'CONVERT_NO_TOKENIZER');

  await assert.rejects(quantize({ input: join(root, 'nope'), type: 'Q8_0' }), (e: unknown) => e instanceof UsageError && e.code === 'QUANTIZE_INPUT_NOT_FOUND');
  assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('x.gguf') || n.endsWith('.tmp')), []);
});

test('NaN or Inf in a tensor → integrity error naming tensor and file, no output, old output untouched', async () => {
  const dir = join(root, 'nan');
  const desc = await generateCheckpoint(dir, { version: '3', seed: 9, card: false });
  const victim = desc.tensors.find((t) => t.name === 'model.layers.1.mlp.up_proj.weight')!;
  const path = join(dir, victim.file);
  const bytes = await readFile(path);
  bytes.writeUInt16LE(0x7fc0, victim.fileOffset + 2 * 77); // a BF16 quiet NaN at element 77
  await writeFile(path, bytes);
  const out = join(root, 'nan-out.gguf');
  await writeFile(out, 'previous output');
  await assert.rejects(quantize({ input: dir, type: 'Q4_0', out }), (e: unknown) =>
    e instanceof IntegrityError && e.exitCode === 4 && e.message.includes('blk.1.ffn_up.weight') && e.message.includes(victim.file) && e.details?.element === 77);
  assert.equal(await readFile(out, 'utf8'), 'previous output');
  assert.deepEqual((await readdir(root)).filter((n) => n.endsWith('.tmp')), []);
});

test('the reader keeps a checkpoint streaming: tensors are read by row ranges', async () => {
  const ckpt = await SafetensorsCheckpoint.open(llama31.dir);
  try {
    const t = ckpt.get('model.embed_tokens.weight')!;
    const all = llama31.tensors.find((x) => x.name === t.name)!.values!;
    const rows = await ckpt.readRows(t, 1000, 3);
    assert.deepEqual(rows, all.subarray(1000 * t.shape[1]!, 1003 * t.shape[1]!));
  } finally {
    await ckpt.close();
  }
});

test('Llama 1 config (no num_key_value_heads, no rope_theta): those KVs are left out, as convert does', async () => {
  const dir = join(root, 'llama-7b');
  const desc = await generateCheckpoint(dir, { version: '1', seed: 6, card: false, license: { files: 'none' } });
  assert.equal(desc.config.num_key_value_heads, undefined);
  const out = join(root, 'l1.gguf');
  await quantize({ input: dir, type: 'F16', out });
  const file = await readGguf(out);
  assert.equal(getKv(file, 'llama.attention.head_count_kv'), undefined);
  assert.equal(getKv(file, 'llama.rope.freq_base'), undefined);
  assert.equal(getKv(file, 'llama.attention.head_count'), desc.shape.heads);
});

test('q/k biases are permuted like their weights', async () => {
  const dir = join(root, 'bias');
  const desc = await generateCheckpoint(dir, { version: '2', seed: 8, card: false, license: { files: 'none' } });
  // add q_proj / k_proj biases to the single shard
  const { writeSafetensors } = await import('../support/checkpoint/index.ts');
  const ckpt = await SafetensorsCheckpoint.open(dir);
  const tensors: Record<string, { dtype: string; shape: number[]; data: Uint8Array }> = {};
  for (const t of ckpt.tensors) tensors[t.name] = { dtype: t.dtype, shape: t.shape, data: await ckpt.readRowsRaw(t, 0, t.shape.length === 1 ? 1 : t.shape[0]!) };
  await ckpt.close();
  const n = desc.shape.heads * desc.shape.headDim;
  const bias = Float32Array.from({ length: n }, (_, i) => i);
  tensors['model.layers.0.self_attn.q_proj.bias'] = { dtype: 'F32', shape: [n], data: new Uint8Array(bias.buffer) };
  await writeSafetensors(join(dir, 'model.safetensors'), tensors);
  const out = join(root, 'bias.gguf');
  await quantize({ input: dir, type: 'F32', out });
  const got = await tensorF32(await readGguf(out), 'blk.0.attn_q.bias');
  const hd = desc.shape.headDim;
  const want = Array.from({ length: n }, (_, r) => {
    const h = Math.floor(r / hd);
    const i = Math.floor((r % hd) / 2);
    const j = r % 2;
    return h * hd + j * (hd / 2) + i;
  });
  assert.deepEqual([...got], want);
});

test('a repo id pulled into the Hugging Face cache is found through refs/main', async () => {
  const cache = join(root, 'hub-cache');
  const commit = 'a'.repeat(40);
  const snapshot = join(cache, 'models--meta-llama--Llama-2-7b-hf', 'snapshots', commit);
  await generateCheckpoint(snapshot, { version: '2', seed: 10, card: false, license: { files: 'none' } });
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(cache, 'models--meta-llama--Llama-2-7b-hf', 'refs'), { recursive: true });
  await writeFile(join(cache, 'models--meta-llama--Llama-2-7b-hf', 'refs', 'main'), commit);
  const result = await quantize({ input: 'meta-llama/Llama-2-7b-hf', type: 'Q8_0', cacheDir: cache, cwd: root });
  assert.equal(result.input.path, snapshot);
  assert.equal(result.out, join(root, 'Llama-2-7b-hf-Q8_0.gguf'), 'named after the repo, not the snapshot folder');
  // general.name / finetune / basename as convert_hf_to_gguf.py gives them for a folder named like the repo (issue
  // 17 §13: they were made from the 40-hex commit): the same bytes as quantizing such a folder
  const file = await readGguf(result.out);
  assert.equal(getKv(file, 'general.name'), 'Llama 2 7b Hf');
  // the tiny checkpoint is nowhere near 7B parameters, so gguf-py counts "7b" as part of the finetune
  assert.equal(getKv(file, 'general.finetune'), '7b-hf');
  const named = join(root, 'repo-named', 'Llama-2-7b-hf');
  await cp(snapshot, named, { recursive: true });
  const fromFolder = await quantize({ input: named, type: 'Q8_0', out: join(root, 'from-folder.gguf') });
  assert.ok((await readFile(result.out)).equals(await readFile(fromFolder.out)), 'same GGUF as from a folder named like the repo');
  await rm(result.out);
  await rm(fromFolder.out);
  await rm(join(root, 'repo-named'), { recursive: true });
});
