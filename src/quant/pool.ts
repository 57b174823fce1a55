/**
 * A worker_threads pool for the CPU kernels: the rows of a tensor are split into contiguous ranges, one per worker,
 * and converted in parallel. Every block is independent, so the bytes are the same for any number of workers
 * (tested), and the same as `convertInto` / `quantizeRows` on one thread.
 *
 * API
 * - `new QuantPool({ threads? })`: `threads` defaults to os.availableParallelism(); workers start lazily on first use
 *   and are unref'd while idle (a forgotten pool does not keep the process alive; still call `close()`).
 * - `pool.convert({ srcType, src, dstType, rowLength, dst? })` → Promise<Uint8Array>: raw F32/F16/BF16 source bytes
 *   (whole rows of `rowLength` elements) → `dstType` bytes. A `src` backed by a SharedArrayBuffer is read in place
 *   (read file data straight into `new Uint8Array(new SharedArrayBuffer(n))` to save a copy); otherwise it is copied
 *   into a shared staging buffer that the pool reuses. `dst` (optional, must be backed by a SharedArrayBuffer and large
 *   enough) receives the result; otherwise a new shared buffer is returned. For many calls, pass `src`/`dst` views of
 *   shared buffers you reuse: a fresh SharedArrayBuffer stays referenced from the worker isolates until their garbage
 *   collector runs, which in mostly idle-JS workers can be late (memory grows with the number of calls).
 * - `pool.quantize(type, src: Float32Array, rowLength)` → Promise<Uint8Array>: the pool counterpart of quantizeRows.
 * - `pool.close()`: terminates the workers.
 * Tensors under `inlineBelow` elements (default 65536) are converted on the calling thread (message cost > work).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LlamaError, UsageError } from '../errors.ts';
import { convertInto } from './kernels.ts';
import { GGML_TYPES, rowSizeBytes, type FloatTypeName, type GgmlTypeName } from './types.ts';
import type { WorkerJob, WorkerReply } from './worker.ts';

export interface QuantPoolOptions {
  threads?: number;
  inlineBelow?: number;
}

export interface ConvertRequest {
  srcType: FloatTypeName;
  src: Uint8Array;
  dstType: GgmlTypeName;
  rowLength: number;
  dst?: Uint8Array;
}

// Run from sources (.ts, type stripping) or from dist (.js): load the worker with the same extension as this file.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

export class QuantPool {
  readonly size: number;
  private readonly inlineBelow: number;
  private workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** Shared staging buffers for non-shared sources, reused across calls (one per concurrent call). */
  private readonly staging: Uint8Array[] = [];

  constructor(options: QuantPoolOptions = {}) {
    const n = options.threads ?? availableParallelism();
    if (!Number.isInteger(n) || n < 1) {
      throw new UsageError('QUANT_THREADS', `Thread count must be a positive integer, got ${n}.`, {
        hint: 'Pass --threads with a number of at least 1, or leave it out to use every core.',
      });
    }
    this.size = n;
    this.inlineBelow = options.inlineBelow ?? 65536;
  }

  /** Start the workers now (they load their modules and WebAssembly), e.g. while the input's header is read. */
  warm(): void {
    if (!this.closed) this.start();
  }

  private start(): void {
    if (this.workers.length > 0) return;
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(WORKER_URL);
      w.on('message', (reply: WorkerReply) => this.onReply(reply));
      // only a worker still in service breaks the pool (discarded ones exit later, after a restart)
      w.on('error', (e) => {
        if (this.workers.includes(w)) this.broken(e);
      });
      w.on('exit', (code) => {
        if (this.workers.includes(w)) this.broken(new LlamaError('unexpected', 'QUANT_WORKER_EXIT', `A quantization worker exited (code ${code}).`));
      });
      w.unref();
      this.workers.push(w);
    }
  }

  private onReply(reply: WorkerReply): void {
    const p = this.pending.get(reply.id);
    if (p === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
    if (reply.ok) p.resolve();
    else {
      p.reject(new LlamaError(reply.exitClass ?? 'unexpected', reply.code ?? 'QUANT_WORKER', reply.message, reply.details !== undefined ? { details: reply.details } : {}));
    }
  }

  /** A worker died: fail what is in flight and start afresh on the next call (no job may wait on a dead worker). */
  private broken(error: Error): void {
    const ws = this.workers;
    this.workers = [];
    this.failAll(error);
    for (const w of ws) void w.terminate();
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  private run(worker: Worker, job: Omit<WorkerJob, 'id'>): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...job, id } satisfies WorkerJob);
    });
  }

  async convert(req: ConvertRequest): Promise<Uint8Array> {
    if (this.closed) throw new LlamaError('unexpected', 'QUANT_POOL_CLOSED', 'The quantization pool was closed.');
    const { srcType, dstType, rowLength } = req;
    const srcSize = GGML_TYPES[srcType].typeSize;
    const nElements = req.src.length / srcSize;
    const dstRow = rowSizeBytes(dstType, rowLength);
    if (!Number.isInteger(nElements) || rowLength <= 0 || nElements % rowLength !== 0) {
      throw new UsageError('QUANT_ROW_LENGTH', `${req.src.length} bytes of ${srcType} are not whole rows of ${rowLength}.`, {
        hint: 'Pass the tensor data as whole rows of ne[0] elements.',
        details: { bytes: req.src.length, rowLength, srcType },
      });
    }
    const nRows = nElements / rowLength;
    const outBytes = nRows * dstRow;
    let dst = req.dst;
    if (dst !== undefined && (!(dst.buffer instanceof SharedArrayBuffer) || dst.length < outBytes)) {
      throw new RangeError('QuantPool.convert: dst must be a SharedArrayBuffer view of at least the output size');
    }
    if (nElements < this.inlineBelow || this.size === 1 && nRows === 1) {
      const out = dst ?? new Uint8Array(outBytes);
      convertInto(srcType, req.src, 0, nElements, dstType, out, 0);
      return out.subarray(0, outBytes);
    }
    dst ??= new Uint8Array(new SharedArrayBuffer(outBytes));
    let src = req.src;
    let staged: Uint8Array | undefined;
    if (!(src.buffer instanceof SharedArrayBuffer)) {
      const i = this.staging.findIndex((b) => b.length >= req.src.length);
      staged = i >= 0 ? this.staging.splice(i, 1)[0]! : new Uint8Array(new SharedArrayBuffer(req.src.length));
      staged.set(req.src);
      src = staged.subarray(0, req.src.length);
    }
    try {
      await this.runParts(src, srcType, srcSize, dst, dstType, dstRow, rowLength, nRows);
    } finally {
      if (staged !== undefined && !this.closed) {
        this.staging.push(staged);
        // keep the two largest: enough for the pipeline's read-ahead, bounded memory
        if (this.staging.length > 2) this.staging.sort((a, b) => b.length - a.length).pop();
      }
    }
    return dst.subarray(0, outBytes);
  }

  private async runParts(
    src: Uint8Array, srcType: FloatTypeName, srcSize: number, dst: Uint8Array, dstType: GgmlTypeName, dstRow: number,
    rowLength: number, nRows: number,
  ): Promise<void> {
    this.start();
    const parts = Math.min(this.size, nRows);
    const jobs: Promise<void>[] = [];
    for (let p = 0; p < parts; p++) {
      const r0 = Math.floor((nRows * p) / parts);
      const r1 = Math.floor((nRows * (p + 1)) / parts);
      if (r1 === r0) continue;
      const job = this.run(this.workers[p]!, {
        srcType,
        src: src.buffer as SharedArrayBuffer,
        srcByteOffset: src.byteOffset + r0 * rowLength * srcSize,
        nElements: (r1 - r0) * rowLength,
        dstType,
        dst: dst.buffer as SharedArrayBuffer,
        dstByteOffset: dst.byteOffset + r0 * dstRow,
      });
      // an element index in the error counts from this part's first row: make it count from the request's
      jobs.push(job.catch((error: unknown) => {
        const details = (error as LlamaError).details;
        if (typeof details?.element === 'number') details.element += r0 * rowLength;
        throw error;
      }));
    }
    await Promise.all(jobs);
  }

  quantize(type: GgmlTypeName, src: Float32Array, rowLength: number): Promise<Uint8Array> {
    return this.convert({ srcType: 'F32', src: new Uint8Array(src.buffer, src.byteOffset, src.byteLength), dstType: type, rowLength });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.staging.length = 0;
    this.failAll(new LlamaError('unexpected', 'QUANT_POOL_CLOSED', 'The quantization pool was closed.'));
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
