/**
 * config.json values the GGUF cannot hold or that make no model are refused as usage errors naming the key, before
 * anything is allocated from them (issue 17 §21: before, max_position_embeddings ≥ 2^32 was exit 1 "out of range",
 * a head_dim given as a string was ignored, rope_theta 0 or a negative rms_norm_eps went into the GGUF).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { UsageError } from '../../src/errors.ts';
import { quantize } from '../../src/quantize/quantize.ts';
import { generateCheckpoint } from '../support/checkpoint/index.ts';
import { runCli } from '../support/cli.ts';

let root: string;
let dir: string;
let original: Record<string, unknown>;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-model-config-'));
  dir = join(root, 'Llama-3.1-tiny');
  await generateCheckpoint(dir, { version: '3.1', seed: 4, card: false, license: { files: 'none' } });
  original = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function withConfig(edit: (config: Record<string, unknown>) => void): Promise<void> {
  const config = structuredClone(original);
  edit(config);
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
}

const rope = (c: Record<string, unknown>): Record<string, unknown> => c.rope_scaling as Record<string, unknown>;
const cases: [label: string, key: string, edit: (c: Record<string, unknown>) => void][] = [
  ['max_position_embeddings negative', 'max_position_embeddings', (c) => { c.max_position_embeddings = -1; }],
  ['max_position_embeddings 2^32', 'max_position_embeddings', (c) => { c.max_position_embeddings = 2 ** 32; }],
  ['max_position_embeddings 1e12', 'max_position_embeddings', (c) => { c.max_position_embeddings = 1e12; }],
  ['num_key_value_heads a string', 'num_key_value_heads', (c) => { c.num_key_value_heads = '2'; }],
  ['num_key_value_heads null', 'num_key_value_heads', (c) => { c.num_key_value_heads = null; }],
  ['num_key_value_heads a boolean', 'num_key_value_heads', (c) => { c.num_key_value_heads = true; }],
  ['intermediate_size a string', 'intermediate_size', (c) => { c.intermediate_size = '128'; }],
  ['intermediate_size null', 'intermediate_size', (c) => { c.intermediate_size = null; }],
  ['intermediate_size a boolean', 'intermediate_size', (c) => { c.intermediate_size = false; }],
  ['head_dim a string', 'head_dim', (c) => { c.head_dim = '16'; }],
  ['head_dim null', 'head_dim', (c) => { c.head_dim = null; }],
  ['head_dim a boolean', 'head_dim', (c) => { c.head_dim = true; }],
  ['head_dim 2^32', 'head_dim', (c) => { c.head_dim = 2 ** 32; }],
  ['rope scaling factor 0', 'rope_scaling.factor', (c) => { rope(c).factor = 0; }],
  ['rope scaling factor negative', 'rope_scaling.factor', (c) => { rope(c).factor = -8; }],
  ['low_freq_factor ≥ high_freq_factor', 'rope_scaling.low_freq_factor', (c) => { rope(c).low_freq_factor = 4; rope(c).high_freq_factor = 4; }],
  ['rope_theta 0', 'rope_theta', (c) => { c.rope_theta = 0; }],
  ['rms_norm_eps negative', 'rms_norm_eps', (c) => { c.rms_norm_eps = -1e-5; }],
];

test('config.json values outside GGUF or that make no model: UsageError CONVERT_BAD_CONFIG naming the key, no output', async () => {
  for (const [label, key, edit] of cases) {
    await withConfig(edit);
    const out = join(root, 'out.gguf');
    await assert.rejects(quantize({ input: dir, type: 'F32', out }), (e: unknown) => {
      assert.ok(e instanceof UsageError, `${label}: ${String(e)}`);
      assert.equal(e.code, 'CONVERT_BAD_CONFIG', label);
      assert.equal(e.exitCode, 2, label);
      assert.ok(e.message.includes(key), `${label}: ${e.message}`);
      assert.equal(e.details?.key, key, label);
      return true;
    });
  }
  // the untouched config still converts
  await withConfig(() => {});
  await quantize({ input: dir, type: 'F32', out: join(root, 'ok.gguf') });
  await rm(join(root, 'ok.gguf'));
});

test('through the CLI: exit 2 and the key in the message (before: exit 1 "out of range")', async () => {
  await withConfig((c) => { c.max_position_embeddings = 1e12; });
  const r = await runCli(['quantize', dir, '--type', 'F16', '--out', join(root, 'cli.gguf'), '--device', 'cpu'], { cwd: root });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /max_position_embeddings/);
  await withConfig(() => {});
});

test('Llama 3.2 Vision (Mllama) and Llama 4: exit 2 with the reason, nothing written (issue 14 §3)', async () => {
  for (const [architecture, code, reason] of [
    ['MllamaForConditionalGeneration', 'CONVERT_MLLAMA_UNSUPPORTED', /llama\.cpp has no converter/],
    ['Llama4ForConditionalGeneration', 'CONVERT_LLAMA4_NOT_BUILT', /not built/],
  ] as const) {
    await withConfig((c) => { c.architectures = [architecture]; });
    const out = join(root, 'vision.gguf');
    const r = await runCli(['quantize', dir, '--type', 'F16', '--out', out, '--device', 'cpu', '--json'], { cwd: root });
    assert.equal(r.code, 2, r.stderr);
    const error = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, code);
    assert.match(error.message, reason);
    await assert.rejects(readFile(out), { code: 'ENOENT' });
  }
  await withConfig(() => {});
});
