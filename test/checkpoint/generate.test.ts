import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { parse as parseYaml } from 'yaml';

import { isLlamaError } from '../../src/errors.ts';
import {
  generateCheckpoint,
  LLAMA2_7B_SHAPE,
  LLAMA_VERSIONS,
  type CheckpointDescription,
  type LlamaVersion,
} from '../support/checkpoint/index.ts';
import { decodeFloats, parseSafetensorsFile, tensorBytes, type ParsedSafetensors } from './read-safetensors.ts';

const TEMPLATES = fileURLToPath(new URL('../../templates/licenses/', import.meta.url));

let root: string;
let counter = 0;
const freshDir = (): string => join(root, `ckpt-${counter++}`);

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-ckpt-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

/** Every weight file of a checkpoint, parsed by the independent reader. */
async function readWeights(dir: string): Promise<Map<string, ParsedSafetensors>> {
  const out = new Map<string, ParsedSafetensors>();
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.safetensors')).sort()) {
    out.set(name, await parseSafetensorsFile(join(dir, name)));
  }
  return out;
}

/** tokenizer.json's vocabulary, counted the way transformers' len(tokenizer) does: base vocab ∪ added tokens. */
function tokenizerVocab(json: { model: { vocab: Record<string, number> }; added_tokens: Array<{ id: number; content: string }> }): {
  size: number;
  idOf: Map<string, number>;
} {
  const idOf = new Map<string, number>(Object.entries(json.model.vocab));
  for (const t of json.added_tokens) idOf.set(t.content, t.id);
  const ids = new Set(idOf.values());
  let max = -1;
  for (const id of ids) max = Math.max(max, id);
  assert.equal(ids.size, max + 1, 'ids are dense from 0');
  return { size: ids.size, idOf };
}

describe('checkpoint contents per Llama version', () => {
  const expectations: Record<
    LlamaVersion,
    { vocab: number; bos: number; eos: number | number[]; theta: number | undefined; rope: string | null; tied: boolean; torch: string; headDim: boolean }
  > = {
    '1': { vocab: 32000, bos: 1, eos: 2, theta: undefined, rope: null, tied: false, torch: 'float16', headDim: false },
    '2': { vocab: 32000, bos: 1, eos: 2, theta: 10000, rope: null, tied: false, torch: 'float16', headDim: false },
    '3': { vocab: 128256, bos: 128000, eos: 128001, theta: 500000, rope: null, tied: false, torch: 'bfloat16', headDim: false },
    '3.1': { vocab: 128256, bos: 128000, eos: 128001, theta: 500000, rope: 'llama3', tied: false, torch: 'bfloat16', headDim: false },
    '3.2': { vocab: 128256, bos: 128000, eos: 128001, theta: 500000, rope: 'llama3', tied: true, torch: 'bfloat16', headDim: true },
    // Only Llama-3.3-70B-Instruct exists, so 3.3 is an Instruct checkpoint by default.
    '3.3': { vocab: 128256, bos: 128000, eos: [128001, 128008, 128009], theta: 500000, rope: 'llama3', tied: false, torch: 'bfloat16', headDim: true },
  };
  // The key sets of the published config.json files (Llama 1: huggyllama/llama-7b; Llama 2 plus rope_theta).
  const common = ['architectures', 'bos_token_id', 'eos_token_id', 'hidden_act', 'hidden_size', 'initializer_range', 'intermediate_size',
    'max_position_embeddings', 'model_type', 'num_attention_heads', 'num_hidden_layers', 'rms_norm_eps', 'tie_word_embeddings',
    'torch_dtype', 'transformers_version', 'use_cache', 'vocab_size'];
  const v2 = [...common, 'num_key_value_heads', 'pretraining_tp', 'rope_scaling', 'rope_theta'];
  const v3 = [...v2, 'attention_bias', 'attention_dropout'];
  const keySets: Record<LlamaVersion, string[]> = {
    '1': [...common, 'max_sequence_length', 'pad_token_id'],
    '2': v2,
    '3': v3,
    '3.1': [...v3, 'mlp_bias'],
    '3.2': [...v3, 'mlp_bias', 'head_dim'],
    '3.3': [...v3, 'mlp_bias', 'head_dim'],
  };

  for (const version of LLAMA_VERSIONS) {
    it(`Llama ${version}: config, tokenizer, weights and license files agree`, async () => {
      const want = expectations[version];
      const dir = freshDir();
      const d = await generateCheckpoint(dir, { version, seed: 1 });
      const config = await readJson(join(dir, 'config.json'));

      assert.deepEqual(Object.keys(config).sort(), [...keySets[version]].sort());
      assert.deepEqual(config.architectures, ['LlamaForCausalLM']);
      assert.equal(config.model_type, 'llama');
      assert.equal(config.vocab_size, want.vocab);
      assert.equal(config.bos_token_id, want.bos);
      assert.deepEqual(config.eos_token_id, want.eos);
      assert.equal(config.rope_theta, want.theta);
      assert.equal(config.tie_word_embeddings, want.tied);
      assert.equal(config.torch_dtype, want.torch);
      assert.equal(config.hidden_act, 'silu');
      assert.equal(typeof config.rms_norm_eps, 'number');
      assert.equal('head_dim' in config, want.headDim);
      if (want.headDim) assert.equal(config.head_dim, (config.hidden_size as number) / (config.num_attention_heads as number));
      if (want.rope === null) {
        assert.ok(config.rope_scaling === null || config.rope_scaling === undefined);
      } else {
        const rope = config.rope_scaling as Record<string, unknown>;
        assert.equal(rope.rope_type, 'llama3');
        for (const key of ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings']) {
          assert.equal(typeof rope[key], 'number', key);
        }
        assert.ok((rope.low_freq_factor as number) < (rope.high_freq_factor as number));
      }
      // GQA from Llama 3 on; the converter reads num_key_value_heads when present.
      const heads = config.num_attention_heads as number;
      const kv = (config.num_key_value_heads as number | undefined) ?? heads;
      assert.equal(kv < heads, version.startsWith('3'));

      // Tokenizer: vocabulary size and special ids as the files themselves say.
      const tokenizerJson = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as Parameters<typeof tokenizerVocab>[0];
      const tokenizerConfig = await readJson(join(dir, 'tokenizer_config.json'));
      const vocab = tokenizerVocab(tokenizerJson);
      assert.equal(vocab.size, config.vocab_size);
      assert.equal(vocab.idOf.get(tokenizerConfig.bos_token as string), config.bos_token_id);
      // The tokenizer's eos is the base model's; Instruct configs list the end-of-turn ids after it.
      assert.equal(vocab.idOf.get(tokenizerConfig.eos_token as string), [config.eos_token_id].flat()[0]);
      const pkg = version.startsWith('3') ? 'tokenizer-llama3' : 'tokenizer-llama2';
      const shipped = fileURLToPath(new URL(`../../node_modules/@lenml/${pkg}/models/`, import.meta.url));
      assert.equal(await sha256File(join(dir, 'tokenizer.json')), await sha256File(join(shipped, 'tokenizer.json')));
      assert.equal(await sha256File(join(dir, 'tokenizer_config.json')), await sha256File(join(shipped, 'tokenizer_config.json')));

      // Weights: one valid file holding exactly the expected tensor set, shapes from the config.
      const weights = await readWeights(dir);
      assert.deepEqual([...weights.keys()], ['model.safetensors']);
      const file = weights.get('model.safetensors');
      assert.ok(file);
      assert.deepEqual(file.problems, []);
      assert.deepEqual(file.metadata, { format: 'pt' });
      const hidden = config.hidden_size as number;
      const headDim = hidden / heads;
      const layers = config.num_hidden_layers as number;
      const inter = config.intermediate_size as number;
      const expectedShapes = new Map<string, number[]>([['model.embed_tokens.weight', [want.vocab, hidden]], ['model.norm.weight', [hidden]]]);
      if (!want.tied) expectedShapes.set('lm_head.weight', [want.vocab, hidden]);
      for (let i = 0; i < layers; i++) {
        const p = `model.layers.${i}`;
        expectedShapes.set(`${p}.self_attn.q_proj.weight`, [heads * headDim, hidden]);
        expectedShapes.set(`${p}.self_attn.k_proj.weight`, [kv * headDim, hidden]);
        expectedShapes.set(`${p}.self_attn.v_proj.weight`, [kv * headDim, hidden]);
        expectedShapes.set(`${p}.self_attn.o_proj.weight`, [hidden, heads * headDim]);
        expectedShapes.set(`${p}.mlp.gate_proj.weight`, [inter, hidden]);
        expectedShapes.set(`${p}.mlp.up_proj.weight`, [inter, hidden]);
        expectedShapes.set(`${p}.mlp.down_proj.weight`, [hidden, inter]);
        expectedShapes.set(`${p}.input_layernorm.weight`, [hidden]);
        expectedShapes.set(`${p}.post_attention_layernorm.weight`, [hidden]);
      }
      assert.deepEqual(new Map(file.tensors.map((t) => [t.name, t.shape])), expectedShapes);
      const dtype = want.torch === 'float16' ? 'F16' : 'BF16';
      assert.ok(file.tensors.every((t) => t.dtype === dtype));
      // Data laid out by name, as the reference writer does for tensors of one dtype.
      const names = file.tensors.map((t) => t.name);
      assert.deepEqual(names, [...names].sort());

      // What the description says matches the files.
      assert.deepEqual(
        d.files.map((f) => f.path),
        (await readdir(dir)).sort(),
      );
      for (const f of d.files) {
        assert.equal(f.sha256, await sha256File(join(dir, f.path)), f.path);
        assert.equal(f.size, (await stat(join(dir, f.path))).size, f.path);
      }
      assert.equal(d.vocabSize, want.vocab);
      assert.equal(d.totalSize, file.bytes.length - file.dataStart);

      // License files: byte-equal to the templates; Llama 1 has no published text, so none.
      const entries = await readdir(dir);
      if (version === '1') {
        assert.ok(!entries.includes('LICENSE') && !entries.includes('USE_POLICY.md'));
      } else {
        const template = `llama${version}`;
        assert.ok((await readFile(join(dir, 'LICENSE'))).equals(await readFile(join(TEMPLATES, template, 'LICENSE.txt'))));
        assert.ok((await readFile(join(dir, 'USE_POLICY.md'))).equals(await readFile(join(TEMPLATES, template, 'USE_POLICY.md'))));
        const sums = await readFile(join(TEMPLATES, template, 'SHA256SUMS'), 'utf8');
        assert.ok(sums.includes(`${await sha256File(join(dir, 'LICENSE'))}  LICENSE.txt`));
      }

      // Model card front matter.
      const card = await readFile(join(dir, 'README.md'), 'utf8');
      const match = /^---\n([\s\S]*?)\n---\n/.exec(card);
      assert.ok(match, 'front matter');
      const front = parseYaml(match[1] as string) as Record<string, unknown>;
      assert.equal(front.license, version === '1' ? 'other' : `llama${version}`);
      assert.equal(front.pipeline_tag, 'text-generation');
      assert.ok(Array.isArray(front.language) && front.language.includes('en'));
      assert.ok(Array.isArray(front.tags) && front.tags.includes('llama'));
      assert.equal(front.base_model, undefined);

      // generation_config.json carries the same special ids.
      const gen = await readJson(join(dir, 'generation_config.json'));
      assert.equal(gen.bos_token_id, want.bos);
      assert.deepEqual(gen.eos_token_id, want.eos);
    });
  }

  it('writes floats as transformers does (10000.0, 1e-05), keys sorted, final newline', async () => {
    const dir = freshDir();
    await generateCheckpoint(dir, { version: '2', generationConfig: false, card: false, license: { files: 'none' } });
    const text = await readFile(join(dir, 'config.json'), 'utf8');
    assert.match(text, /"rope_theta": 10000\.0,/);
    assert.match(text, /"rms_norm_eps": 1e-05,/);
    assert.match(text, /"initializer_range": 0\.02,/);
    assert.match(text, /"vocab_size": 32000\n\}\n$/);
    const keys = Object.keys(JSON.parse(text) as object);
    assert.deepEqual(keys, [...keys].sort());
    const entries = await readdir(dir);
    for (const absent of ['generation_config.json', 'README.md', 'LICENSE', 'USE_POLICY.md']) assert.ok(!entries.includes(absent), absent);
  });

  it("keeps rope_scaling's key order as Meta's files have it (3.1 unsorted, 3.2 sorted)", async () => {
    const d31 = await generateCheckpoint(freshDir(), { version: '3.1', shape: { layers: 1 } });
    const d32 = await generateCheckpoint(freshDir(), { version: '3.2', shape: { layers: 1 } });
    const keysOf = async (dir: string): Promise<string[]> =>
      Object.keys((await readJson(join(dir, 'config.json'))).rope_scaling as Record<string, unknown>);
    assert.deepEqual(await keysOf(d31.dir), ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings', 'rope_type']);
    assert.deepEqual(await keysOf(d32.dir), ['factor', 'high_freq_factor', 'low_freq_factor', 'original_max_position_embeddings', 'rope_type']);
    assert.match(await readFile(join(d31.dir, 'config.json'), 'utf8'), /"factor": 8\.0,\n {4}"low_freq_factor": 1\.0,/);
  });

  it('instruct variants list the end-of-turn ids the Instruct repos use', async () => {
    const d31 = await generateCheckpoint(freshDir(), { version: '3.1', instruct: true });
    assert.deepEqual(d31.config.eos_token_id, [128001, 128008, 128009]);
    assert.deepEqual((await readJson(join(d31.dir, 'generation_config.json'))).eos_token_id, [128001, 128008, 128009]);
    const d3 = await generateCheckpoint(freshDir(), { version: '3', instruct: true, shape: { layers: 1 } });
    assert.equal(d3.config.eos_token_id, 128009);
    assert.deepEqual((await readJson(join(d3.dir, 'generation_config.json'))).eos_token_id, [128001, 128009]);
  });
});

describe('weights', () => {
  it('values returned equal the stored bytes, for every dtype', async () => {
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      const dir = freshDir();
      const d = await generateCheckpoint(dir, { version: '2', dtype, seed: 3, keepValues: true, shards: 2 });
      const weights = await readWeights(dir);
      assert.equal(d.config.torch_dtype, { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype]);
      for (const t of d.tensors) {
        const file = weights.get(t.file);
        assert.ok(file, t.file);
        const parsed = file.tensors.find((p) => p.name === t.name);
        assert.ok(parsed, t.name);
        assert.equal(parsed.dtype, dtype);
        assert.deepEqual([parsed.begin, parsed.end], t.dataOffsets);
        assert.equal(t.fileOffset, file.dataStart + parsed.begin);
        assert.ok(t.values);
        assert.ok(decodeFloats(dtype, tensorBytes(file, parsed)).every((v, i) => Object.is(v, t.values?.[i])), `${dtype} ${t.name}`);
      }
    }
  });

  it('has sensible scales: matrices ~N(0, 0.02), norms near 1, all finite', async () => {
    const d = await generateCheckpoint(freshDir(), { version: '2', dtype: 'F32', keepValues: true, seed: 11 });
    for (const t of d.tensors) {
      const v = t.values as Float32Array;
      let sum = 0;
      let sq = 0;
      for (const x of v) {
        assert.ok(Number.isFinite(x));
        sum += x;
        sq += x * x;
      }
      const mean = sum / v.length;
      const std = Math.sqrt(sq / v.length - mean * mean);
      if (t.shape.length === 2) {
        assert.ok(Math.abs(mean) < 0.003, `${t.name} mean ${mean}`);
        assert.ok(std > 0.018 && std < 0.022, `${t.name} std ${std}`);
      } else {
        assert.ok(Math.abs(mean - 1) < 0.03, `${t.name} mean ${mean}`);
        assert.ok(std > 0.02 && std < 0.1, `${t.name} std ${std}`);
      }
    }
  });

  it('a forward pass on the weights gives finite, varied logits (untied Llama 2 and tied Llama 3.2)', async () => {
    for (const [version, dtype] of [
      ['2', 'F16'],
      ['3.2', 'BF16'],
    ] as const) {
      const d = await generateCheckpoint(freshDir(), { version, dtype, keepValues: true, seed: 5 });
      const rows = [forward(d, [1, 450, 4996]), forward(d, [1, 450, 17])];
      for (const logits of rows) {
        assert.equal(logits.length, d.vocabSize);
        assert.ok(logits.every(Number.isFinite));
        const mean = logits.reduce((a, b) => a + b, 0) / logits.length;
        const std = Math.sqrt(logits.reduce((a, b) => a + (b - mean) ** 2, 0) / logits.length);
        assert.ok(std > 0.01 && std < 10, `${version}: logit std ${std}`);
      }
      assert.ok(rows[0]?.some((x, i) => x !== rows[1]?.[i]), 'different inputs give different logits');
    }
  });

  it('the index lists every tensor once, in the shard that holds it, with the right total size', async () => {
    const dir = freshDir();
    const d = await generateCheckpoint(dir, { version: '3.1', shards: 3, seed: 2, shape: { layers: 3 } });
    const index = (await readJson(join(dir, 'model.safetensors.index.json'))) as {
      metadata: { total_size: number };
      weight_map: Record<string, string>;
    };
    const weights = await readWeights(dir);
    assert.deepEqual([...weights.keys()], ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors']);
    assert.ok(!(await readdir(dir)).includes('model.safetensors'));
    const seen = new Map<string, string>();
    let total = 0;
    for (const [name, file] of weights) {
      assert.deepEqual(file.problems, [], name);
      assert.ok(file.tensors.length > 0, `${name} is not empty`);
      for (const t of file.tensors) {
        assert.ok(!seen.has(t.name), `${t.name} in two shards`);
        seen.set(t.name, name);
        total += t.end - t.begin;
      }
    }
    assert.deepEqual(new Map(Object.entries(index.weight_map)), seen);
    assert.deepEqual(Object.keys(index.weight_map), Object.keys(index.weight_map).sort());
    assert.equal(index.metadata.total_size, total);
    assert.equal(d.totalSize, total);
    assert.equal(seen.size, 1 + 3 * 9 + 2);
  });

  it('same seed → same bytes; another seed → other weights, same everything else', async () => {
    const a = await generateCheckpoint(freshDir(), { version: '2', seed: 42, shards: 2, dtype: 'BF16' });
    const b = await generateCheckpoint(freshDir(), { version: '2', seed: 42, shards: 2, dtype: 'BF16' });
    const c = await generateCheckpoint(freshDir(), { version: '2', seed: 43, shards: 2, dtype: 'BF16' });
    for (const f of a.files) {
      const hashA = await sha256File(join(a.dir, f.path));
      assert.equal(await sha256File(join(b.dir, f.path)), hashA, f.path);
      const hashC = await sha256File(join(c.dir, f.path));
      if (f.path.endsWith('.safetensors')) assert.notEqual(hashC, hashA, f.path);
      else assert.equal(hashC, hashA, f.path);
    }
  });

  it("a tensor's bytes depend on seed, name and shape only — not on sharding or other options", async () => {
    const one = await generateCheckpoint(freshDir(), { version: '2', seed: 9, dtype: 'F16', shape: { layers: 2 } });
    const many = await generateCheckpoint(freshDir(), { version: '2', seed: 9, dtype: 'F16', shape: { layers: 3 }, shards: 4 });
    const w1 = await readWeights(one.dir);
    const wn = await readWeights(many.dir);
    for (const t of one.tensors) {
      const other = many.tensors.find((x) => x.name === t.name);
      assert.ok(other, t.name);
      const f1 = w1.get(t.file) as ParsedSafetensors;
      const fn = wn.get(other.file) as ParsedSafetensors;
      const p1 = f1.tensors.find((x) => x.name === t.name);
      const pn = fn.tensors.find((x) => x.name === t.name);
      assert.ok(p1 && pn);
      assert.ok(tensorBytes(f1, p1).equals(tensorBytes(fn, pn)), t.name);
    }
  });

  it('Llama 3.2 style ties the embeddings (no lm_head); untied on request; GQA shapes follow the options', async () => {
    const tied = await generateCheckpoint(freshDir(), { version: '3.2', shape: { layers: 1, hidden: 128, heads: 8, kvHeads: 2 } });
    assert.ok(!tied.tensors.some((t) => t.name === 'lm_head.weight'));
    assert.equal(tied.config.num_key_value_heads, 2);
    assert.deepEqual(tied.tensors.find((t) => t.name === 'model.layers.0.self_attn.k_proj.weight')?.shape, [32, 128]);
    assert.deepEqual(tied.tensors.find((t) => t.name === 'model.layers.0.self_attn.q_proj.weight')?.shape, [128, 128]);
    const untied = await generateCheckpoint(freshDir(), { version: '3.2', tieWordEmbeddings: false, shape: { layers: 1 } });
    assert.equal(untied.config.tie_word_embeddings, false);
    assert.deepEqual(untied.tensors.at(-1)?.name, 'lm_head.weight');
  });

  it('a re-run into the same directory replaces the weight files and leaves files it did not write alone', async () => {
    const dir = freshDir();
    await generateCheckpoint(dir, { version: '2', shards: 3, shape: { layers: 1 } });
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const d = await generateCheckpoint(dir, { version: '2', shape: { layers: 1 }, license: { files: 'none' }, card: false });
    const names = await readdir(dir);
    assert.deepEqual(
      names.filter((n) => n.startsWith('model')),
      ['model.safetensors'],
    );
    // LICENSE, USE_POLICY.md and README.md of the first run stay: the caller may have put such files there.
    assert.deepEqual(names.sort(), [...d.files.map((f) => f.path), 'LICENSE', 'README.md', 'USE_POLICY.md', 'notes.txt'].sort());
  });

  it('config overrides apply to config.json only (for mismatch tests)', async () => {
    const d = await generateCheckpoint(freshDir(), {
      version: '2',
      configOverrides: { vocab_size: 32001, rope_theta: undefined },
      shape: { layers: 1 },
    });
    const config = await readJson(join(d.dir, 'config.json'));
    assert.equal(config.vocab_size, 32001);
    assert.ok(!('rope_theta' in config));
    assert.deepEqual(d.tensors[0]?.shape, [32000, 64]);
  });

  it('rejects impossible options with typed errors before writing anything', async () => {
    const cases: Array<Parameters<typeof generateCheckpoint>[1]> = [
      { version: '2', shape: { heads: 4, kvHeads: 3 } },
      { version: '2', shape: { hidden: 66, heads: 4 } },
      { version: '2', shape: { layers: 0 } },
      { version: '2', shards: 1000 },
      { version: '2', shape: { ...LLAMA2_7B_SHAPE, layers: 32 }, keepValues: true },
      { version: '1', license: { files: 'both' } },
      { version: '9' as LlamaVersion },
      { version: '2', dtype: 'toString' as 'F32' },
      { version: '2', dtype: 'Q8_0' as 'F32' },
    ];
    for (const options of cases) {
      const dir = freshDir();
      await assert.rejects(generateCheckpoint(dir, options), (error: unknown) => {
        assert.ok(isLlamaError(error), String(error));
        assert.equal(error.code, 'CHECKPOINT_BAD_OPTION');
        assert.equal(error.exitCode, 2);
        assert.ok(error.hint.length > 0);
        return true;
      });
      const entries = await readdir(dir).catch(() => [] as string[]);
      assert.deepEqual(entries, [], `nothing written for ${JSON.stringify(options)}`);
    }
  });
});

describe('license files and model card options', () => {
  it('tampers with one file on request; the other stays byte-equal', async () => {
    const d = await generateCheckpoint(freshDir(), { version: '3.1', shape: { layers: 1 }, license: { tamper: 'LICENSE' } });
    const written = await readFile(join(d.dir, 'LICENSE'), 'utf8');
    const original = await readFile(join(TEMPLATES, 'llama3.1', 'LICENSE.txt'), 'utf8');
    assert.notEqual(written, original);
    assert.ok(written.includes('LLAMA 3.1 COMMUNITY LICENSE AGREEMENT'), 'still reads as the license');
    assert.equal(d.tampered, 'LICENSE');
    assert.ok((await readFile(join(d.dir, 'USE_POLICY.md'))).equals(await readFile(join(TEMPLATES, 'llama3.1', 'USE_POLICY.md'))));
    const p = await generateCheckpoint(freshDir(), { version: '2', shape: { layers: 1 }, license: { tamper: 'USE_POLICY.md' } });
    assert.ok(!(await readFile(join(p.dir, 'USE_POLICY.md'))).equals(await readFile(join(TEMPLATES, 'llama2', 'USE_POLICY.md'))));
    assert.ok((await readFile(join(p.dir, 'LICENSE'))).equals(await readFile(join(TEMPLATES, 'llama2', 'LICENSE.txt'))));
  });

  it('writes one, the other or none of the files, from another template and under another name', async () => {
    const onlyLicense = await generateCheckpoint(freshDir(), { version: '2', shape: { layers: 1 }, license: { files: 'license', fileName: 'LICENSE.txt' } });
    const names = await readdir(onlyLicense.dir);
    assert.ok(names.includes('LICENSE.txt') && !names.includes('USE_POLICY.md') && !names.includes('LICENSE'));
    const onlyPolicy = await generateCheckpoint(freshDir(), { version: '3.3', shape: { layers: 1 }, license: { files: 'use-policy' } });
    assert.deepEqual((await readdir(onlyPolicy.dir)).filter((n) => /LICENSE|USE_POLICY/.test(n)), ['USE_POLICY.md']);
    const none = await generateCheckpoint(freshDir(), { version: '3.3', shape: { layers: 1 }, license: { files: 'none' } });
    assert.deepEqual((await readdir(none.dir)).filter((n) => /LICENSE|USE_POLICY/.test(n)), []);
    assert.equal(none.licenseTemplate, undefined);
    const wrong = await generateCheckpoint(freshDir(), { version: '3.1', shape: { layers: 1 }, license: { template: 'llama4' } });
    assert.ok((await readFile(join(wrong.dir, 'LICENSE'))).equals(await readFile(join(TEMPLATES, 'llama4', 'LICENSE.txt'))));
    assert.equal(wrong.licenseTemplate, 'llama4');
  });

  it('model card: base_model, license, tags and extra fields in parseable front matter', async () => {
    const d = await generateCheckpoint(freshDir(), {
      version: '3.1',
      shape: { layers: 1 },
      card: {
        name: 'Acme Llama Fine-tune',
        baseModel: 'meta-llama/Llama-3.1-8B',
        tags: ['llama', 'llama-3', 'fine-tuned'],
        extra: { base_model_relation: 'finetune', pipeline_tag: undefined },
        body: '# Acme Llama Fine-tune\n\nBuilt with Llama\n',
      },
    });
    const card = await readFile(join(d.dir, 'README.md'), 'utf8');
    const match = /^---\n([\s\S]*?)\n---\n\n([\s\S]*)$/.exec(card);
    assert.ok(match);
    const front = parseYaml(match[1] as string) as Record<string, unknown>;
    assert.equal(front.base_model, 'meta-llama/Llama-3.1-8B');
    assert.equal(front.base_model_relation, 'finetune');
    assert.equal(front.license, 'llama3.1');
    assert.ok(!('pipeline_tag' in front));
    assert.deepEqual(front.tags, ['llama', 'llama-3', 'fine-tuned']);
    assert.deepEqual(front.language, ['en', 'de', 'fr', 'it', 'pt', 'hi', 'es', 'th']);
    assert.equal(match[2], '# Acme Llama Fine-tune\n\nBuilt with Llama\n');
  });
});

describe('streaming', () => {
  it('writes a Llama-2-7B-shaped layer without holding the model in memory', async () => {
    // Warm up (tokenizer cache, JIT) so the measurement sees only the weight writing.
    await generateCheckpoint(freshDir(), { version: '2', shape: { layers: 1 }, card: false });
    const dir = freshDir();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakExternal = before.external + before.arrayBuffers;
    let lastDone = 0;
    const d = await generateCheckpoint(dir, {
      version: '2',
      // One layer of Llama-2-7B's shape with a narrower hidden size keeps this test fast; the writing path is the same.
      shape: { ...LLAMA2_7B_SHAPE, layers: 1, hidden: 1024, heads: 8, kvHeads: 8, intermediate: 4096 },
      dtype: 'F16',
      onProgress: (event) => {
        if (event.type === 'advance') {
          assert.ok(event.done > lastDone);
          lastDone = event.done;
          const m = process.memoryUsage();
          peakRss = Math.max(peakRss, m.rss);
          peakExternal = Math.max(peakExternal, m.external + m.arrayBuffers);
        }
      },
    });
    assert.equal(lastDone, d.totalSize);
    const size = (await stat(join(dir, 'model.safetensors'))).size;
    assert.ok(size > 150e6, `wrote ${size} bytes`);
    assert.ok(d.tensors.every((t) => t.values === undefined));
    // Buffers in use stay a few chunks, far below the file size.
    assert.ok(peakExternal - (before.external + before.arrayBuffers) < 64e6, `buffers grew by ${peakExternal - before.external - before.arrayBuffers}`);
    assert.ok(peakRss - before.rss < size / 2, `rss grew by ${peakRss - before.rss} for a ${size}-byte file`);
    const file = await parseSafetensorsFile(join(dir, 'model.safetensors'));
    assert.deepEqual(file.problems, []);
    await rm(dir, { recursive: true, force: true });
  });
});

/**
 * A plain Llama forward pass (HF semantics: RMSNorm, rotate-half RoPE, grouped-query causal attention, SwiGLU),
 * returning the last position's logits. RoPE scaling is left out: it only touches low frequencies.
 */
function forward(d: CheckpointDescription, tokens: number[]): number[] {
  const w = new Map(d.tensors.map((t) => [t.name, t.values as Float32Array]));
  const get = (name: string): Float32Array => {
    const v = w.get(name);
    assert.ok(v, name);
    return v;
  };
  const { hidden, heads, kvHeads, headDim, intermediate, layers } = d.shape;
  const eps = d.config.rms_norm_eps as number;
  const theta = (d.config.rope_theta as number | undefined) ?? 10000;
  const matvec = (m: Float32Array, x: ArrayLike<number>, rows: number, cols: number): number[] => {
    const out = new Array<number>(rows).fill(0);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += (m[r * cols + c] as number) * (x[c] as number);
      out[r] = s;
    }
    return out;
  };
  const rmsnorm = (x: number[], g: Float32Array): number[] => {
    const ms = x.reduce((a, b) => a + b * b, 0) / x.length;
    const k = 1 / Math.sqrt(ms + eps);
    return x.map((v, i) => v * k * (g[i] as number));
  };
  const rope = (v: number[], nHeads: number, pos: number): number[] => {
    const out = [...v];
    const half = headDim / 2;
    for (let h = 0; h < nHeads; h++) {
      for (let i = 0; i < half; i++) {
        const angle = pos * theta ** ((-2 * i) / headDim);
        const a = v[h * headDim + i] as number;
        const b = v[h * headDim + i + half] as number;
        out[h * headDim + i] = a * Math.cos(angle) - b * Math.sin(angle);
        out[h * headDim + i + half] = b * Math.cos(angle) + a * Math.sin(angle);
      }
    }
    return out;
  };
  const embed = get('model.embed_tokens.weight');
  let xs = tokens.map((t) => Array.from(embed.subarray(t * hidden, (t + 1) * hidden)));
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    const normed = xs.map((x) => rmsnorm(x, get(`${p}.input_layernorm.weight`)));
    const q = normed.map((x, pos) => rope(matvec(get(`${p}.self_attn.q_proj.weight`), x, heads * headDim, hidden), heads, pos));
    const k = normed.map((x, pos) => rope(matvec(get(`${p}.self_attn.k_proj.weight`), x, kvHeads * headDim, hidden), kvHeads, pos));
    const v = normed.map((x) => matvec(get(`${p}.self_attn.v_proj.weight`), x, kvHeads * headDim, hidden));
    const group = heads / kvHeads;
    xs = xs.map((x, pos) => {
      const attn = new Array<number>(heads * headDim).fill(0);
      for (let h = 0; h < heads; h++) {
        const kvh = Math.floor(h / group);
        const scores: number[] = [];
        for (let j = 0; j <= pos; j++) {
          let s = 0;
          for (let i = 0; i < headDim; i++) s += (q[pos]?.[h * headDim + i] as number) * (k[j]?.[kvh * headDim + i] as number);
          scores.push(s / Math.sqrt(headDim));
        }
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= pos; j++) {
          for (let i = 0; i < headDim; i++) attn[h * headDim + i] = (attn[h * headDim + i] as number) + ((e[j] as number) / z) * (v[j]?.[kvh * headDim + i] as number);
        }
      }
      const o = matvec(get(`${p}.self_attn.o_proj.weight`), attn, hidden, heads * headDim);
      const h1 = x.map((val, i) => val + (o[i] as number));
      const n2 = rmsnorm(h1, get(`${p}.post_attention_layernorm.weight`));
      const gate = matvec(get(`${p}.mlp.gate_proj.weight`), n2, intermediate, hidden);
      const up = matvec(get(`${p}.mlp.up_proj.weight`), n2, intermediate, hidden);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * (up[i] as number));
      const down = matvec(get(`${p}.mlp.down_proj.weight`), act, hidden, intermediate);
      return h1.map((val, i) => val + (down[i] as number));
    });
  }
  const last = rmsnorm(xs.at(-1) as number[], get('model.norm.weight'));
  const head = d.tieWordEmbeddings ? embed : get('lm_head.weight');
  return matvec(head, last, d.vocabSize, hidden);
}
