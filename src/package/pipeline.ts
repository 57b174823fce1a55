/**
 * The copy pipeline behind both package sinks: file bytes are read once into slots of a shared buffer, and each
 * slot is written to the output and hashed at the same time — the file's sha256 in one worker thread, the archive's
 * sha256 in another — so hashing twice costs no extra pass and no extra wall time on a machine with spare cores.
 * Reads stay sequential; writes (positional) and hashes run while the next slot is read. Memory is bounded by the
 * slot pool (SLOTS × SLOT_BYTES), whatever the file size.
 *
 * A slot is reused once its write and every hash of it are done. Workers see their messages in the order posted,
 * so the archive hasher gets headers, contents and padding in archive order.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { IntegrityError } from '../errors.ts';

export const SLOT_BYTES = 1024 * 1024;
export const SLOTS = 16;

// The hashing worker, evaluated in place (so it works from the sources and from dist/ alike). Dynamic import()
// keeps it valid whether Node evaluates it as CommonJS or, under --input-type=module, as an ES module; messages
// posted before the listener is attached wait in the port's queue.
// Messages: {t:'d', o, n, s} hash n bytes of the shared buffer at offset o, then acknowledge slot s;
// {t:'b', b} hash the bytes b (headers, padding, small files); {t:'f'} reply with the digest and start over.
const WORKER_SOURCE = `
Promise.all([import('node:worker_threads'), import('node:crypto')]).then(([{ parentPort, workerData }, { createHash }]) => {
  const view = new Uint8Array(workerData.sab);
  let hash = createHash('sha256');
  parentPort.on('message', (m) => {
    if (m.t === 'd') { hash.update(view.subarray(m.o, m.o + m.n)); parentPort.postMessage({ t: 'a', s: m.s }); }
    else if (m.t === 'b') { hash.update(m.b); }
    else if (m.t === 'f') { parentPort.postMessage({ t: 'h', h: hash.digest('hex') }); hash = createHash('sha256'); }
  });
});
`;

type WorkerReply = { t: 'a'; s: number } | { t: 'h'; h: string };

/** One sha256 computed in a worker thread over slots of the shared buffer and posted bytes. */
class HashWorker {
  readonly #worker: Worker;
  readonly #digests: Array<{ resolve: (hex: string) => void; reject: (error: unknown) => void }> = [];
  #failed: unknown;

  constructor(sab: SharedArrayBuffer, onAck: (slot: number) => void, onError: (error: unknown) => void) {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sab } });
    this.#worker.unref();
    this.#worker.on('message', (m: WorkerReply) => {
      if (m.t === 'a') onAck(m.s);
      else this.#digests.shift()?.resolve(m.h);
    });
    this.#worker.on('error', (error) => {
      this.#failed = error;
      for (const pending of this.#digests.splice(0)) pending.reject(error);
      onError(error);
    });
  }

  slot(slot: number, offset: number, length: number): void {
    this.#worker.postMessage({ t: 'd', o: offset, n: length, s: slot });
  }

  bytes(data: Uint8Array): void {
    this.#worker.postMessage({ t: 'b', b: data });
  }

  digest(): Promise<string> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#digests.push({ resolve, reject });
      this.#worker.postMessage({ t: 'f' });
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

export type PositionalWrite = (chunk: Uint8Array, position: number) => Promise<void>;

/** Sees a file's bytes as they are copied (the token scan); throwing stops the copy with that error. */
export interface ChunkInspector {
  chunk(bytes: Uint8Array): void;
  end(): void;
}

export class CopyPipeline {
  readonly #sab = new SharedArrayBuffer(SLOTS * SLOT_BYTES);
  readonly #slots: Buffer[] = [];
  /** Outstanding users of each slot (its write and its hashes). */
  readonly #refs = new Int32Array(SLOTS);
  readonly #free: number[] = [];
  readonly #waiting: Array<() => void> = [];
  readonly #fileHasher: HashWorker;
  readonly #archiveHasher: HashWorker | undefined;
  readonly #writes = new Set<Promise<void>>();
  /** The first write or worker failure; every later step rethrows it. */
  #error: unknown;

  constructor(options: { archiveHash: boolean }) {
    for (let i = 0; i < SLOTS; i++) {
      this.#slots.push(Buffer.from(this.#sab, i * SLOT_BYTES, SLOT_BYTES));
      this.#free.push(i);
    }
    const release = (slot: number) => this.#release(slot);
    const fail = (error: unknown) => {
      this.#error ??= error;
      // Nothing will free a slot any more: wake whoever waits for one, so it sees the error.
      for (const wake of this.#waiting.splice(0)) wake();
    };
    this.#fileHasher = new HashWorker(this.#sab, release, fail);
    this.#archiveHasher = options.archiveHash ? new HashWorker(this.#sab, release, fail) : undefined;
  }

  #release(slot: number): void {
    this.#refs[slot]! -= 1;
    if (this.#refs[slot] === 0) {
      this.#free.push(slot);
      this.#waiting.shift()?.();
    }
  }

  async #acquire(): Promise<number> {
    for (;;) {
      this.#throwIfFailed();
      const slot = this.#free.shift();
      if (slot !== undefined) return slot;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }

  /** Bytes that belong to the archive but not to a file's content (headers, padding, generated files). */
  archiveBytes(data: Uint8Array): void {
    // Posting copies the bytes, so the caller may reuse its buffer.
    this.#archiveHasher?.bytes(data);
  }

  /**
   * Copy `expectedSize` bytes of `source` through `write` (positions relative to `outputOffset`), hashing them.
   * `inspect` sees each chunk before it is written, and the end of the file; what it throws stops the copy.
   * Fails with PACKAGE_INPUT_CHANGED when the file is shorter or longer than expected.
   */
  async copyFile(source: string, expectedSize: number, write: PositionalWrite, outputOffset: number, onBytes?: (done: number) => void, inspect?: ChunkInspector): Promise<string> {
    const handle = await open(source, 'r');
    try {
      let position = 0;
      let refused: unknown;
      for (;;) {
        const slot = await this.#acquire();
        const buffer = this.#slots[slot]!;
        // Read one byte past the expected end, so a file that grew is noticed.
        const want = Math.min(SLOT_BYTES, expectedSize - position + 1);
        const { bytesRead } = await handle.read(buffer, 0, want, position);
        if (bytesRead === 0 || position + bytesRead > expectedSize) {
          this.#free.push(slot);
          if (position + bytesRead > expectedSize) position += bytesRead;
          break;
        }
        const chunk = buffer.subarray(0, bytesRead);
        try {
          inspect?.chunk(chunk);
        } catch (error) {
          this.#free.push(slot);
          refused = error;
          break;
        }
        this.#refs[slot] = this.#archiveHasher ? 3 : 2;
        this.#fileHasher.slot(slot, slot * SLOT_BYTES, bytesRead);
        this.#archiveHasher?.slot(slot, slot * SLOT_BYTES, bytesRead);
        const pending = write(chunk, outputOffset + position).then(
          () => this.#release(slot),
          (error: unknown) => {
            this.#error ??= error;
            this.#release(slot);
          },
        );
        this.#writes.add(pending);
        void pending.finally(() => this.#writes.delete(pending));
        position += bytesRead;
        onBytes?.(position);
      }
      if (refused === undefined && position === expectedSize) {
        try {
          inspect?.end();
        } catch (error) {
          refused = error;
        }
      }
      if (refused !== undefined || position !== expectedSize) {
        await this.drain().catch(() => undefined);
        // Resynchronise the file hasher: its digest of this partial file is thrown away.
        await this.#fileHasher.digest();
        if (refused !== undefined) throw refused;
        throw new IntegrityError('PACKAGE_INPUT_CHANGED', `${source} changed while it was being packaged (expected ${expectedSize} bytes, read ${position < expectedSize ? position : 'more'}).`, {
          hint: 'Wait until whatever writes that file has finished, then run llama package again.',
          details: { file: source, expectedSize },
        });
      }
      return await this.#fileHasher.digest();
    } finally {
      await handle.close();
    }
  }

  #throwIfFailed(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  /** Wait for every write in flight; rethrow the first failure. */
  async drain(): Promise<void> {
    await Promise.all([...this.#writes]);
    this.#throwIfFailed();
  }

  async archiveDigest(): Promise<string> {
    if (!this.#archiveHasher) throw new Error('this pipeline does not hash an archive');
    return this.#archiveHasher.digest();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#writes]);
    await Promise.all([this.#fileHasher.close(), this.#archiveHasher?.close()]);
  }
}

/** sha256 of bytes already in memory (generated files). */
export function sha256Of(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
