/** The GPU path of a quantize run: chunks of rows through the WGSL quantizer, results written in order. */
import { tensorRows } from '../convert/source.ts';
import type { GpuQuantizer } from '../quant/gpu/runner.ts';
import type { QuantPool } from '../quant/pool.ts';
import { GGML_TYPES, type FloatTypeName } from '../quant/types.ts';
import { throwIfInterrupted } from './abort.ts';
import { produceTensor, type SharedScratch } from './cpu-pipeline.ts';
import { checkChunkFinite } from './nonfinite.ts';
import type { Planned } from './plan.ts';

/**
 * Source bytes per GPU call: large enough to fill a big GPU (one invocation per block), small enough that the few
 * chunks in flight stay a bounded amount of memory (~4 × 32 MiB of sources plus their results).
 */
export const GPU_CHUNK_BYTES_DEFAULT = 32 << 20;
/** GPU results waiting to be written while the next chunk is read and quantized: double-buffered and then some. */
const GPU_IN_FLIGHT = 2;

/**
 * Source buffers for the GPU path, reused in turn (fresh 32 MiB buffers per chunk cost the main thread page faults
 * and garbage collection). Four suffice: when chunk g is read, at most chunks g-2 and g-1 wait to be written (and the
 * quantizer is done with a chunk's source once its call resolves), chunk g-3 was written before chunk g-1 was queued.
 */
class GpuSourceRing {
  private readonly buffers: Uint8Array[] = [];
  private index = 0;

  take(length: number): Uint8Array {
    const i = this.index++ % (GPU_IN_FLIGHT + 2);
    let buffer = this.buffers[i];
    if (buffer === undefined || buffer.length < length) {
      buffer = new Uint8Array(length);
      this.buffers[i] = buffer;
    }
    return buffer.subarray(0, length);
  }
}

interface GpuChunk {
  bytes: Uint8Array;
  type: FloatTypeName;
  row: number;
  count: number;
}

/**
 * The tensors of `plan` on the GPU, in order, into `emit`. Chunks of rows go to the quantizer (whose calls queue)
 * and their results are written in order, at most GPU_IN_FLIGHT behind: the read of chunk k+1, the GPU work of chunks
 * k-1..k and the write of chunk k-2 overlap, across tensor boundaries too. A tensor the GPU cannot make goes the CPU
 * way (produceTensor) after everything before it is written.
 */
export async function produceOnGpu(
  tensors: readonly Planned[], gpu: GpuQuantizer, pool: QuantPool, scratch: SharedScratch,
  emit: (bytes: Uint8Array) => Promise<void>, chunkBytes: number, signal?: AbortSignal,
): Promise<void> {
  const pending: Promise<Uint8Array>[] = [];
  const ring = new GpuSourceRing();
  const drainTo = async (keep: number): Promise<void> => {
    while (pending.length > keep) await emit(await pending.shift()!);
  };
  let next: Promise<GpuChunk> | undefined;
  try {
    for (const p of tensors) {
      const t = p.source;
      const raw = t.readRawRows;
      const chunkType = raw !== undefined ? t.type : 'F32';
      if (chunkType !== p.type && !gpu.supports(p.type)) {
        await drainTo(0);
        await produceTensor(p, pool, scratch, emit, signal);
        continue;
      }
      const rows = tensorRows(t);
      if (rows === 0) continue;
      const rowLength = t.ne[0]!;
      const srcRowBytes = rowLength * GGML_TYPES[chunkType].typeSize;
      const perChunk = Math.max(t.rowAlign, Math.floor(chunkBytes / srcRowBytes / t.rowAlign) * t.rowAlign);
      const chunks = Math.ceil(rows / perChunk);
      const read = async (k: number): Promise<GpuChunk> => {
        const row = k * perChunk;
        const count = Math.min(perChunk, rows - row);
        if (raw !== undefined) {
          return { bytes: await raw(row, count, ring.take(count * srcRowBytes)), type: t.type as GpuChunk['type'], row, count };
        }
        const f32 = await t.readRows(row, count);
        return { bytes: new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength), type: 'F32', row, count };
      };
      next = read(0);
      for (let k = 0; k < chunks; k++) {
        throwIfInterrupted(signal);
        const chunk: GpuChunk = await next!;
        next = k + 1 < chunks ? read(k + 1) : undefined;
        next?.catch(() => {}); // observed when awaited
        checkChunkFinite(t, chunk.type, chunk.bytes, chunk.row * rowLength);
        const out = chunk.type === p.type
          ? Promise.resolve(chunk.bytes)
          : gpu.quantizeRows(p.type, { dtype: chunk.type, bytes: chunk.bytes }, rowLength, chunk.count);
        out.catch(() => {}); // observed when drained
        pending.push(out);
        await drainTo(GPU_IN_FLIGHT);
      }
    }
    await drainTo(0);
  } finally {
    // nothing may still run on the GPU or the file when the caller destroys the quantizer or aborts the writer
    await Promise.allSettled([...pending, next]);
  }
}
