/** The CPU path of a quantize run: each tensor read, checked, converted by the worker pool and written, in chunks. */
import { tensorRows } from '../convert/source.ts';
import type { QuantPool } from '../quant/pool.ts';
import { GGML_TYPES, rowSizeBytes, type FloatTypeName, type GgmlTypeName } from '../quant/types.ts';
import { throwIfInterrupted } from './abort.ts';
import { checkChunkFinite, nonFiniteInChunk } from './nonfinite.ts';
import type { Planned } from './plan.ts';

/** Elements per chunk: large enough to split across workers, small enough to keep memory bounded (~16 MB of f32). */
const CHUNK_ELEMENTS = 1 << 22;

/**
 * Shared-memory buffers reused for every chunk: the pool's workers read the source and write the result in place.
 * (Fresh SharedArrayBuffers per chunk stay referenced from the worker isolates until their garbage collector runs,
 * which it rarely does: memory grew with the model size, 3 GB for a 2 GB model.) Three source slots and two
 * destination slots let chunk k+1 be read while chunk k is converted and chunk k-1 written.
 */
export class SharedScratch {
  private readonly slots = new Map<string, Uint8Array>();

  get(kind: 'src' | 'dst', index: number, length: number): Uint8Array {
    const key = `${kind}${index}`;
    let buffer = this.slots.get(key);
    if (buffer === undefined || buffer.length < length) {
      buffer = new Uint8Array(new SharedArrayBuffer(length));
      this.slots.set(key, buffer);
    }
    return buffer.subarray(0, length);
  }
}

interface Chunk {
  bytes: Uint8Array;
  type: GgmlTypeName;
  row: number;
  count: number;
}

/**
 * One tensor in its output type, chunk by chunk into `emit`, pipelined: the read of chunk k+1 (libuv), the conversion
 * of chunk k (pool workers) and the write of chunk k-1 (libuv) run at the same time; memory stays a few chunks.
 */
export async function produceTensor(
  p: Planned, pool: QuantPool, scratch: SharedScratch, emit: (bytes: Uint8Array) => Promise<void>, signal?: AbortSignal,
): Promise<void> {
  const t = p.source;
  const rows = tensorRows(t);
  if (rows === 0) return;
  const rowLength = t.ne[0]!;
  const perChunk = Math.max(t.rowAlign, Math.floor(CHUNK_ELEMENTS / rowLength / t.rowAlign) * t.rowAlign);
  const raw = t.readRawRows;
  const srcRowBytes = rowLength * (raw !== undefined ? GGML_TYPES[t.type].typeSize : 4);
  const outRowBytes = rowSizeBytes(p.type, rowLength);
  const read = async (k: number): Promise<Chunk> => {
    const row = k * perChunk;
    const count = Math.min(perChunk, rows - row);
    const target = scratch.get('src', k % 3, count * srcRowBytes);
    if (raw !== undefined) return { bytes: await raw(row, count, target), type: t.type, row, count };
    const f32 = await t.readRows(row, count);
    target.set(new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength));
    return { bytes: target, type: 'F32', row, count };
  };
  const chunks = Math.ceil(rows / perChunk);
  let next: Promise<Chunk> | undefined = read(0);
  let writing: Promise<void> = Promise.resolve();
  try {
    for (let k = 0; k < chunks; k++) {
      throwIfInterrupted(signal);
      const chunk: Chunk = await next!;
      // slot (k+1) % 3 last held chunk k-2, whose write finished before chunk k-1's began
      next = k + 1 < chunks ? read(k + 1) : undefined;
      next?.catch(() => {}); // observed when awaited; keeps an early failure from being reported as unhandled
      let out: Uint8Array;
      if (chunk.type === p.type) {
        checkChunkFinite(t, chunk.type, chunk.bytes, chunk.row * rowLength);
        out = chunk.bytes;
      } else {
        // the kernels refuse NaN/Inf themselves, in the workers (a second scan here would cost the main thread)
        out = await pool.convert({
          srcType: chunk.type as FloatTypeName,
          src: chunk.bytes,
          dstType: p.type,
          rowLength,
          dst: scratch.get('dst', k % 2, chunk.count * outRowBytes),
        }).catch((error: unknown) => {
          throw nonFiniteInChunk(error, t, chunk.row * rowLength);
        });
      }
      await writing;
      writing = emit(out);
    }
    await writing;
  } finally {
    // never leave a read or write running into the next tensor's buffers
    await Promise.allSettled([next, writing]);
  }
}
