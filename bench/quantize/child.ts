/** Benchmark runner used when the CLI is not built: `node bench/quantize/child.ts INPUT TYPE OUT THREADS [DEVICE]`. */
import type { QuantDeviceMode } from '../../src/quant/gpu/modes.ts';
import { quantize } from '../../src/quantize/quantize.ts';

const [input, type, out, threads, device = 'cpu'] = process.argv.slice(2);
if (input === undefined || type === undefined || out === undefined) throw new Error('usage: child.ts INPUT TYPE OUT [THREADS] [DEVICE]');
// BENCH_GPU_CHUNK_BYTES: source bytes per GPU call, to measure the pipeline's chunk size
const chunk = process.env.BENCH_GPU_CHUNK_BYTES;
await quantize({
  input, type, out, device: device as QuantDeviceMode,
  ...(threads !== undefined ? { threads: Number(threads) } : {}),
  ...(chunk !== undefined ? { gpuChunkBytes: Number(chunk) } : {}),
});
