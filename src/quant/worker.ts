/**
 * Worker side of the quantization pool (pool.ts): converts one contiguous range of rows from shared memory to
 * shared memory with the same kernels as the main thread, so the bytes do not depend on how rows are split.
 */
import { parentPort } from 'node:worker_threads';
import { LlamaError, type ExitClass } from '../errors.ts';
import { convertInto, convertNeedsScratch } from './kernels.ts';
import type { FloatTypeName, GgmlTypeName } from './types.ts';

export interface WorkerJob {
  id: number;
  srcType: FloatTypeName;
  src: SharedArrayBuffer | ArrayBuffer;
  srcByteOffset: number;
  nElements: number;
  dstType: GgmlTypeName;
  dst: SharedArrayBuffer;
  dstByteOffset: number;
}

export type WorkerReply =
  | { id: number; ok: true }
  | { id: number; ok: false; message: string; code?: string; exitClass?: ExitClass; details?: Record<string, unknown> };

let scratch = new Float32Array(0);

parentPort?.on('message', (job: WorkerJob) => {
  try {
    if (convertNeedsScratch(job.srcType, job.dstType) && scratch.length < job.nElements) scratch = new Float32Array(job.nElements);
    convertInto(
      job.srcType, new Uint8Array(job.src), job.srcByteOffset, job.nElements,
      job.dstType, new Uint8Array(job.dst), job.dstByteOffset, scratch,
    );
    parentPort?.postMessage({ id: job.id, ok: true } satisfies WorkerReply);
  } catch (error) {
    const e = error as { message?: string; code?: string };
    const reply: WorkerReply = { id: job.id, ok: false, message: e.message ?? String(error) };
    if (typeof e.code === 'string') reply.code = e.code;
    // a typed error keeps its class and facts across the thread boundary (e.g. which element was NaN)
    if (error instanceof LlamaError) {
      reply.exitClass = error.exitClass;
      if (error.details !== undefined) reply.details = error.details;
    }
    parentPort?.postMessage(reply);
  }
});
