/**
 * The transfer engine's scheduler: one file at a time per call, many calls in parallel, all sharing one pool of
 * `concurrency` connections.
 *
 * A file is cut into pieces (16 MiB by default), each fetched by piece.ts with Range requests and written at its
 * offset in a partial file; the progress of every piece is saved beside it (resume-state.ts) so a later run, even
 * after kill -9, resumes with Range requests instead of starting over.
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
 * a Range request is never appended (classify.ts: the file restarts in a single stream from byte 0). The final
 * sha256 / git sha1 is checked before the caller may move the file into place; on a mismatch the partial is dropped
 * and fetched again.
 */
import { constants } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { IntegrityError, NetworkError } from '../errors.ts';
import { StreamingHasher, WorkerHasher, hashRange } from '../integrity/hash.ts';
import type { ProgressSink } from '../progress/events.ts';
import { redactSecrets } from '../redact.ts';
import { DEFAULT_RETRY, type RetryPolicy } from '../util/retry.ts';
import { RestartFile } from './classify.ts';
import { HttpClient, type HttpGet } from './http.ts';
import { Piece, PieceFetcher, diskError, saveAttempt, type Attempt } from './piece.ts';
import { ResumeRecord, discardPartial, expectedKey, loadState, statePath, type SavedState, type TransferOutcome, type TransferTarget } from './resume-state.ts';
import { Semaphore } from './semaphore.ts';

/** The largest piece; a smaller file is cut into one piece per connection it may use, down to MIN_PIECE_SIZE. */
export const DEFAULT_PIECE_SIZE = 16 * 1024 * 1024;
const MIN_PIECE_SIZE = 1024 * 1024;
/**
 * Connections one file may use, as download managers do per download (aria2c -x8 -s8, hf_transfer): more to one
 * file stop paying off, and across several files the shared budget (`concurrency`) goes to the others.
 */
export const CONNECTIONS_PER_FILE = 8;
/**
 * Connections in all for a pull (`--concurrency`): with CONNECTIONS_PER_FILE to each, four large files transfer at
 * full width at once, as `aria2c -x8 -s8 -j4` does.
 */
export const DEFAULT_CONCURRENCY = 32;
const MAX_PIECES = 4096;
/** From this size on, hashing runs on a worker thread beside the transfer (its start-up costs a few ms). */
const WORKER_HASH_MIN_SIZE = 32 * 1024 * 1024;

export interface EngineOptions {
  endpoint: string;
  /** Sent only to the endpoint's origin, never to a CDN it redirects to. */
  authHeaders?: Record<string, string>;
  /** The HTTP client's GET. Default: a new own client (http.ts) for this engine. */
  get?: HttpGet;
  /** Connections in all, over every file of this engine. */
  concurrency?: number;
  /** Connections one file may use (default CONNECTIONS_PER_FILE, at most `concurrency`). */
  connectionsPerFile?: number;
  /** Fixed piece size; default: the file cut into one piece per connection, between 1 MiB and 16 MiB. */
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
  /** Who published the expected hashes, for error messages. Default "hub". */
  hashSource?: string;
  tokenGiven: boolean;
}

export class TransferEngine {
  readonly #o: Required<Omit<EngineOptions, 'authHeaders' | 'signal' | 'onProgress' | 'get' | 'pieceSize'>> & Pick<EngineOptions, 'authHeaders' | 'signal' | 'onProgress' | 'pieceSize'>;
  readonly #fetcher: PieceFetcher;
  #reserved = 0;
  #waiters: Array<() => void> = [];
  /** Bytes received over the network by this engine, all files. */
  fetchedBytes = 0;

  constructor(options: EngineOptions) {
    const { get, ...rest } = options;
    this.#o = {
      concurrency: DEFAULT_CONCURRENCY,
      connectionsPerFile: CONNECTIONS_PER_FILE,
      memoryBudget: 256 * 1024 * 1024,
      retry: DEFAULT_RETRY,
      fileAttempts: 3,
      idleTimeoutMs: 60_000,
      maxReResolves: 3,
      hashSource: 'hub',
      ...rest,
    };
    this.#fetcher = new PieceFetcher({
      get: get ?? new HttpClient().get,
      connections: new Semaphore(this.#o.concurrency),
      endpoint: this.#o.endpoint,
      authHeaders: this.#o.authHeaders,
      retry: this.#o.retry,
      idleTimeoutMs: this.#o.idleTimeoutMs,
      maxReResolves: this.#o.maxReResolves,
      repo: this.#o.repo,
      tokenGiven: this.#o.tokenGiven,
      message: (level, text) => this.#message(level, text),
      onFetched: (bytes) => (this.fetchedBytes += bytes),
    });
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
        await discardPartial(target);
        if (error.reason === 'range-ignored') singleStream = true;
        this.#message('warn', `${target.repoPath}: ${error.message}; fetching it again`);
      }
    }
    const actual = last?.actual;
    if (last?.reason === 'mismatch' && actual) {
      // The first published hash that differs names the check (a file may carry a sha256 and an md5).
      const checks = [
        { algorithm: 'sha256', label: 'sha256', expected: target.expectedSha256, got: actual.sha256 },
        { algorithm: 'git-sha1', label: 'git sha1', expected: target.expectedGitSha1, got: actual.gitSha1 },
        { algorithm: 'md5', label: 'md5', expected: target.expectedMd5, got: actual.md5 },
      ].filter((c) => c.expected !== undefined);
      const failed = checks.find((c) => c.got !== c.expected) ?? checks[0];
      const gotText = actual.size !== target.size ? `${actual.size} bytes` : failed?.got;
      throw new IntegrityError(
        'HASH_MISMATCH',
        `${target.repoPath}: content does not match the ${this.#o.hashSource}'s hash after ${this.#o.fileAttempts} tries (expected ${failed?.label ?? 'size'} ${failed?.expected ?? target.size}, got ${gotText}).`,
        {
          hint: 'The server or a proxy on the way delivers corrupt data. Try again later or from another network; nothing was written to the cache or the local dir.',
          details: { path: target.repoPath, algorithm: failed?.algorithm ?? 'size', expected: failed?.expected, actual: failed?.got, expectedSize: target.size, actualSize: actual.size },
        },
      );
    }
    throw new NetworkError('TRANSFER_FAILED', `${target.repoPath}: ${last?.message ?? 'download failed'}.`, {
      hint: 'Run the command again; it resumes where it stopped.',
      details: { path: target.repoPath },
    });
  }

  #perFile(): number {
    return Math.max(1, Math.min(this.#o.connectionsPerFile, this.#o.concurrency));
  }

  /** Cut the file into pieces, continuing an earlier run's cut when its record is there. */
  #plan(target: TransferTarget, state: SavedState | undefined, singleStream: boolean): { pieces: Piece[]; pieceSize: number } {
    const cut = this.#o.pieceSize ?? Math.min(DEFAULT_PIECE_SIZE, Math.max(MIN_PIECE_SIZE, Math.ceil(target.size / this.#perFile())));
    const pieceSize = singleStream ? Math.max(1, target.size) : Math.max(cut, Math.ceil(target.size / MAX_PIECES));
    // A resumed partial keeps the cut of the run that started it, so its per-piece counts stay meaningful.
    const usedPieceSize = state ? state.pieceSize : pieceSize;
    const pieces: Piece[] = [];
    for (let start = 0, i = 0; start < target.size || (target.size === 0 && i === 0); start += usedPieceSize, i++) {
      const length = Math.min(usedPieceSize, target.size - start);
      const received = Math.min(length, Math.max(0, state?.received[i] ?? 0));
      pieces.push(new Piece(i, start, length, received));
      if (target.size === 0) break;
    }
    return { pieces, pieceSize: usedPieceSize };
  }

  async #attempt(target: TransferTarget, singleStream: boolean, onDone?: (doneBytes: number) => void, callSignal?: AbortSignal): Promise<TransferOutcome> {
    const loaded = await loadState(target);
    if (!loaded) await rm(target.partialPath, { force: true });
    const { pieces, pieceSize } = this.#plan(target, loaded, singleStream);
    const resumedBytes = pieces.reduce((a, p) => a + p.received, 0);
    const state: SavedState = loaded ?? { version: 1, size: target.size, pieceSize, expected: expectedKey(target), received: pieces.map(() => 0) };
    if (loaded && resumedBytes > 0) this.#message('info', `${target.repoPath}: resuming, ${resumedBytes} of ${target.size} bytes already here`);

    let handle: FileHandle;
    try {
      await mkdir(dirname(target.partialPath), { recursive: true });
      handle = await open(target.partialPath, constants.O_RDWR | constants.O_CREAT, 0o644);
    } catch (error) {
      throw diskError(error, target);
    }
    const controller = new AbortController();
    const att: Attempt = {
      target,
      handle,
      signal: AbortSignal.any([controller.signal, ...(this.#o.signal ? [this.#o.signal] : []), ...(callSignal ? [callSignal] : [])]),
      pieces,
      record: new ResumeRecord(target, state),
      cursor: 0,
      done: resumedBytes,
      fetched: 0,
      failure: undefined,
      cdnUrl: undefined,
      etag: state.etag,
      writes: Promise.resolve(),
      onDone,
    };
    onDone?.(att.done);
    const fail = (error: unknown): void => {
      if (att.failure === undefined) att.failure = error;
      controller.abort(error);
      for (const p of pieces) p.wakeUp();
      this.#changed();
    };

    const hashOptions = {
      ...(target.expectedGitSha1 !== undefined ? { gitSha1ForSize: target.size } : {}),
      ...(target.expectedMd5 !== undefined ? { md5: true } : {}),
    };
    const hasher = target.size >= WORKER_HASH_MIN_SIZE ? new WorkerHasher(hashOptions) : new StreamingHasher(hashOptions);
    const hashing = this.#hashInOrder(att, hasher).catch(fail);

    // Pieces in flight for this file: its share of the connections (the shared semaphore bounds the total).
    const window = Math.max(2, this.#perFile());
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
            if (p.index >= att.cursor + window) break;
            if (this.#reserved + need > this.#o.memoryBudget) p.spill = true;
            else {
              this.#reserved += need;
              p.reserved = need;
            }
          }
          next++;
          const run: Promise<void> = this.#fetcher
            .fetch(att, p)
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
        await saveAttempt(att, true);
        if (hasher instanceof WorkerHasher) await hasher.close();
      }
      await att.record.saving;
      await handle.close().catch(() => {});
      // This attempt made the partial and no byte came for it (refused at once, aborted before the first byte):
      // leave no empty partial behind.
      if (att.failure !== undefined && !loaded && att.fetched === 0) await discardPartial(target);
    }

    const digests = await hasher.digest();
    const bad =
      digests.size !== target.size ||
      (target.expectedSha256 !== undefined && digests.sha256 !== target.expectedSha256) ||
      (target.expectedGitSha1 !== undefined && digests.gitSha1 !== target.expectedGitSha1) ||
      (target.expectedMd5 !== undefined && digests.md5 !== target.expectedMd5);
    if (bad) throw new RestartFile('mismatch', 'content does not match the expected hash', digests);
    await rm(statePath(target.partialPath), { force: true });
    return { ...digests, resumedBytes, fetchedBytes: att.fetched };
  }

  /** The hash cursor: each piece's bytes in file order, from the partial (resumed prefix) or as they are written. */
  async #hashInOrder(att: Attempt, hasher: StreamingHasher | WorkerHasher): Promise<void> {
    for (const p of att.pieces) {
      att.cursor = p.index;
      this.#changed();
      if (p.diskBytes > 0) {
        try {
          await hashRange(att.target.partialPath, p.start, p.diskBytes, hasher);
        } catch (error) {
          throw new RestartFile('inconsistent', `the partial file from an earlier run is shorter than its record (${(error as Error).message})`);
        }
      }
      let hashed = p.diskBytes;
      while (hashed < p.length) {
        if (att.failure !== undefined) return;
        if (p.spill) {
          // written and let go (memory budget spent): read back what is on disk so far
          if (p.received > hashed) {
            const from = hashed;
            hashed = p.received;
            try {
              await hashRange(att.target.partialPath, p.start + from, hashed - from, hasher);
            } catch (error) {
              throw new RestartFile('inconsistent', `the partial file is shorter than what was written to it (${(error as Error).message})`);
            }
          } else {
            await p.next();
          }
          continue;
        }
        const batch = p.queue.shift();
        if (batch) {
          for (const chunk of batch.chunks) hashed += chunk.length;
          // Written and hashed: the HTTP client may reuse the chunks' memory.
          await hasher.update(batch.chunks, () => {
            for (const chunk of batch.chunks) batch.release(chunk);
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
    att.cursor = att.pieces.length;
    this.#changed();
  }
}
