/**
 * Benchmark: `llama package --format tar` against GNU `tar -cf` on the same multi-GB input tree.
 *
 *   npm run build && node bench/package/run.ts [--gib 4] [--runs 3] [--dir /path/to/scratch] [--keep]
 *
 * The tree is a derivative as `llama quantize` leaves it: a few multi-hundred-MB weight files plus small JSON files,
 * next to a tiny Llama 3.2 base checkpoint for the license lineage. Both tools read it from the page cache (one warm-up
 * read first) and write into the same directory; each is run `--runs` times and the median wall time counts. Printed:
 * each tool's time and throughput, and the ratio tar_time / llama_time (1.0 = as fast as GNU tar; the goal is ≥ 0.8).
 * llama package also computes a sha256 of every file and of the archive, which tar does not.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateCheckpoint } from '../../test/support/checkpoint/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'bin', 'run.js');

const { values } = parseArgs({
  options: {
    gib: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const gib = Number(values.gib);
const runs = Number(values.runs);
if (!(gib > 0) || !Number.isInteger(runs) || runs < 1) throw new Error('--gib must be > 0 and --runs a positive integer');
if (!existsSync(join(ROOT, 'dist', 'commands', 'package.js'))) {
  console.error('Build the CLI first: npm run build');
  process.exit(2);
}

const work = values.dir ?? (await mkdtemp(join(tmpdir(), 'llama-bench-package-')));
const tree = join(work, 'tree');
const CHUNK = 8 * 1024 * 1024;

/** Incompressible bytes, written in chunks (memory stays at one chunk). */
async function writeRandom(path: string, bytes: number): Promise<void> {
  const handle = await open(path, 'w');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let done = 0; done < bytes; ) {
      const n = Math.min(CHUNK, bytes - done);
      randomFillSync(buffer, 0, n);
      await handle.write(buffer, 0, n, done);
      done += n;
    }
  } finally {
    await handle.close();
  }
}

async function makeTree(): Promise<number> {
  const total = Math.round(gib * 1024 ** 3);
  const shards = Math.max(1, Math.round(gib));
  const marker = join(tree, `.bench-${total}`);
  if (existsSync(marker)) return total;
  await rm(tree, { recursive: true, force: true });
  await mkdir(join(tree, 'deriv'), { recursive: true });
  for (let i = 0; i < shards; i++) {
    const size = Math.floor(total / shards) + (i === 0 ? total % shards : 0);
    await writeRandom(join(tree, 'deriv', `model-Q8_0-${String(i + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.gguf`), size);
  }
  await writeFile(join(tree, 'deriv', 'config.json'), '{"model_type":"llama"}\n');
  await writeFile(join(tree, 'deriv', 'tokenizer_config.json'), '{"bos_token":"<|begin_of_text|>"}\n');
  await generateCheckpoint(join(tree, 'base'), { version: '3.2', shape: { layers: 1, hidden: 8, intermediate: 16, heads: 2, kvHeads: 2 }, tokenizer: false, generationConfig: false });
  await writeFile(join(tree, 'package.json'), '{"name":"bench"}\n');
  await writeFile(join(tree, '.llamarc.json'), JSON.stringify({
    derivative: { name: 'Llama-3.2-Bench-Q8_0', version: '1.0.0', baseModels: ['./base'], relation: 'quantized' },
    licensee: { monthlyActiveUsers: 10, euEstablished: false, commercial: true },
  }));
  await writeFile(marker, '');
  return total;
}

function timed(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr.toString()}`);
  return seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const bytes = await makeTree();
// Warm the page cache so neither tool pays for the first read.
execFileSync('sh', ['-c', 'cat deriv/* > /dev/null'], { cwd: tree });

const out = join(work, 'out');
const tarTimes: number[] = [];
const llamaTimes: number[] = [];
for (let i = 0; i < runs; i++) {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  tarTimes.push(timed('tar', ['-cf', join(out, 'gnu.tar'), 'deriv'], { cwd: tree }));
  await rm(out, { recursive: true, force: true });
  llamaTimes.push(timed(process.execPath, [CLI, 'package', 'deriv', '--format', 'tar', '--out', out, '--offline', '--progress', 'none'], { cwd: tree, env: { HF_HUB_OFFLINE: '1' } }));
}
const tarTime = median(tarTimes);
const llamaTime = median(llamaTimes);
const gb = bytes / 1e9;
console.log(`input: ${(bytes / 1024 ** 3).toFixed(2)} GiB in ${tree}/deriv, ${runs} run(s) each, median wall time`);
console.log(`GNU tar -cf:                 ${tarTime.toFixed(2)} s  (${(gb / tarTime).toFixed(2)} GB/s)  runs: ${tarTimes.map((t) => t.toFixed(2)).join(', ')}`);
console.log(`llama package --format tar:  ${llamaTime.toFixed(2)} s  (${(gb / llamaTime).toFixed(2)} GB/s)  runs: ${llamaTimes.map((t) => t.toFixed(2)).join(', ')}`);
console.log(`ratio (tar time / llama time): ${(tarTime / llamaTime).toFixed(2)}x  (goal >= 0.80x)`);

await rm(out, { recursive: true, force: true });
if (!values.keep && values.dir === undefined) await rm(work, { recursive: true, force: true });
