/**
 * Command line for benchmarks and the demo:
 *
 *   node test/support/checkpoint/cli.ts --out DIR --version 2 --preset llama2-7b --layers 4 --dtype F16 --shards 2
 *
 * Prints one JSON line describing what was written (files with size and sha256, tensor count, seconds);
 * on a bad option prints the error's message and hint to stderr and exits 2.
 */
import { parseArgs } from 'node:util';

import { isLlamaError } from '../../../src/errors.ts';
import { generateCheckpoint, LLAMA2_7B_SHAPE, type ModelShape, type WeightDtype } from './generate.ts';
import type { LlamaVersion } from './versions.ts';

const USAGE = `usage: node test/support/checkpoint/cli.ts --out DIR --version 1|2|3|3.1|3.2|3.3
  [--preset tiny|llama2-7b] [--layers N] [--hidden N] [--intermediate N] [--heads N] [--kv-heads N]
  [--dtype F32|F16|BF16] [--shards N] [--seed S] [--instruct] [--tie | --no-tie]
  [--no-license] [--tamper LICENSE|USE_POLICY.md] [--base-model ID] [--no-card]`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      version: { type: 'string' },
      preset: { type: 'string', default: 'tiny' },
      layers: { type: 'string' },
      hidden: { type: 'string' },
      intermediate: { type: 'string' },
      heads: { type: 'string' },
      'kv-heads': { type: 'string' },
      dtype: { type: 'string' },
      shards: { type: 'string' },
      seed: { type: 'string' },
      instruct: { type: 'boolean', default: false },
      tie: { type: 'boolean' },
      'no-tie': { type: 'boolean' },
      'no-license': { type: 'boolean', default: false },
      tamper: { type: 'string' },
      'base-model': { type: 'string' },
      'no-card': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help || values.out === undefined || values.version === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (values.preset !== 'tiny' && values.preset !== 'llama2-7b') {
    process.stderr.write(`unknown preset ${values.preset}\n${USAGE}\n`);
    return 2;
  }
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  // 'tiny' leaves the shape to the version's defaults (TINY_SHAPE, with GQA from Llama 3 on).
  const shape: Partial<ModelShape> = values.preset === 'llama2-7b' ? { ...LLAMA2_7B_SHAPE } : {};
  for (const [key, v] of [
    ['layers', values.layers],
    ['hidden', values.hidden],
    ['intermediate', values.intermediate],
    ['heads', values.heads],
    ['kvHeads', values['kv-heads']],
  ] as const) {
    const n = num(v);
    if (n !== undefined) shape[key] = n;
  }
  const tie = values.tie === true ? true : values['no-tie'] === true ? false : undefined;
  const started = performance.now();
  const d = await generateCheckpoint(values.out, {
    version: values.version as LlamaVersion,
    instruct: values.instruct,
    shape,
    ...(values.dtype !== undefined ? { dtype: values.dtype as WeightDtype } : {}),
    ...(values.shards !== undefined ? { shards: Number(values.shards) } : {}),
    ...(values.seed !== undefined ? { seed: /^\d+$/.test(values.seed) ? Number(values.seed) : values.seed } : {}),
    ...(tie !== undefined ? { tieWordEmbeddings: tie } : {}),
    license: {
      files: values['no-license'] ? 'none' : undefined,
      ...(values.tamper !== undefined ? { tamper: values.tamper as 'LICENSE' | 'USE_POLICY.md' } : {}),
    },
    card: values['no-card'] ? false : values['base-model'] !== undefined ? { baseModel: values['base-model'] } : {},
  });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${JSON.stringify({
      dir: d.dir,
      version: d.version,
      shape: d.shape,
      dtype: d.dtype,
      vocabSize: d.vocabSize,
      tensors: d.tensors.length,
      totalSize: d.totalSize,
      files: d.files,
      seconds: Number(seconds.toFixed(3)),
    })}\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (isLlamaError(error)) {
      process.stderr.write(`${error.message}\n${error.hint}\n`);
      process.exitCode = error.exitCode;
    } else {
      // parseArgs' own errors are usage errors; anything else is a bug.
      const usage = String((error as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${usage ? USAGE : ''}\n`);
      process.exitCode = usage ? 2 : 1;
    }
  },
);
