/**
 * Serving file bytes: Range / If-Range (RFC 9110 §14), streaming from memory or disk with backpressure, the
 * per-connection rate cap, and the byte-level faults (truncate, reset, flipped byte).
 */
import { createReadStream } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Blob } from './store.ts';

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * One `bytes=` range. Returns undefined when the header is to be ignored (absent, malformed, several ranges: the
 * RFC lets a server answer 200 with the whole body), 'unsatisfiable' for a 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, a = '', b = ''] = match;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  const end = b === '' ? size - 1 : Number(b);
  return { start, end: Math.min(end, size - 1) };
}

/** Strong comparison for If-Range: only an identical, non-weak entity tag keeps the range. */
export function ifRangeMatches(ifRange: string | undefined, etag: string): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  return !value.startsWith('W/') && value === etag;
}

/** Bytes [start, end] of a blob as chunks of at most `chunkSize`; disk blobs are streamed, never loaded. */
export async function* readBlob(blob: Blob | Buffer, range: ByteRange, chunkSize: number): AsyncGenerator<Buffer> {
  if (range.end < range.start) return;
  if (Buffer.isBuffer(blob) || blob.source.kind === 'memory') {
    const data = Buffer.isBuffer(blob) ? blob : (blob.source as { data: Buffer }).data;
    for (let at = range.start; at <= range.end; at += chunkSize) yield data.subarray(at, Math.min(at + chunkSize, range.end + 1));
    return;
  }
  const stream = createReadStream(blob.source.path, { start: range.start, end: range.end, highWaterMark: chunkSize });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } finally {
    stream.destroy();
  }
}

/**
 * A per-connection byte budget: a virtual clock that advances by n/rate for every n bytes sent. Sleeping until the
 * clock catches up keeps the long-run rate exact (timer jitter is absorbed, never accumulated) and costs one timer
 * per chunk.
 */
const pacing = new WeakMap<Socket, { next: number }>();
const MAX_LAG_MS = 50;

/** Account for `bytes` just sent on `socket`; returns how many ms to wait before sending more. */
export function pace(socket: Socket | null, bytes: number, bytesPerSecond: number): number {
  if (!socket) return 0;
  let state = pacing.get(socket);
  const now = performance.now();
  if (!state) {
    state = { next: now };
    pacing.set(socket, state);
  }
  // Late timers are made up for (the clock may lag real time by up to MAX_LAG_MS), but an idle connection does not
  // bank more credit than that.
  state.next = Math.max(state.next, now - MAX_LAG_MS) + (bytes * 1000) / bytesPerSecond;
  const wait = state.next - performance.now();
  return wait > 1 ? wait : 0;
}

/** Chunk size for a paced stream: about 50 chunks a second, so the rate is smooth at any scale. */
export function chunkSizeFor(bytesPerSecond: number | undefined): number {
  if (!bytesPerSecond) return 1 << 20;
  return Math.max(1024, Math.min(1 << 20, Math.floor(bytesPerSecond / 50)));
}

/** Wait `ms` (Infinity: forever), or until the response closes, whichever is first; never keeps the process alive. */
function sleepUnlessClosed(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    res.once('close', done);
  });
}

/** Resolve once `chunk` has been handed to the socket; reject if the response is closed first. */
export function writeChunk(res: ServerResponse, chunk: Buffer, flush = false): Promise<void> {
  return new Promise((resolve, reject) => {
    if (res.destroyed || res.writableEnded) {
      reject(new Error('response closed'));
      return;
    }
    const onClose = (): void => reject(new Error('response closed'));
    res.once('close', onClose);
    const done = (): void => {
      res.off('close', onClose);
      resolve();
    };
    if (flush) {
      res.write(chunk, (err) => (err ? reject(err) : done()));
    } else if (res.write(chunk)) {
      done();
    } else {
      res.once('drain', done);
    }
  });
}

export interface BytePlan {
  /** Stop after this many body bytes and close the connection (Content-Length already announced the full size). */
  truncateAfter?: number;
  /** Stop after this many body bytes and reset the connection (TCP RST). */
  resetAfter?: number;
  /** File offsets whose byte is XORed with the mask (a same-size corrupt body). */
  flips: { offset: number; mask: number }[];
  /** Pause for `ms` once `afterBytes` body bytes are out (a stalled transfer; Infinity waits for the client to leave). */
  stall?: { afterBytes: number; ms: number };
  bytesPerSecond?: number;
}

/**
 * Stream `range` of `blob` into `res` (headers already set), applying the plan. Returns the body bytes handed to
 * the socket. Never throws for a client that goes away.
 */
export async function streamBody(
  res: ServerResponse,
  blob: Blob | Buffer,
  range: ByteRange,
  plan: BytePlan,
  onBytes: (n: number) => void,
): Promise<void> {
  const total = range.end - range.start + 1;
  const cutAt = Math.min(plan.truncateAfter ?? Infinity, plan.resetAfter ?? Infinity);
  const limit = Math.min(total, cutAt);
  const socket = res.socket;
  let sent = 0;
  const stall = plan.stall;
  try {
    // Headers (with the full Content-Length) always go out, even when the cut or the stall is at byte 0.
    if (limit === 0 || stall?.afterBytes === 0) res.flushHeaders();
    if (limit > 0) {
      const chunkSize = chunkSizeFor(plan.bytesPerSecond);
      for await (const whole of readBlob(blob, { start: range.start, end: range.start + limit - 1 }, chunkSize)) {
        let raw = whole;
        if (stall && sent <= stall.afterBytes && sent + raw.byteLength > stall.afterBytes) {
          // Split the chunk at the stall point, send the first part, then wait.
          const head = raw.subarray(0, stall.afterBytes - sent);
          if (head.byteLength > 0) {
            await writeChunk(res, head, true);
            sent += head.byteLength;
            onBytes(head.byteLength);
          }
          await sleepUnlessClosed(res, stall.ms);
          raw = raw.subarray(head.byteLength);
        }
        let chunk = raw;
        const offset = range.start + sent;
        for (const flip of plan.flips) {
          if (flip.offset >= offset && flip.offset < offset + chunk.byteLength) {
            if (chunk === raw) chunk = Buffer.from(raw);
            chunk[flip.offset - offset] = (chunk[flip.offset - offset] ?? 0) ^ flip.mask;
          }
        }
        const last = sent + chunk.byteLength >= limit;
        await writeChunk(res, chunk, last && limit < total);
        sent += chunk.byteLength;
        onBytes(chunk.byteLength);
        const wait = plan.bytesPerSecond ? pace(socket, chunk.byteLength, plan.bytesPerSecond) : 0;
        // Abortable, so closing the server never waits on a slow connection's timer.
        if (wait > 0) await sleepUnlessClosed(res, wait);
      }
    }
    if (limit < total) {
      if (plan.resetAfter !== undefined && plan.resetAfter <= cutAt && socket) {
        // Give the kernel a moment to deliver what was written before the RST discards the send queue.
        await new Promise((resolve) => setTimeout(resolve, 20));
        socket.resetAndDestroy();
      } else {
        socket?.destroy();
      }
      return;
    }
    res.end();
  } catch {
    // The client went away (or a cut above); nothing to answer any more.
    if (!res.destroyed) res.destroy();
  }
}
