/**
 * One piece of a file: its Range requests (continued from where a reset or a short body stopped), the answers'
 * bytes gathered into batches and written at their offset one write at a time per file, each batch handed to the
 * hasher only once it is on disk (so the resume record and the hash describe the same bytes), and the retries.
 */
import type { FileHandle } from 'node:fs/promises';
import { EnvironmentError, LlamaError, NetworkError } from '../errors.ts';
import { writeAll } from '../fs/write-all.ts';
import { redactSecrets } from '../redact.ts';
import { backoffDelay, isTransientNetworkError, sleep, type RetryPolicy } from '../util/retry.ts';
import { RestartFile, RetryableStatus, classifyAnswer, statusError } from './classify.ts';
import { bodyText, type HttpGet } from './http.ts';
import type { ResumeRecord, TransferTarget } from './resume-state.ts';
import type { Semaphore } from './semaphore.ts';

/**
 * Bytes gathered per writev. Measured on loopback (bench/pull, 2 cores): 512 KiB beat 1 MiB and 4 MiB (the kernel's
 * copy into the page cache got slower with bigger writes, likely because the bytes are no longer in the CPU cache).
 */
const WRITE_BATCH = 512 * 1024;

/** Chunks on disk, waiting for the hasher, and how to give their memory back to the client that read them. */
export interface WrittenBatch {
  chunks: Buffer[];
  release: (chunk: Uint8Array) => void;
}

export class Piece {
  readonly index: number;
  readonly start: number;
  readonly length: number;
  /** Bytes on disk from the piece start. */
  received: number;
  /** Bytes already on disk when this attempt started (hashed from the file). */
  readonly diskBytes: number;
  /** Bytes reserved from the shared memory budget (pieces issued ahead of the cursor). */
  reserved = 0;
  /**
   * Issued ahead of the cursor when the memory budget was spent: its bytes are written and let go at once, and the
   * hasher reads them back from the partial (the page cache) when it gets there, so connections never wait on memory.
   */
  spill = false;
  /** Batches on disk, waiting for the hasher (in order). */
  readonly queue: WrittenBatch[] = [];
  #wake: (() => void) | undefined;

  constructor(index: number, start: number, length: number, received: number) {
    this.index = index;
    this.start = start;
    this.length = length;
    this.received = received;
    this.diskBytes = received;
  }

  push(batch: WrittenBatch): void {
    this.queue.push(batch);
    this.wakeUp();
  }

  wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  next(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }
}

/** One try at a whole file: what its pieces share. */
export interface Attempt {
  readonly target: TransferTarget;
  readonly handle: FileHandle;
  /** Aborted when the attempt fails, the engine stops or the caller aborts. */
  readonly signal: AbortSignal;
  readonly pieces: Piece[];
  readonly record: ResumeRecord;
  /** Index of the piece the hasher is at. */
  cursor: number;
  /** Bytes on disk, all pieces (progress). */
  done: number;
  /** Bytes that came over the network in this attempt. */
  fetched: number;
  /** The first error; once set, every piece stops. */
  failure: unknown;
  /** The signed CDN URL of the last answer, for the next ranges. */
  cdnUrl: string | undefined;
  /** The ETag of the first answer, sent as If-Range when continuing. */
  etag: string | undefined;
  /** The last write to the partial (writes go one at a time). */
  writes: Promise<void>;
  onDone: ((doneBytes: number) => void) | undefined;
}

/** Save the attempt's resume record (throttled unless forced). */
export function saveAttempt(att: Attempt, force: boolean): Promise<void> {
  return att.record.save(force, att.pieces.map((p) => p.received), att.etag);
}

export function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error as { name?: string } | null)?.name === 'AbortError';
}

/** A disk error while writing `target`: a full disk is exit 7 with what to do; others pass through. */
export function diskError(error: unknown, target: TransferTarget): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new EnvironmentError('DISK_FULL', `The disk filled up while writing ${target.repoPath}.`, {
      hint: 'Free some space (or choose another --cache-dir / --local-dir) and run the command again; it resumes where it stopped.',
      details: { path: target.repoPath },
      cause: error,
    });
  }
  return error as Error;
}

export interface PieceFetcherOptions {
  get: HttpGet;
  connections: Semaphore;
  endpoint: string;
  /** Sent only to the endpoint's origin, never to a CDN it redirects to. */
  authHeaders: Record<string, string> | undefined;
  retry: RetryPolicy;
  idleTimeoutMs: number;
  maxReResolves: number;
  repo: string;
  tokenGiven: boolean;
  message: (level: 'info' | 'warn', text: string) => void;
  /** Called for every byte that comes over the network (the engine's total). */
  onFetched: (bytes: number) => void;
}

export class PieceFetcher {
  readonly #o: PieceFetcherOptions;
  readonly #endpointOrigin: string;

  constructor(options: PieceFetcherOptions) {
    this.#o = options;
    this.#endpointOrigin = new URL(options.endpoint).origin;
  }

  /** Fetch the rest of piece `p` into the attempt's partial, retrying transient failures. */
  async fetch(att: Attempt, p: Piece): Promise<void> {
    const { target } = att;
    let tries = 0;
    let reResolves = 0;
    while (p.received < p.length) {
      if (att.failure !== undefined) return;
      let progressed = false;
      let retryAfterMs: number | undefined;
      let flush: () => Promise<void> = async () => {};
      const release = await this.#o.connections.acquire(att.signal);
      try {
        const from = p.start + p.received;
        const to = p.start + p.length - 1;
        const headers: Record<string, string> = { range: `bytes=${from}-${to}` };
        if (att.etag && from > 0) headers['if-range'] = att.etag;
        const answer = await this.#o.get(att.cdnUrl ?? target.url, {
          headers,
          authOrigin: this.#endpointOrigin,
          ...(this.#o.authHeaders ? { authHeaders: this.#o.authHeaders } : {}),
          signal: att.signal,
          idleTimeoutMs: this.#o.idleTimeoutMs,
        });
        const action = classifyAnswer(answer, { from, to, size: target.size, resolveUrl: target.url });
        if (action.kind === 'discard') {
          answer.body.destroy();
          throw action.error;
        }
        if (action.kind === 're-resolve') {
          await bodyText(answer.body);
          att.cdnUrl = undefined;
          if (++reResolves > this.#o.maxReResolves) {
            throw new NetworkError('CDN_FORBIDDEN', `${target.repoPath}: the download host keeps refusing the signed URL (403).`, {
              hint: 'The signed download links expire or are blocked by a proxy; run the command again.',
              details: { path: target.repoPath, host: new URL(answer.url).host },
            });
          }
          this.#o.message('info', `${target.repoPath}: download URL expired (403 from ${new URL(answer.url).host}); resolving it again`);
          continue;
        }
        if (action.kind === 'error-status') {
          const text = await bodyText(answer.body);
          throw statusError(answer, text, { endpoint: this.#o.endpoint, repo: this.#o.repo, path: target.repoPath, tokenGiven: this.#o.tokenGiven });
        }
        if (action.fromCdn) att.cdnUrl = answer.url;
        const etag = answer.headers.etag;
        if (typeof etag === 'string' && !etag.startsWith('W/') && !att.etag) att.etag = etag;

        const giveBack = (chunk: Uint8Array): void => answer.body.release?.(chunk);
        const end = p.start + p.length;
        // Chunks are gathered and written with one writev per WRITE_BATCH bytes (fewer syscalls and awaits than one
        // write per socket read). A chunk is counted as received, and handed to the hasher, only once it is on disk.
        let position = from;
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        flush = async (): Promise<void> => {
          if (pendingBytes === 0) return;
          // One writev for the batch and one message to the hash worker, no copy: socket reads own their memory.
          const batch = pending;
          const bytes = pendingBytes;
          pending = [];
          pendingBytes = 0;
          const at = position;
          const write = async (): Promise<void> => {
            const { bytesWritten } = await att.handle.writev(batch, at);
            // A short write (rare on regular files) is completed from a copy of what is left.
            if (bytesWritten < bytes) await writeAll(att.handle, Buffer.concat(batch).subarray(bytesWritten), at + bytesWritten);
          };
          // One write at a time per file: concurrent writes to one file only queue on its inode lock in the kernel
          // (a profile showed the thread pool spinning there), and the pool's threads are better used elsewhere.
          const written = att.writes.then(write, write);
          att.writes = written.catch(() => {});
          try {
            await written;
          } catch (error) {
            throw diskError(error, target);
          }
          position += bytes;
          p.received += bytes;
          att.done += bytes;
          if (p.spill) {
            for (const chunk of batch) giveBack(chunk);
            p.wakeUp();
          } else {
            p.push({ chunks: batch, release: giveBack });
          }
          att.onDone?.(att.done);
          void saveAttempt(att, false);
        };
        for await (const raw of answer.body) {
          const chunk = raw as Buffer;
          const room = end - position - pendingBytes;
          if (room <= 0) {
            giveBack(chunk);
            continue;
          }
          const data = chunk.length > room ? chunk.subarray(0, room) : chunk;
          pending.push(data);
          pendingBytes += data.length;
          att.fetched += data.length;
          this.#o.onFetched(data.length);
          progressed = true;
          if (pendingBytes >= WRITE_BATCH) await flush();
        }
        await flush();
        if (p.received < p.length) {
          throw Object.assign(new Error(`connection closed after ${position - from} of ${to - from + 1} bytes`), { code: 'ECONNRESET' });
        }
        void saveAttempt(att, true);
      } catch (error) {
        // Bytes that arrived before the failure are good: keep them (a disk error here is fatal and thrown).
        if (!(error instanceof LlamaError) && !isAbort(error, att.signal)) await flush();
        if (error instanceof LlamaError || error instanceof RestartFile || isAbort(error, att.signal)) throw error;
        if (!(error instanceof RetryableStatus) && !isTransientNetworkError(error)) throw error;
        if (error instanceof RetryableStatus) retryAfterMs = error.retryAfterMs;
        if (progressed) tries = 0;
        tries++;
        if (tries >= this.#o.retry.attempts) {
          throw new NetworkError('TRANSFER_FAILED', `${target.repoPath}: download failed after ${tries} tries (${redactSecrets((error as Error).message)}).`, {
            hint: 'The network or the hub is unavailable. Run the command again later; it resumes where it stopped.',
            details: { path: target.repoPath, bytesHere: p.received },
            cause: error,
          });
        }
        const delay = backoffDelay(this.#o.retry, tries - 1, retryAfterMs);
        this.#o.message('warn', `${target.repoPath}: ${(error as Error).message}; retry ${tries} in ${(delay / 1000).toFixed(1)} s`);
        release();
        await sleep(delay, att.signal);
      } finally {
        release();
      }
    }
  }
}
