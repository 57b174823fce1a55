/**
 * The real consumer: llama.cpp (through node-llama-cpp's prebuilt CPU binary, never built or downloaded here) loads
 * the GGUFs we write from tiny Llama 2-style (SentencePiece-style vocabulary from tokenizer.json) and Llama 3.1-style
 * (byte-level BPE, rope_freqs) checkpoints, tokenizes like the Hugging Face tokenizer, and computes the same logits
 * as a float64 forward pass over the safetensors (reference-forward.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { getLlama, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';
import { quantize } from '../../src/quantize/quantize.ts';
import { generateCheckpoint, type CheckpointOptions } from '../support/checkpoint/index.ts';
import { referenceLogits } from './reference-forward.ts';

const SAMPLES = [
  'Hello world! This is a test.',
  '你好，世界。今天天气很好',
  'emoji: 🦙🔥👍🏽 done',
  'def f(x):\n    return x ** 2  # square\n\tif a != b: pass',
  ' leading space and  double  spaces',
  'numbers 1234567 3.14159',
];
const SPECIAL_SAMPLES: Record<string, string[]> = {
  '2': ['special <s> and </s> tokens', '<s>[INST] hi [/INST]'],
  '3.1': ['<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>', 'plain <|eot_id|> inside'],
  '3.2': ['<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>'],
};

/**
 * Logit tolerance, relative to the largest |logit - mean| of the reference. F32: the 1e-4 (measured 2.7e-7
 * with an F32 KV cache). Quantized: what random weights lose at that bit width, plus llama.cpp's quantized activations
 * in the matmuls (measured on the Llama 2-style checkpoint: 1.6e-2 for Q8_0, 1.6e-1 for Q4_K_M), with headroom.
 * The F32 bound is the one that catches conversion mistakes: with these small random weights attention is nearly
 * uniform, so even a missing Q/K permutation moves the logits by only 4.9e-2 (measured) — far above 1e-4, but within
 * the quantized bounds, which only check that quantization error stays what it should be.
 */
const TOLERANCE: Record<string, number> = { F32: 1e-4, Q8_0: 5e-2, Q4_K_M: 3e-1 };

let llama: Llama;
let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-consumer-'));
  // gpu: false and build: 'never' — the prebuilt CPU binary that ships with node-llama-cpp, nothing downloaded
  llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' as never });
});
after(async () => {
  await llama?.dispose();
  await rm(root, { recursive: true, force: true });
});

async function centeredLogitError(model: LlamaModel, dir: string, text: string): Promise<{ error: number; scale: number }> {
  const context = await model.createContext({
    contextSize: 64,
    threads: 1,
    flashAttention: false,
    // an F16 KV cache alone moves logits by ~3e-4: keep it F32 so the comparison sees the weights
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  try {
    const tokens = model.tokenize(text, false);
    const last = tokens.length - 1;
    const input = tokens.map((t, i) =>
      i === last ? ([t, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }] as const) : t,
    );
    const output = await context.getSequence().controlledEvaluate(input as never);
    const probabilities = output[last]?.next.probabilities;
    assert.ok(probabilities !== undefined);
    const reference = await referenceLogits(dir, tokens.map(Number));
    assert.equal(probabilities.size, reference.length, 'a probability for every token');
    // llama.cpp reports softmax(logits): log p = logit - logsumexp, so compare both up to their mean
    const lse = Math.log(reference.reduce((s, v) => s + Math.exp(v), 0));
    const diffs = reference.map((v, i) => Math.log(probabilities.get(i as Token)!) - (v - lse));
    const meanDiff = diffs.reduce((a, b) => a + b, 0) / diffs.length;
    const meanRef = reference.reduce((a, b) => a + b, 0) / reference.length;
    let error = 0;
    let scale = 0;
    for (let i = 0; i < reference.length; i++) {
      error = Math.max(error, Math.abs(diffs[i]! - meanDiff));
      scale = Math.max(scale, Math.abs(reference[i]! - meanRef));
    }
    return { error, scale };
  } finally {
    await context.dispose();
  }
}

const CASES: Array<{ version: '2' | '3.1' | '3.2'; options: Partial<CheckpointOptions>; types: string[] }> = [
  // rows of 256 so Q4_K_M really uses Q4_K/Q6_K blocks; a 32000-token vocabulary keeps it small
  { version: '2', options: { shape: { hidden: 256, intermediate: 512, heads: 4, kvHeads: 4, layers: 2 } }, types: ['F32', 'Q8_0', 'Q4_K_M'] },
  // Llama 3.1: GQA, rope_freqs, BF16 weights, sharded, 128256-token byte-level BPE. Loading its vocabulary costs
  // llama.cpp seconds, so Q8_0 is checked on the Llama 2-style model only (the vocabulary KVs are the same bytes in
  // every type).
  { version: '3.1', options: { instruct: true, shards: 2 }, types: ['F32', 'Q4_K_M'] },
  // Llama 3.2: tied embeddings (no output.weight: llama.cpp reuses token_embd), head_dim in config.json
  { version: '3.2', options: { seed: 11 }, types: ['Q8_0'] },
];

for (const { version, options, types } of CASES) {
  describe(`Llama ${version}-style checkpoint`, () => {
    let dir: string;
    let hf: Tokenizer;
    before(async () => {
      dir = join(root, `llama-${version}`);
      await generateCheckpoint(dir, { version, seed: 7, ...options });
      hf = new Tokenizer(JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')));
    });

    for (const type of types) {
      test(`${type}: llama.cpp loads it, tokenizes like Hugging Face, logits match the reference`, async () => {
        const out = join(root, `llama-${version}-${type}.gguf`);
        const result = await quantize({ input: dir, type, out, threads: 2 });
        if (type === 'Q4_K_M' && version === '2') {
          assert.ok(result.tensors.some((t) => t.type === 'Q4_K') && result.tensors.some((t) => t.type === 'Q6_K'), 'K-quant blocks in use');
        }
        const model = await llama.loadModel({ modelPath: out });
        try {
          for (const text of [...SAMPLES, ...SPECIAL_SAMPLES[version]!]) {
            const expected = hf.encode(text, { add_special_tokens: false }).ids;
            assert.deepEqual(Array.from(model.tokenize(text, true), Number), expected, `tokens of ${JSON.stringify(text)}`);
          }
          const { error, scale } = await centeredLogitError(model, dir, 'The quick brown fox jumps over');
          assert.ok(scale > 0.1, `logits spread ${scale}`);
          assert.ok(error <= TOLERANCE[type]! * scale, `${type}: max logit error ${error.toExponential(3)} > ${TOLERANCE[type]} × ${scale.toFixed(4)}`);
        } finally {
          await model.dispose();
          await rm(out, { force: true });
        }
      });
    }
  });
}
