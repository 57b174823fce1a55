/**
 * The transfer engine: one file at a time per call, many calls in parallel, all sharing one pool of
 * `concurrency` connections.
 *
 * A file is cut into pieces (16 MiB by default). Each piece is one Range request, continued from where it stopped
 * after a reset or a short body. Bytes are written at their offset in a partial file as they arrive, and the progress
 * of every piece is saved beside it (`<partial>.state.json`) so a later run, even after kill -9, resumes with Range
 * requests instead of starting over.
 *
 * One hash pass with parallel ranges: sha256 cannot be combined from per-range hashes, so the hash must see the bytes
 * in file order. The hasher walks the pieces in order (the "cursor"): the piece at the cursor is hashed live as its
 * chunks arrive; pieces further ahead keep their chunks in memory until the cursor reaches them, then are hashed and
 * dropped. Pieces are issued only within a window ahead of the cursor and within a memory budget shared by all files,
 * so memory stays bounded (budget + one piece per file) no matter how big the file is, and no byte is read back from
 * disk. The only disk read is on resume: the prefix that an earlier run wrote is hashed from the partial file once,
 * since a sha256 state cannot be saved between processes.
 *
 * Resume is guarded twice: the partial is named by the expected hash (content-addressed, so it cannot belong to other
 * content), the Range request carries `If-Range` with the ETag seen when the partial was started, and a 200 answer to
 * a Range request is never appended (the file restarts in a single stream from byte 0). The final sha256 / git sha1 is
 * checked before the caller may move the file into place; on a mismatch the partial is dropped and fetched again.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvironmentError, IntegrityError, LlamaError, NetworkError } from '../errors.ts';
import { temporaryPathFor } from '../fs/atomic.ts';
import { writeAll } from '../fs/write-all.ts';
import { hubError } from '../hub/errors.ts';
import { StreamingHasher, WorkerHasher, hashRange, type Digests } from '../integrity/hash.ts';
import type { ProgressSink } from '../progress/events.ts';
import { redactSecrets } from '../redact.ts';
import { bodyText, httpGet, releaseChunk } from './http.ts';
import { DEFAULT_RETRY, backoffDelay, isTransientNetworkError, parseRetryAfter, sleep, type RetryPolicy } from '../util/retry.ts';
import { Semaphore } from './semaphore.ts';

export const DEFAULT_PIECE_SIZE = 16 * 1024 * 1024;
const MAX_PIECES = 4096;
const STATE_SAVE_INTERVAL_MS = 500;
/** Below this size a file is not worth a resume record: it is fetched again from byte 0. */
const RESUMABLE_MIN_SIZE = 1024 * 1024;
/**
 * Bytes gathered per writev. Measured on loopback (bench/pull, 2 cores): 512 KiB beat 1 MiB and 4 MiB (the kernel's
 * copy into the page cache got slower with bigger writes, likely because the bytes are no longer in the CPU cache).
 */
const WRITE_BATCH = 512 * 1024;
/** From this size on, hashing runs on a worker thread beside the transfer (its start-up costs a few ms). */
const WORKER_HASH_MIN_SIZE = 32 * 1024 * 1024;

export interface TransferTarget {
  /** Path inside the repo, for messages. */
  repoPath: string;
  size: number;
  /** Expected sha256 (LFS files: the tree's `lfs.oid`). */
  expectedSha256?: string;
  /** Expected git blob sha1 (non-LFS files: the tree's `oid`). */
  expectedGitSha1?: string;
  /** The hub's resolve URL for this file at the pinned commit. */
  url: string;
  /** Where the partial data lives; its state is `<partialPath>.state.json`. */
  partialPath: string;
}

export interface TransferOutcome extends Digests {
  /** Bytes taken from a partial left by an earlier run. */
  resumedBytes: number;
  /** Bytes that came over the network in this call. */
  fetchedBytes: number;
}

export interface EngineOptions {
  endpoint: string;
  /** Sent only to the endpoint's origin, never to a CDN it redirects to. */
  authHeaders?: Record<string, string>;
  concurrency?: number;
  pieceSize?: number;
  /** Bytes that may wait in memory ahead of the hash cursor, over all files. */
  memoryBudget?: number;
  retry?: RetryPolicy;
  /** Whole-file tries after a hash mismatch or a server that ignores Range. */
  fileAttempts?: number;
  idleTimeoutMs?: number;
  /** How many times an expired CDN URL (403 from a host other than the hub) is resolved again. */
  maxReResolves?: number;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  /** For error messages. */
  repo: string;
  tokenGiven: boolean;
}

interface PieceState {
  start: number;
  length: number;
  /** Bytes on disk from the piece start. */
  received: number;
}

interface SavedState {
  version: 1;
  size: number;
  pieceSize: number;
  expected: string;
  etag?: string;
  received: number[];
}

class Piece implements PieceState {
  readonly index: number;
  readonly start: number;
  readonly length: number;
  received: number;
  /** Bytes already on disk when this attempt started (hashed from the file). */
  readonly diskBytes: number;
  /** Bytes reserved from the shared memory budget (pieces issued ahead of the cursor). */
  reserved = 0;
  /** Batches of chunks on disk, waiting for the hasher (in order). */
  readonly queue: Buffer[][] = [];
  #wake: (() => void) | undefined;

  constructor(index: number, start: number, length: number, received: number) {
    this.index = index;
    this.start = start;
    this.length = length;
    this.received = received;
    this.diskBytes = received;
  }

  push(batch: Buffer[]): void {
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

/** Restart the whole file (not a network retry): hash mismatch, Range ignored, inconsistent partial. */
class RestartFile extends Error {
  readonly reason: 'mismatch' | 'range-ignored' | 'inconsistent';
  readonly actual: Digests | undefined;
  constructor(reason: RestartFile['reason'], message: string, actual?: Digests) {
    super(message);
    this.reason = reason;
    this.actual = actual;
  }
}

class RetryableStatus extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(status: number, retryAfterMs: number | undefined) {
    super(`HTTP ${status}`);
    this.retryAfterMs = retryAfterMs;
  }
}

function parseContentRange(value: string | undefined): { start: number; end: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}


function statePath(partialPath: string): string {
  return `${partialPath}.state.json`;
}

export function expectedKey(target: Pick<TransferTarget, 'expectedSha256' | 'expectedGitSha1'>): string {
  return target.expectedSha256 ?? target.expectedGitSha1 ?? '';
}

/** Bytes a partial left by an earlier run already holds (for the free-space check). */
export async function partialBytes(target: TransferTarget): Promise<number> {
  const state = await loadState(target);
  return state ? state.received.reduce((a, b) => a + b, 0) : 0;
}

/** Drop a partial and its resume record (a fresh download from byte 0 follows). */
export async function discardPartial(target: TransferTarget): Promise<void> {
  await rm(target.partialPath, { force: true });
  await rm(statePath(target.partialPath), { force: true });
}

async function loadState(target: TransferTarget): Promise<SavedState | undefined> {
  try {
    const state = JSON.parse(await readFile(statePath(target.partialPath), 'utf8')) as SavedState;
    if (state.version !== 1 || state.size !== target.size || state.expected !== expectedKey(target) || !Array.isArray(state.received)) return undefined;
    return state;
  } catch {
    return undefined;
  }
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error as { name?: string } | null)?.name === 'AbortError';
}

export class TransferEngine {
  readonly #o: Required<Omit<EngineOptions, 'authHeaders' | 'signal' | 'onProgress'>> & Pick<EngineOptions, 'authHeaders' | 'signal' | 'onProgress'>;
  readonly #conns: Semaphore;
  readonly #endpointOrigin: string;
  #reserved = 0;
  #waiters: Array<() => void> = [];
  /** Bytes received over the network by this engine, all files. */
  fetchedBytes = 0;

  constructor(options: EngineOptions) {
    this.#o = {
      concurrency: 8,
      pieceSize: DEFAULT_PIECE_SIZE,
      memoryBudget: 256 * 1024 * 1024,
      retry: DEFAULT_RETRY,
      fileAttempts: 3,
      idleTimeoutMs: 60_000,
      maxReResolves: 3,
      ...options,
    };
    this.#conns = new Semaphore(this.#o.concurrency);
    this.#endpointOrigin = new URL(options.endpoint).origin;
  }

  #changed(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #nextChange(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #message(level: 'info' | 'warn', text: string): void {
    this.#o.onProgress?.({ type: 'message', level, text: redactSecrets(text) });
  }

  /**
   * Fetch `target` into its partial file and verify it. Resolves with the digests once the partial holds exactly the
   * expected bytes (the caller renames it into place); rejects with a typed error otherwise, keeping the partial for a
   * later resume unless its content was wrong.
   */
  async transfer(target: TransferTarget, onDone?: (doneBytes: number) => void, signal?: AbortSignal): Promise<TransferOutcome> {
    let singleStream = false;
    let resumedBytes = 0;
    let last: RestartFile | undefined;
    for (let attempt = 0; attempt < this.#o.fileAttempts; attempt++) {
      try {
        const out = await this.#attempt(target, singleStream, onDone, signal);
        if (attempt === 0) resumedBytes = out.resumedBytes;
        return { ...out, resumedBytes };
      } catch (error) {
        if (!(error instanceof RestartFile)) throw error;
        last = error;
        await rm(target.partialPath, { force: true });
        await rm(statePath(target.partialPath), { force: true });
        if (error.reason === 'range-ignored') singleStream = true;
        this.#message('warn', `${target.repoPath}: ${error.message}; fetching it again`);
      }
    }
    const actual = last?.actual;
    if (last?.reason === 'mismatch' && actual) {
      const useSha = target.expectedSha256 !== undefined;
      const expected = useSha ? target.expectedSha256 : target.expectedGitSha1;
      const got = actual.size !== target.size ? `${actual.size} bytes` : useSha ? actual.sha256 : actual.gitSha1;
      throw new IntegrityError(
        'HASH_MISMATCH',
        `${target.repoPath}: content does not match the hub's hash after ${this.#o.fileAttempts} tries (expected ${useSha ? 'sha256' : 'git sha1'} ${expected}, got ${got}).`,
        {
          hint: 'The server or a proxy on the way delivers corrupt data. Try again later or from another network; nothing was written to the cache or the local dir.',
          details: { path: target.repoPath, algorithm: useSha ? 'sha256' : 'git-sha1', expected, actual: useSha ? actual.sha256 : actual.gitSha1, expectedSize: target.size, actualSize: actual.size },
        },
      );
    }
    throw new NetworkError('TRANSFER_FAILED', `${target.repoPath}: ${last?.message ?? 'download failed'}.`, {
      hint: 'Run the command again; it resumes where it stopped.',
      details: { path: target.repoPath },
    });
  }

  async #attempt(target: TransferTarget, singleStream: boolean, onDone?: (doneBytes: number) => void, callSignal?: AbortSignal): Promise<TransferOutcome> {
    const key = expectedKey(target);
    let state = await loadState(target);
    const fromEarlierRun = state !== undefined;
    const pieceSize = singleStream
      ? Math.max(1, target.size)
      : Math.max(this.#o.pieceSize, Math.ceil(target.size / MAX_PIECES));
    // A resumed partial keeps the cut of the run that started it, so its per-piece counts stay meaningful.
    const usedPieceSize = state ? state.pieceSize : pieceSize;
    if (!state) await rm(target.partialPath, { force: true });
    const pieces: Piece[] = [];
    for (let start = 0, i = 0; start < target.size || (target.size === 0 && i === 0); start += usedPieceSize, i++) {
      const length = Math.min(usedPieceSize, target.size - start);
      const received = Math.min(length, Math.max(0, state?.received[i] ?? 0));
      pieces.push(new Piece(i, start, length, received));
      if (target.size === 0) break;
    }
    const resumedBytes = pieces.reduce((a, p) => a + p.received, 0);
    if (!state) state = { version: 1, size: target.size, pieceSize: usedPieceSize, expected: key, received: pieces.map(() => 0) };
    else if (resumedBytes > 0) this.#message('info', `${target.repoPath}: resuming, ${resumedBytes} of ${target.size} bytes already here`);

    let handle: FileHandle;
    try {
      await mkdir(dirname(target.partialPath), { recursive: true });
      handle = await open(target.partialPath, constants.O_RDWR | constants.O_CREAT, 0o644);
    } catch (error) {
      throw this.#fsError(error, target);
    }
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, ...(this.#o.signal ? [this.#o.signal] : []), ...(callSignal ? [callSignal] : [])]);
    const att = {
      target,
      handle,
      signal,
      state,
      pieces,
      cursor: 0,
      done: resumedBytes,
      fetched: 0,
      failure: undefined as unknown,
      cdnUrl: undefined as string | undefined,
      etag: state.etag,
      saving: Promise.resolve(),
      lastSave: 0,
      writes: Promise.resolve(),
    };
    onDone?.(att.done);

    const save = (force: boolean): Promise<void> => {
      if (target.size < RESUMABLE_MIN_SIZE) return att.saving;
      const now = Date.now();
      if (!force && now - att.lastSave < STATE_SAVE_INTERVAL_MS) return att.saving;
      att.lastSave = now;
      const snapshot: SavedState = { ...att.state, received: pieces.map((p) => p.received) };
      if (att.etag) snapshot.etag = att.etag;
      // Temp + rename without fsync: the record must survive kill -9 (page cache), not power loss; after a crash the
      // final hash check still catches anything the record claims wrongly.
      const path = statePath(target.partialPath);
      const tmp = temporaryPathFor(path);
      att.saving = att.saving
        .then(async () => {
          await writeFile(tmp, JSON.stringify(snapshot));
          await rename(tmp, path);
        })
        .catch(() => rm(tmp, { force: true }).catch(() => {}));
      return att.saving;
    };
    const fail = (error: unknown): void => {
      if (att.failure === undefined) att.failure = error;
      controller.abort(error);
      for (const p of pieces) p.wakeUp();
      this.#changed();
    };

    const hashOptions = target.expectedGitSha1 !== undefined ? { gitSha1ForSize: target.size } : {};
    const hasher = target.size >= WORKER_HASH_MIN_SIZE ? new WorkerHasher(hashOptions) : new StreamingHasher(hashOptions);
    const hashing = (async () => {
      for (const p of pieces) {
        att.cursor = p.index;
        this.#changed();
        if (p.diskBytes > 0) {
          try {
            await hashRange(target.partialPath, p.start, p.diskBytes, hasher);
          } catch (error) {
            throw new RestartFile('inconsistent', `the partial file from an earlier run is shorter than its record (${(error as Error).message})`);
          }
        }
        let hashed = p.diskBytes;
        while (hashed < p.length) {
          if (att.failure !== undefined) return;
          const batch = p.queue.shift();
          if (batch) {
            for (const chunk of batch) hashed += chunk.length;
            // Written and hashed: the HTTP client may reuse the chunks' memory.
            await hasher.update(batch, () => {
              for (const chunk of batch) releaseChunk(chunk);
            });
            continue;
          }
          await p.next();
        }
        if (p.reserved > 0) {
          this.#reserved -= p.reserved;
          p.reserved = 0;
        }
      }
      att.cursor = pieces.length;
      this.#changed();
    })().catch(fail);

    const window = Math.max(2, this.#o.concurrency);
    const inflight = new Set<Promise<void>>();
    let next = 0;
    try {
      while (att.failure === undefined) {
        while (next < pieces.length && inflight.size < window) {
          const p = pieces[next] as Piece;
          if (p.received >= p.length) {
            next++;
            continue;
          }
          const ahead = p.index > att.cursor;
          if (ahead) {
            const need = p.length - p.received;
            if (p.index >= att.cursor + window || this.#reserved + need > this.#o.memoryBudget) break;
            this.#reserved += need;
            p.reserved = need;
          }
          next++;
          const run: Promise<void> = this.#fetchPiece(att, p, save, onDone)
            .catch(fail)
            .finally(() => {
              inflight.delete(run);
              this.#changed();
            });
          inflight.add(run);
        }
        if (next >= pieces.length && inflight.size === 0) break;
        await this.#nextChange();
      }
      await Promise.allSettled(inflight);
      await hashing;
      if (att.failure !== undefined) throw att.failure;
    } finally {
      for (const p of pieces) {
        if (p.reserved > 0) this.#reserved -= p.reserved;
        p.reserved = 0;
        p.queue.length = 0;
      }
      this.#changed();
      // Keep the record for a resume when this attempt failed; after success it is deleted below.
      if (att.failure !== undefined) {
        await save(true);
        if (hasher instanceof WorkerHasher) await hasher.close();
      }
      await att.saving;
      await handle.close().catch(() => {});
      // This attempt made the partial and no byte came for it (refused at once, aborted before the first byte):
      // leave no empty partial behind.
      if (att.failure !== undefined && !fromEarlierRun && att.fetched === 0) await discardPartial(target);
    }

    const digests = await hasher.digest();
    const bad =
      digests.size !== target.size ||
      (target.expectedSha256 !== undefined && digests.sha256 !== target.expectedSha256) ||
      (target.expectedGitSha1 !== undefined && digests.gitSha1 !== target.expectedGitSha1);
    if (bad) throw new RestartFile('mismatch', 'content does not match the expected hash', digests);
    await rm(statePath(target.partialPath), { force: true });
    return { ...digests, resumedBytes, fetchedBytes: att.fetched };
  }

  async #fetchPiece(
    att: {
      target: TransferTarget;
      handle: FileHandle;
      signal: AbortSignal;
      done: number;
      fetched: number;
      failure: unknown;
      cdnUrl: string | undefined;
      etag: string | undefined;
      writes: Promise<void>;
    },
    p: Piece,
    save: (force: boolean) => Promise<void>,
    onDone?: (doneBytes: number) => void,
  ): Promise<void> {
    const { target } = att;
    let tries = 0;
    let reResolves = 0;
    while (p.received < p.length) {
      if (att.failure !== undefined) return;
      let progressed = false;
      let retryAfterMs: number | undefined;
      let flush: () => Promise<void> = async () => {};
      const release = await this.#conns.acquire(att.signal);
      try {
        const from = p.start + p.received;
        const to = p.start + p.length - 1;
        const headers: Record<string, string> = { range: `bytes=${from}-${to}` };
        if (att.etag && from > 0) headers['if-range'] = att.etag;
        const url = att.cdnUrl ?? target.url;
        const answer = await httpGet(url, {
          headers,
          authOrigin: this.#endpointOrigin,
          ...(this.#o.authHeaders ? { authHeaders: this.#o.authHeaders } : {}),
          signal: att.signal,
          idleTimeoutMs: this.#o.idleTimeoutMs,
        });
        // Any answer not from the resolve URL itself came through a redirect: the CDN (on whatever host).
        const fromCdn = answer.url !== target.url;
        if (answer.status === 206) {
          const range = parseContentRange(answer.headers['content-range']);
          if (!range || range.start !== from) {
            answer.body.destroy();
            throw Object.assign(new Error(`server answered a different range (${answer.headers['content-range'] ?? 'none'})`), { code: 'ECONNRESET' });
          }
          if (range.total !== undefined && range.total !== target.size) {
            answer.body.destroy();
            throw new RestartFile('mismatch', `the server says the file has ${range.total} bytes, the tree says ${target.size}`, {
              size: range.total,
              sha256: '',
              gitSha1: '',
            });
          }
        } else if (answer.status === 200) {
          if (!(from === 0 && to === target.size - 1) && target.size > 0) {
            answer.body.destroy();
            throw new RestartFile('range-ignored', 'the server ignored a Range request (200 instead of 206); its answer is not appended');
          }
        } else if (answer.status === 403 && fromCdn) {
          await bodyText(answer.body);
          att.cdnUrl = undefined;
          if (++reResolves > this.#o.maxReResolves) {
            throw new NetworkError('CDN_FORBIDDEN', `${target.repoPath}: the download host keeps refusing the signed URL (403).`, {
              hint: 'The signed download links expire or are blocked by a proxy; run the command again.',
              details: { path: target.repoPath, host: new URL(answer.url).host },
            });
          }
          this.#message('info', `${target.repoPath}: download URL expired (403 from ${new URL(answer.url).host}); resolving it again`);
          continue;
        } else {
          const text = await bodyText(answer.body);
          const typed = hubError(
            {
              status: answer.status,
              errorCode: answer.headers['x-error-code'] as string | undefined,
              errorMessage: answer.headers['x-error-message'] as string | undefined,
              body: text,
              url: answer.url,
            },
            { endpoint: this.#o.endpoint, repo: this.#o.repo, path: target.repoPath, tokenGiven: this.#o.tokenGiven },
          );
          if (typed) throw typed;
          throw new RetryableStatus(answer.status, parseRetryAfter(answer.headers['retry-after'] as string | undefined));
        }
        if (fromCdn) att.cdnUrl = answer.url;
        const etag = answer.headers.etag;
        if (typeof etag === 'string' && !etag.startsWith('W/') && !att.etag) att.etag = etag;

        const end = p.start + p.length;
        // Chunks are gathered and written with one writev per WRITE_BATCH bytes (fewer syscalls and awaits than one
        // write per socket read). A chunk is counted as received, and handed to the hasher, only once it is on disk,
        // so the resume record and the hash always describe the same bytes.
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
            throw this.#fsError(error, target);
          }
          position += bytes;
          p.received += bytes;
          att.done += bytes;
          p.push(batch);
          onDone?.(att.done);
          void save(false);
        };
        for await (const raw of answer.body) {
          const chunk = raw as Buffer;
          const room = end - position - pendingBytes;
          if (room <= 0) {
            releaseChunk(chunk);
            continue;
          }
          const data = chunk.length > room ? chunk.subarray(0, room) : chunk;
          pending.push(data);
          pendingBytes += data.length;
          att.fetched += data.length;
          this.fetchedBytes += data.length;
          progressed = true;
          if (pendingBytes >= WRITE_BATCH) await flush();
        }
        await flush();
        if (p.received < p.length) {
          throw Object.assign(new Error(`connection closed after ${position - from} of ${to - from + 1} bytes`), { code: 'ECONNRESET' });
        }
        void save(true);
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
        this.#message('warn', `${target.repoPath}: ${(error as Error).message}; retry ${tries} in ${(delay / 1000).toFixed(1)} s`);
        release();
        await sleep(delay, att.signal);
      } finally {
        release();
      }
    }
  }

  #fsError(error: unknown, target: TransferTarget): Error {
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
}
