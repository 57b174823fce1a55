/** Benchmark runner used when the CLI is not built: `node bench/quantize/child.ts INPUT TYPE OUT THREADS`. */
import { quantize } from '../../src/convert/quantize.ts';

const [input, type, out, threads] = process.argv.slice(2);
if (input === undefined || type === undefined || out === undefined) throw new Error('usage: child.ts INPUT TYPE OUT [THREADS]');
await quantize({ input, type, out, device: 'cpu', ...(threads !== undefined ? { threads: Number(threads) } : {}) });
