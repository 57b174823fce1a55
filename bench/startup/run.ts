/**
 * Benchmark: the fixed cost of the CLI (issue 15 §4): process start, oclif, module loading, WebAssembly and worker
 * start, the GPU probe.
 *
 *   npm run build && node bench/startup/run.ts [--runs 15]
 *
 * Each pair runs alternately (A B A B …) so that drift on a shared machine hits both; the medians and the median of
 * the per-pair ratios are printed. Pairs:
 * - `llama --version` and `llama --help` against `node -e 0` (the runtime's own floor); the goal is < 150 ms each.
 * - `llama quantize tiny.gguf --type Q8_0 --device cpu` and `--device auto` against
 *   `llama-quantize tiny.gguf out Q8_0` (when LLAMA_QUANTIZE or PATH has it) on a GGUF of a few kB, where the
 *   fixed cost is all there is; the goal is ratio ≤ 1.0.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateCheckpoint } from '../../test/support/checkpoint/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'bin', 'run.js');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
if (!existsSync(join(ROOT, 'dist', 'commands'))) {
  console.error('Build the CLI first: npm run build');
  process.exit(2);
}

function wall(cmd: string, args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${String(r.status)}: ${r.stderr.slice(-500)}`);
  return seconds;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

function pair(label: string, a: [string, string[]], b: [string, string[]]): void {
  wall(...a);
  wall(...b); // warm-up: page cache, compile cache
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    const ta = wall(...a);
    const tb = wall(...b);
    as.push(ta);
    bs.push(tb);
    ratios.push(ta / tb);
  }
  console.log(`${label.padEnd(44)} ${(median(as) * 1000).toFixed(0).padStart(5)} ms vs ${(median(bs) * 1000).toFixed(0).padStart(5)} ms  ratio ${median(ratios).toFixed(2)}`);
}

const node = process.execPath;
const floor: [string, string[]] = [node, ['-e', '0']];
pair('llama --version  vs  node -e 0', [node, [CLI, '--version']], floor);
pair('llama --help     vs  node -e 0', [node, [CLI, '--help']], floor);

const work = await mkdtemp(join(tmpdir(), 'llama-bench-startup-'));
try {
  const ckpt = join(work, 'tiny');
  await generateCheckpoint(ckpt, { version: '3.2', seed: 1, shape: { layers: 1, hidden: 64, intermediate: 128, heads: 2, kvHeads: 2 }, card: false });
  const f16 = join(work, 'tiny-F16.gguf');
  wall(node, [CLI, 'quantize', ckpt, '--type', 'F16', '--out', f16, '--device', 'cpu']);
  const ours = (device: string): [string, string[]] => [node, [CLI, 'quantize', f16, '--type', 'Q8_0', '--out', join(work, `ours-${device}.gguf`), '--device', device]];
  const upstream = process.env.LLAMA_QUANTIZE ?? 'llama-quantize';
  const has = spawnSync(upstream, ['--help'], { stdio: 'ignore' }).error === undefined;
  if (has) {
    const theirs: [string, string[]] = [upstream, [f16, join(work, 'theirs.gguf'), 'Q8_0', '2']];
    pair('llama quantize --device cpu  vs  llama-quantize', ours('cpu'), theirs);
    pair('llama quantize --device auto vs  llama-quantize', ours('auto'), theirs);
  } else {
    console.log('llama-quantize: not found (set LLAMA_QUANTIZE); quantize start-up pairs skipped');
    pair('llama quantize --device cpu  vs  node -e 0', ours('cpu'), floor);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
