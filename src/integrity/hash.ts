/**
 * Content hashes the hub publishes: sha256 for LFS files (`lfs.oid` in the tree) and the git blob sha1 for small
 * files (`oid` in the tree). A git blob sha1 is sha1("blob <size>\0" + bytes) (git's object format; the hub's `oid`
 * for a non-LFS file is that value, ../shared/research/hub-protocol.md §2.2), so it can be computed while streaming as
 * long as the size is known up front, which the tree gives us.
 */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface Digests {
  sha256: string;
  /** Git blob sha1; present only when asked for (non-LFS files). */
  gitSha1?: string;
  /** md5; present only when asked for (Meta's checklist.chk publishes md5 only). */
  md5?: string;
  size: number;
}

export interface HasherOptions {
  gitSha1ForSize?: number;
  md5?: boolean;
}

/** Incremental hasher: feed bytes in file order, then `digest()`. */
export class StreamingHasher {
  readonly #sha256: Hash = createHash('sha256');
  readonly #gitSha1: Hash | undefined;
  readonly #md5: Hash | undefined;
  #size = 0;

  constructor(options: HasherOptions = {}) {
    if (options.md5) this.#md5 = createHash('md5');
    if (options.gitSha1ForSize !== undefined) {
      this.#gitSha1 = createHash('sha1');
      this.#gitSha1.update(`blob ${options.gitSha1ForSize}\0`);
    }
  }

  /** `onHashed` runs once the bytes are hashed and no longer read (here: before `update` returns). */
  update(chunks: Uint8Array | readonly Uint8Array[], onHashed?: () => void): void {
    for (const chunk of chunks instanceof Uint8Array ? [chunks] : chunks) {
      this.#sha256.update(chunk);
      this.#gitSha1?.update(chunk);
      this.#md5?.update(chunk);
      this.#size += chunk.byteLength;
    }
    onHashed?.();
  }

  get size(): number {
    return this.#size;
  }

  digest(): Digests {
    const out: Digests = { sha256: this.#sha256.digest('hex'), size: this.#size };
    if (this.#gitSha1) out.gitSha1 = this.#gitSha1.digest('hex');
    if (this.#md5) out.md5 = this.#md5.digest('hex');
    return out;
  }
}

const READ_CHUNK = 4 * 1024 * 1024;

/** Hash `length` bytes of an open file starting at `start` into `hasher` (used to re-hash a resumed prefix). */
export async function hashRange(path: string, start: number, length: number, hasher: StreamingHasher | WorkerHasher, signal?: AbortSignal): Promise<void> {
  if (length <= 0) return;
  const handle = await open(path, 'r');
  try {
    let position = start;
    let left = length;
    while (left > 0) {
      signal?.throwIfAborted();
      // A fresh buffer per read: a WorkerHasher takes ownership of what it is given.
      const buffer = Buffer.allocUnsafeSlow(Math.min(READ_CHUNK, left));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) throw new Error(`unexpected end of ${path} at byte ${position}`);
      await hasher.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
      left -= bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** Hash a whole file in one read pass: sha256, and the git blob sha1 too when `gitSha1` is set. */
export async function hashFile(path: string, options: { gitSha1?: boolean; md5?: boolean; signal?: AbortSignal | undefined } = {}): Promise<Digests> {
  const handle = await open(path, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } finally {
    await handle.close();
  }
  const hasher = new StreamingHasher({ ...(options.gitSha1 ? { gitSha1ForSize: size } : {}), ...(options.md5 ? { md5: true } : {}) });
  await hashRange(path, 0, size, hasher, options.signal);
  return hasher.digest();
}

/**
 * The same hashes computed on a worker thread, so hashing a big file runs beside the network and disk work of the
 * main thread instead of competing with it (sha256 is the most expensive step per byte of a pull). Chunks are moved
 * to the worker without a copy when they own their memory. Flow control: `update` resolves at once unless more than
 * `maxInFlight` bytes wait in the worker, so memory stays bounded.
 */

// Runs in the worker (eval mode: CommonJS). Kept tiny and dependency-free. One worker keeps the hash states of
// several files (by id) and answers every message in order.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const states = new Map();
parentPort.on('message', (m) => {
  if (m.type === 'open') {
    const sha1 = m.gitSha1ForSize === undefined ? undefined : createHash('sha1');
    if (sha1) sha1.update('blob ' + m.gitSha1ForSize + '\\0');
    states.set(m.id, { sha256: createHash('sha256'), sha1, md5: m.md5 ? createHash('md5') : undefined, size: 0 });
  } else if (m.type === 'data') {
    const s = states.get(m.id);
    let length = 0;
    for (const buf of m.bufs) {
      const b = ArrayBuffer.isView(buf) ? buf : new Uint8Array(buf);
      s.sha256.update(b);
      if (s.sha1) s.sha1.update(b);
      if (s.md5) s.md5.update(b);
      length += b.byteLength;
    }
    s.size += length;
    parentPort.postMessage({ type: 'ack', id: m.id, length });
  } else if (m.type === 'digest') {
    const s = states.get(m.id);
    states.delete(m.id);
    parentPort.postMessage({ type: 'digest', id: m.id, sha256: s.sha256.digest('hex'), gitSha1: s.sha1 ? s.sha1.digest('hex') : undefined, md5: s.md5 ? s.md5.digest('hex') : undefined, size: s.size });
  } else if (m.type === 'drop') {
    states.delete(m.id);
  }
});
`;

type WorkerReply = { type: string; id: number; length?: number; sha256?: string; gitSha1?: string; md5?: string; size?: number };

/**
 * Hash workers shared by all WorkerHashers of the process: a worker costs a thread and tens of ms of start-up, and
 * more hashing threads than cores only take turns (profile of a 4-file pull on 2 cores: four workers, each starting
 * up, beside the transfer). A new hasher goes to the least busy worker; a new worker starts only while every worker
 * has a file and there are fewer than HASH_WORKERS. Idle workers do not keep the process alive.
 */
const HASH_WORKERS = Math.max(1, Math.min(8, availableParallelism() - 1));

interface PooledWorker {
  worker: Worker;
  users: Map<number, (m: WorkerReply) => void>;
  onError: Map<number, (error: Error) => void>;
  failed: boolean;
}

const pool: PooledWorker[] = [];
let nextHasherId = 1;

function pooledWorker(): PooledWorker {
  const live = pool.filter((w) => !w.failed);
  const least = live.reduce<PooledWorker | undefined>((a, w) => (a && a.users.size <= w.users.size ? a : w), undefined);
  if (least && (least.users.size === 0 || live.length >= HASH_WORKERS)) return least;
  const entry: PooledWorker = { worker: new Worker(WORKER_SOURCE, { eval: true }), users: new Map(), onError: new Map(), failed: false };
  entry.worker.on('message', (m: WorkerReply) => entry.users.get(m.id)?.(m));
  entry.worker.on('error', (error) => {
    entry.failed = true;
    pool.splice(pool.indexOf(entry), 1);
    for (const fail of entry.onError.values()) fail(error);
  });
  entry.worker.unref();
  pool.push(entry);
  return entry;
}

export class WorkerHasher {
  readonly #pooled: PooledWorker;
  readonly #id = nextHasherId++;
  readonly #maxInFlight: number;
  #inFlight = 0;
  #size = 0;
  #closed = false;
  /** One entry per data message not yet acknowledged. */
  readonly #onHashed: Array<(() => void) | undefined> = [];
  #drained: (() => void) | undefined;
  #result: ((d: Digests) => void) | undefined;
  #failure: Error | undefined;

  constructor(options: HasherOptions & { maxInFlight?: number } = {}) {
    this.#maxInFlight = options.maxInFlight ?? 64 * 1024 * 1024;
    this.#pooled = pooledWorker();
    this.#pooled.users.set(this.#id, (m) => {
      if (m.type === 'ack') {
        this.#inFlight -= m.length ?? 0;
        // The worker answers its messages in order.
        this.#onHashed.shift()?.();
        if (this.#inFlight <= this.#maxInFlight / 2) this.#wake();
      } else if (m.type === 'digest') {
        const out: Digests = { sha256: m.sha256 ?? '', size: m.size ?? 0 };
        if (m.gitSha1) out.gitSha1 = m.gitSha1;
        if (m.md5) out.md5 = m.md5;
        this.#result?.(out);
      }
    });
    this.#pooled.onError.set(this.#id, (error) => {
      this.#failure = error;
      this.#wake();
    });
    if (this.#pooled.users.size === 1) this.#pooled.worker.ref();
    this.#pooled.worker.postMessage({ type: 'open', id: this.#id, gitSha1ForSize: options.gitSha1ForSize, md5: options.md5 === true });
  }

  #wake(): void {
    const wake = this.#drained;
    this.#drained = undefined;
    wake?.();
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Hand bytes over in file order (one chunk or several in one message). Do not touch them afterwards: their memory
   * may move to the worker, and bytes in shared memory are read there until `onHashed` runs.
   */
  async update(chunks: Uint8Array | readonly Uint8Array[], onHashed?: () => void): Promise<void> {
    if (this.#failure) throw this.#failure;
    const list = chunks instanceof Uint8Array ? [chunks] : chunks;
    const bufs: Array<ArrayBuffer | Uint8Array> = [];
    const moved: ArrayBuffer[] = [];
    let length = 0;
    for (const chunk of list) {
      if (chunk.buffer instanceof SharedArrayBuffer) {
        // Shared memory (the HTTP client's read slabs): the worker sees the same bytes, nothing is copied or moved.
        bufs.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } else {
        // A buffer that owns its memory is moved (no copy); a view into a bigger buffer is copied so its owner stays intact.
        const owns = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
        const buffer = (owns ? chunk : new Uint8Array(chunk)).buffer as ArrayBuffer;
        bufs.push(buffer);
        moved.push(buffer);
      }
      length += chunk.byteLength;
    }
    this.#inFlight += length;
    this.#size += length;
    this.#onHashed.push(onHashed);
    this.#pooled.worker.postMessage({ type: 'data', id: this.#id, bufs }, moved);
    while (this.#inFlight > this.#maxInFlight && !this.#failure) await new Promise<void>((resolve) => (this.#drained = resolve));
    if (this.#failure) throw this.#failure;
  }

  async digest(): Promise<Digests> {
    if (this.#failure) throw this.#failure;
    const result = new Promise<Digests>((resolve, reject) => {
      this.#result = resolve;
      this.#pooled.onError.set(this.#id, reject);
    });
    this.#pooled.worker.postMessage({ type: 'digest', id: this.#id });
    try {
      return await result;
    } finally {
      this.#release(false);
    }
  }

  /** Give the hash state up (a failed transfer); the shared worker stays for other files. */
  async close(): Promise<void> {
    this.#release(true);
  }

  #release(drop: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    const { users, onError, worker, failed } = this.#pooled;
    users.delete(this.#id);
    onError.delete(this.#id);
    if (failed) return;
    if (drop) worker.postMessage({ type: 'drop', id: this.#id });
    if (users.size === 0) worker.unref();
  }
}
