/**
 * Benchmark: `llama quantize --device cpu` against llama.cpp's `llama-quantize` on the same multi-GB input.
 *
 *   npm run build && node bench/quantize/run.ts [--layers 4] [--types Q8_0,Q4_0,Q4_K_M] [--threads 2] [--dir SCRATCH] [--keep] [--no-gpu]
 *
 * Input: a Llama 2-style checkpoint with Llama-2-7B layer shapes (dim 4096, 32 heads, ffn 11008; `--layers` of them,
 * 32000-token vocabulary, F16 safetensors) from the test checkpoint generator, and the F16 GGUF converted from it
 * (≈ 2.1 GB for 4 layers). For each type: wall time and peak RSS (GNU time, the whole process tree's largest
 * resident set) of `llama quantize F16.gguf --type T --device cpu --threads N`, of `llama-quantize F16.gguf out T N`
 * when it is on PATH (then also `cmp` of the two outputs), and the ratio ours / theirs (goal ≤ 1.0 for Q8_0 / Q4_0,
 * ≤ 1.5 for K-quants). Also the streaming conversion straight from the safetensors checkpoint, with its peak RSS
 * (goal: < 1.5 GB whatever the model size).
 *
 * GPU column: the same input through `--device gpu` (wall time, peak RSS, ratio GPU / CPU path, `cmp` with the CPU
 * output), with the adapter named; skipped with the reason when there is no adapter, or with `--no-gpu`. On a
 * software adapter (lavapipe) the figure only proves the pipeline runs; it is not a speed claim.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { probeGpu } from '../../src/quant/gpu/device.ts';
import { generateCheckpoint, LLAMA2_7B_SHAPE } from '../../test/support/checkpoint/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'bin', 'run.js');
const CHILD = join(ROOT, 'bench', 'quantize', 'child.ts');

const { values } = parseArgs({
  options: {
    layers: { type: 'string', default: '4' },
    types: { type: 'string', default: 'Q8_0,Q4_0,Q4_K_M' },
    threads: { type: 'string', default: '2' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    gpu: { type: 'boolean', default: true },
  },
  allowNegative: true,
});
const layers = Number(values.layers);
const threads = Number(values.threads);
const types = values.types.split(',').map((t) => t.trim()).filter((t) => t !== '');
if (!Number.isInteger(layers) || layers < 1 || !Number.isInteger(threads) || threads < 1) throw new Error('--layers and --threads must be positive integers');

const scratch = values.dir ?? join(tmpdir(), 'llama-bench-quantize');
await mkdir(scratch, { recursive: true });
const ckpt = join(scratch, `llama2-7b-shape-${layers}L`);
const f16 = join(scratch, `llama2-7b-shape-${layers}L-F16.gguf`);

/** Run a command under GNU time; wall seconds and peak RSS in MB. */
function timed(cmd: string, args: string[]): { seconds: number; rssMb: number; ok: boolean; output: string } {
  const r = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = /BENCH ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  return { seconds: m ? Number(m[1]) : NaN, rssMb: m ? Number(m[2]) / 1024 : NaN, ok: r.status === 0, output: `${r.stdout}${r.stderr}`.slice(-2000) };
}

/** Our tool: the built CLI when present, else the library through a small runner (same code path minus oclif). */
function ours(input: string, type: string, out: string, device: 'cpu' | 'gpu' = 'cpu'): ReturnType<typeof timed> {
  if (existsSync(join(ROOT, 'dist', 'commands', 'quantize.js'))) {
    return timed(process.execPath, [CLI, 'quantize', input, '--type', type, '--device', device, '--threads', String(threads), '--out', out, '--progress', 'none']);
  }
  return timed(process.execPath, [CHILD, input, type, out, String(threads), device]);
}

function which(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

if (!existsSync(join(ckpt, 'config.json'))) {
  console.log(`generating the checkpoint (${layers} layers of Llama-2-7B shape, F16) in ${ckpt} …`);
  const t0 = Date.now();
  await generateCheckpoint(ckpt, { version: '2', shape: { ...LLAMA2_7B_SHAPE, layers }, dtype: 'F16', shards: 2, seed: 1 });
  console.log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
if (!existsSync(f16)) {
  const r = ours(ckpt, 'F16', f16);
  if (!r.ok) throw new Error(`conversion to F16 failed:\n${r.output}`);
  console.log(`checkpoint → F16 GGUF: ${r.seconds.toFixed(2)} s, peak RSS ${r.rssMb.toFixed(0)} MB`);
}
const inputBytes = (await stat(f16)).size;
console.log(`input ${f16}: ${(inputBytes / 1e9).toFixed(2)} GB; ${threads} threads; ${types.join(', ')}`);

// warm the page cache so both tools read from memory
spawnSync('cat', [f16], { stdio: ['ignore', 'ignore', 'ignore'] });

const llamaQuantize = which('llama-quantize');
if (llamaQuantize === undefined) {
  console.log('llama-quantize is not on PATH: only our numbers are printed. To compare, build llama.cpp (cmake -B build && cmake --build build --target llama-quantize) and put build/bin on PATH.');
}
// Mesa warns on every run without a writable XDG_RUNTIME_DIR
process.env.XDG_RUNTIME_DIR ??= scratch;
let gpu = false;
if (!values.gpu) {
  console.log('GPU column skipped: --no-gpu');
} else {
  const probe = await probeGpu();
  if (!probe.ok) {
    console.log(`GPU column skipped: ${probe.error.message}`);
  } else {
    gpu = true;
    const a = probe.info;
    console.log(`GPU: ${a.name} (${a.backend}, ${a.vendor}${a.software ? ', a software renderer: the GPU figures only prove the pipeline' : ''})`);
  }
}
const rows: string[] = [];
for (const type of types) {
  const out = join(scratch, `ours-${type}.gguf`);
  const a = ours(f16, type, out);
  if (!a.ok) throw new Error(`llama quantize ${type} failed:\n${a.output}`);
  let line = `${type.padEnd(7)} llama quantize ${a.seconds.toFixed(2)} s, peak RSS ${a.rssMb.toFixed(0)} MB`;
  if (gpu) {
    const gpuOut = join(scratch, `ours-gpu-${type}.gguf`);
    const g = ours(f16, type, gpuOut, 'gpu');
    if (!g.ok) throw new Error(`llama quantize --device gpu ${type} failed:\n${g.output}`);
    const same = spawnSync('cmp', ['-s', out, gpuOut]).status === 0;
    line += ` | --device gpu ${g.seconds.toFixed(2)} s, peak RSS ${g.rssMb.toFixed(0)} MB, GPU/CPU ${(g.seconds / a.seconds).toFixed(2)}, output ${same ? 'identical' : 'DIFFERENT'}`;
    if (!values.keep) await rm(gpuOut, { force: true });
  }
  if (llamaQuantize !== undefined) {
    const theirsOut = join(scratch, `theirs-${type}.gguf`);
    const b = timed(llamaQuantize, [f16, theirsOut, type, String(threads)]);
    const same = spawnSync('cmp', ['-s', out, theirsOut]).status === 0;
    line += ` | llama-quantize ${b.seconds.toFixed(2)} s, peak RSS ${b.rssMb.toFixed(0)} MB | ratio ${(a.seconds / b.seconds).toFixed(2)} | output ${same ? 'identical' : 'DIFFERENT'}`;
    if (!values.keep) await rm(theirsOut, { force: true });
  }
  rows.push(line);
  console.log(line);
  if (!values.keep) await rm(out, { force: true });
}

// streaming straight from safetensors: memory must stay bounded by the chunk size, not the model size
const direct = join(scratch, 'direct-Q4_K_M.gguf');
const d = ours(ckpt, 'Q4_K_M', direct);
if (!d.ok) throw new Error(`checkpoint → Q4_K_M failed:\n${d.output}`);
console.log(`checkpoint → Q4_K_M directly: ${d.seconds.toFixed(2)} s, peak RSS ${d.rssMb.toFixed(0)} MB (goal < 1536 MB)`);
if (!values.keep) await rm(direct, { force: true });
