/**
 * GPU quantizer throughput against the CPU kernel in the same process, same F16 input, same output bytes.
 *   node bench/quant-gpu/run.ts [--mb 64] [--types Q8_0,Q4_0,Q4_K,Q6_K] [--runs 3] [--json]
 * Per type: pipeline build time (first call), then the median of --runs calls on the GPU and on one CPU thread
 * (src/quant/kernels.ts convertInto), Melem/s, and the ratio cpu_time / gpu_time (> 1: the GPU is faster). The
 * outputs' sha256 must be equal or the run fails. On a software adapter (llvmpipe) the default size drops to 2 MB:
 * there the figure only proves the pipeline, it is not a GPU speed.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fp32ToFp16Bits } from '../../src/quant/fp16.ts';
import { convertInto } from '../../src/quant/kernels.ts';
import { GGML_TYPES, rowSizeBytes, type GgmlTypeName } from '../../src/quant/types.ts';
import { createGpuQuantizer } from '../../src/quant/gpu/runner.ts';

let runtimeDir: string | undefined;
if (process.env.XDG_RUNTIME_DIR === undefined) {
  runtimeDir = mkdtempSync(join(tmpdir(), 'llama-gpu-xdg-'));
  process.env.XDG_RUNTIME_DIR = runtimeDir;
}

const { values } = parseArgs({
  options: {
    mb: { type: 'string' },
    types: { type: 'string', default: 'Q8_0,Q4_0,Q4_K,Q6_K' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});

const gpu = await createGpuQuantizer({ allowSoftware: true });
const info = gpu.adapterInfo;
const mb = Number(values.mb ?? (info.software ? 2 : 64));
const runs = Math.max(1, Number(values.runs));
const rowLength = 4096;
const nRows = Math.max(1, Math.floor((mb * 2 ** 20) / 2 / rowLength));
const nElements = rowLength * nRows;

// deterministic gaussian-like weights (sum of uniforms), stored as F16 like a real checkpoint
const src = new Uint8Array(nElements * 2);
{
  let s = 1;
  for (let i = 0; i < nElements; i++) {
    let acc = 0;
    for (let k = 0; k < 4; k++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      acc += s / 2 ** 32 - 0.5;
    }
    const h = fp32ToFp16Bits(acc * 0.02);
    src[2 * i] = h & 0xff;
    src[2 * i + 1] = h >>> 8;
  }
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const results: Array<Record<string, unknown>> = [];
if (!values.json) {
  console.log(`adapter: ${info.name} (backend ${info.backend}, vendor ${info.vendor}${info.software ? ', SOFTWARE: pipeline proof only' : ''})`);
  console.log(`input: F16 ${nRows} x ${rowLength} = ${(nElements / 1e6).toFixed(1)} M elements (${(src.length / 2 ** 20).toFixed(1)} MiB), median of ${runs}`);
}
for (const type of values.types.split(',') as GgmlTypeName[]) {
  if (!gpu.supports(type) || GGML_TYPES[type] === undefined) throw new Error(`no GPU kernel for ${type}`);
  let t0 = performance.now();
  const first = await gpu.quantizeRows(type, { dtype: 'F16', bytes: src }, rowLength, nRows);
  const buildMs = performance.now() - t0;
  const gpuMs: number[] = [];
  let gpuOut = first;
  for (let r = 0; r < runs; r++) {
    t0 = performance.now();
    gpuOut = await gpu.quantizeRows(type, { dtype: 'F16', bytes: src }, rowLength, nRows);
    gpuMs.push(performance.now() - t0);
  }
  const cpuOut = new Uint8Array(rowSizeBytes(type, rowLength) * nRows);
  const cpuMs: number[] = [];
  for (let r = 0; r < runs; r++) {
    t0 = performance.now();
    convertInto('F16', src, 0, nElements, type, cpuOut, 0);
    cpuMs.push(performance.now() - t0);
  }
  const same = sha(gpuOut) === sha(cpuOut);
  const g = median(gpuMs);
  const c = median(cpuMs);
  const row = {
    type, identical: same, sha256: sha(gpuOut), firstCallMs: Math.round(buildMs), gpuMs: Math.round(g), cpuMs: Math.round(c),
    gpuMelemPerS: +(nElements / g / 1e3).toFixed(1), cpuMelemPerS: +(nElements / c / 1e3).toFixed(1), ratio: +(c / g).toFixed(2),
  };
  results.push(row);
  if (!values.json) {
    console.log(`${type.padEnd(5)} gpu ${String(row.gpuMs).padStart(7)} ms (${row.gpuMelemPerS} Melem/s, first call ${row.firstCallMs} ms)` +
      `  cpu-1-thread ${String(row.cpuMs).padStart(7)} ms (${row.cpuMelemPerS} Melem/s)  cpu/gpu ${row.ratio}x  ${same ? 'identical' : 'DIFFERENT'}`);
  }
  if (!same) process.exitCode = 1;
}
if (values.json) console.log(JSON.stringify({ adapter: info, elements: nElements, runs, results }));
gpu.destroy();
if (runtimeDir !== undefined) rmSync(runtimeDir, { recursive: true, force: true });
