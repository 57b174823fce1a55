/**
 * CPU kernel throughput: F16 source rows → each type, on one thread and through the worker pool, in one process.
 *   node bench/quant-kernels/run.ts [--mb 32] [--threads N] [--types Q8_0,Q4_K,...]
 * Prints per type: Melem/s and MB/s of F16 input for one thread and for the pool, the pool/single speed-up (both
 * measured here, same process), and the single thread's CPU time per element next to llama-quantize's recorded
 * CPU time per element on the project's 2-core box (shared/research/gguf.md §10: user seconds / 808 M parameters,
 * whole command; Q4_K and Q5_K rows compare with the Q4_K_M / Q5_K_M mixtures). Those are recorded figures, not
 * measured in this run: only indicative, and only on that same machine class (CPU time is robust to other load,
 * wall time is not).
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { convertInto } from '../../src/quant/kernels.ts';
import { QuantPool } from '../../src/quant/pool.ts';
import { GGML_TYPES, type GgmlTypeName } from '../../src/quant/types.ts';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '32' },
    threads: { type: 'string', default: String(availableParallelism()) },
    types: { type: 'string', default: 'Q8_0,Q4_0,Q4_1,Q5_0,Q5_1,Q2_K,Q3_K,Q4_K,Q5_K,Q6_K,F16,BF16' },
  },
});
const rowLength = 4096;
const nElements = Math.max(rowLength, Math.floor((Number(values.mb) * 2 ** 20) / 2 / rowLength) * rowLength);
const threads = Number(values.threads);
const types = values.types.split(',') as GgmlTypeName[];

// deterministic gaussian-like weights (sum of uniforms), stored as F16 like a real checkpoint
const src = new Uint8Array(new SharedArrayBuffer(nElements * 2));
{
  const f32 = new Float32Array(rowLength);
  let s = 1;
  for (let r = 0; r < nElements / rowLength; r++) {
    for (let i = 0; i < rowLength; i++) {
      let acc = 0;
      for (let k = 0; k < 4; k++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        acc += s / 2 ** 32 - 0.5;
      }
      f32[i] = acc * 0.02;
    }
    convertInto('F32', new Uint8Array(f32.buffer), 0, rowLength, 'F16', src, r * rowLength * 2);
  }
}

// llama-quantize on the 2-core box (gguf.md §10): user CPU seconds / 808 M parameters, in ns per element
const LLAMA_QUANTIZE_NS: Partial<Record<GgmlTypeName, number>> = {
  Q8_0: (2.9 / 808e6) * 1e9,
  Q4_0: (1.8 / 808e6) * 1e9,
  Q4_K: (38.2 / 808e6) * 1e9,
  Q5_K: (33.0 / 808e6) * 1e9,
  Q6_K: (21.5 / 808e6) * 1e9,
};

const pool = new QuantPool({ threads });
const scratch = new Float32Array(nElements);
console.log(`${(nElements / 1e6).toFixed(1)} M elements (${(nElements * 2 / 2 ** 20).toFixed(0)} MiB F16), row ${rowLength}, pool of ${threads}`);
console.log('type   1-thread Melem/s  MB/s |   pool Melem/s  MB/s | pool/1-thread | 1-thread CPU ns/elem (llama-quantize)');
try {
  for (const type of types) {
    const out = new Uint8Array((nElements / GGML_TYPES[type].blockSize) * GGML_TYPES[type].typeSize);
    // warm up (JIT and WebAssembly tier-up) on both paths
    convertInto('F16', src, 0, rowLength * 64, type, out, 0, scratch);
    await pool.convert({ srcType: 'F16', src: src.subarray(0, rowLength * 64 * 2), dstType: type, rowLength });
    const cpu0 = process.cpuUsage();
    let t0 = performance.now();
    convertInto('F16', src, 0, nElements, type, out, 0, scratch);
    const single = (performance.now() - t0) / 1000;
    const cpuNs = (process.cpuUsage(cpu0).user * 1000) / nElements;
    t0 = performance.now();
    await pool.convert({ srcType: 'F16', src, dstType: type, rowLength });
    const pooled = (performance.now() - t0) / 1000;
    const rate1 = nElements / single;
    const rateP = nElements / pooled;
    const ref = LLAMA_QUANTIZE_NS[type];
    console.log(
      `${type.padEnd(5)} ${(rate1 / 1e6).toFixed(1).padStart(12)} ${((rate1 * 2) / 1e6).toFixed(0).padStart(6)} | ` +
      `${(rateP / 1e6).toFixed(1).padStart(13)} ${((rateP * 2) / 1e6).toFixed(0).padStart(6)} | ${(single / pooled).toFixed(2).padStart(13)} | ` +
      `${cpuNs.toFixed(1)}${ref === undefined ? '' : ` (${ref.toFixed(1)}, ×${(cpuNs / ref).toFixed(2)})`}`,
    );
  }
} finally {
  await pool.close();
}
