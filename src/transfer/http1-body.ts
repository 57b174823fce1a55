/**
 * The memory and the body stream of the own HTTP/1.1 client: slabs of shared memory that socket reads land in
 * (reused once every chunk in them is released) and the body a response hands out, with back-pressure on the socket.
 */
import type { Body } from './http-types.ts';

export const SLAB_BYTES = 1024 * 1024;
/** Bytes a body may hold unread before the socket is paused, and the level at which it resumes. */
const BODY_HIGH_WATER = 8 * 1024 * 1024;
const BODY_LOW_WATER = 2 * 1024 * 1024;

/** Used-up slabs kept for reuse: fresh memory costs a page fault per page on first touch (most of the system time). */
const MAX_FREE_SLABS = 64;

/** A slab and the count of body chunks in it that are handed out and not yet released. */
export interface Slab {
  bytes: Buffer;
  users: number;
  /** No longer a connection's current slab: free once `users` is 0. */
  retired: boolean;
}

/**
 * The shared slabs of one client. Slab bytes are not overwritten while a chunk in them is in use: a connection takes
 * another slab when its current one is nearly used up, and a used-up slab is reused only once every chunk in it has
 * been released.
 */
export class SlabPool {
  readonly #slabs = new WeakMap<ArrayBufferLike, Slab>();
  readonly #free: Slab[] = [];

  take(): Slab {
    const slab = this.#free.pop();
    if (slab) {
      slab.retired = false;
      return slab;
    }
    const fresh: Slab = { bytes: Buffer.from(new SharedArrayBuffer(SLAB_BYTES)), users: 0, retired: false };
    this.#slabs.set(fresh.bytes.buffer, fresh);
    return fresh;
  }

  retire(slab: Slab): void {
    if (slab.retired) return;
    slab.retired = true;
    if (slab.users === 0 && this.#free.length < MAX_FREE_SLABS) this.#free.push(slab);
  }

  hold(chunk: Buffer): void {
    const slab = this.#slabs.get(chunk.buffer);
    if (slab) slab.users++;
  }

  release(chunk: Uint8Array): void {
    const slab = this.#slabs.get(chunk.buffer);
    if (!slab || slab.users <= 0) return;
    slab.users--;
    if (slab.users === 0 && slab.retired && this.#free.length < MAX_FREE_SLABS) this.#free.push(slab);
  }
}

export function netError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

export function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR', cause: signal.reason as unknown });
}

export class ResponseBody implements Body {
  readonly #pool: SlabPool;
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  readonly #resume: () => void;
  readonly #abandon: (error?: Error) => void;
  paused = false;

  constructor(pool: SlabPool, resume: () => void, abandon: (error?: Error) => void) {
    this.#pool = pool;
    this.#resume = resume;
    this.#abandon = abandon;
  }

  release(chunk: Uint8Array): void {
    this.#pool.release(chunk);
  }

  get finished(): boolean {
    return this.#ended || this.#error !== undefined;
  }

  /** From the connection; false asks it to pause the socket. */
  push(chunk: Buffer): boolean {
    if (this.finished) return true;
    this.#pool.hold(chunk);
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#notify();
    if (this.#queued < BODY_HIGH_WATER) return true;
    this.paused = true;
    return false;
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  fail(error: Error): void {
    if (this.finished) return;
    this.#error = error;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  destroy(error?: Error): void {
    if (this.#ended) return;
    this.#error ??= error ?? netError('body destroyed', 'ERR_STREAM_DESTROYED');
    for (const chunk of this.#queue.splice(0)) this.#pool.release(chunk);
    this.#abandon(error);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    try {
      for (;;) {
        const chunk = this.#queue.shift();
        if (chunk) {
          this.#queued -= chunk.length;
          if (this.paused && this.#queued <= BODY_LOW_WATER) {
            this.paused = false;
            this.#resume();
          }
          yield chunk;
          continue;
        }
        if (this.#error) throw this.#error;
        if (this.#ended) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } finally {
      // Left early (break, throw): the rest of the body is not wanted.
      if (!this.#ended) this.destroy();
    }
  }
}
