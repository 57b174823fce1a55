/**
 * The own HTTP/1.1 wire (used by HttpClient in http.ts): one connection on a net/tls socket whose `onread` reads
 * straight into big slabs of shared memory, the response head parser, the body framings (Content-Length, chunked,
 * close); the slabs and the body stream are in http1-body.ts. See http.ts for why.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ResponseBody, SLAB_BYTES, abortError, netError, type Slab, type SlabPool } from './http1-body.ts';

/** A read gets at least this much room; below it the rest of the slab is left unused and a fresh one is taken. */
const MIN_READ = 128 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

type Framing = { kind: 'none' } | { kind: 'length'; left: number } | { kind: 'close' } | { kind: 'chunked'; state: 'size' | 'data' | 'data-crlf' | 'trailer'; left: number; line: string };

interface Exchange {
  /** Head bytes seen so far (heads are small; copied). */
  head: Buffer | undefined;
  resolve: (answer: { status: number; headers: Record<string, string | undefined>; body: ResponseBody }) => void;
  reject: (error: Error) => void;
  body: ResponseBody | undefined;
  framing: Framing;
  keepAlive: boolean;
  done: (reusable: boolean) => void;
}

/** One HTTP/1.1 connection; at most one request at a time. */
export class Connection {
  readonly key: string;
  readonly socket: net.Socket;
  readonly #pool: SlabPool;
  #slab: Slab;
  #offset = 0;
  #exchange: Exchange | undefined;
  #answered = false;
  closed = false;
  /** Served a request before (a stale keep-alive socket may fail on its next one). */
  reused = false;
  onIdleClose: (() => void) | undefined;

  constructor(url: URL, pool: SlabPool) {
    this.#pool = pool;
    this.#slab = pool.take();
    this.key = url.origin;
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const secure = url.protocol === 'https:';
    const port = Number(url.port) || (secure ? 443 : 80);
    const onread = { buffer: () => this.#nextBuffer(), callback: (n: number, buf: Uint8Array) => this.#onRead(n, buf) };
    this.socket = secure
      ? // tls.connect takes `onread` too (Node docs, tls.connect options); @types/node leaves it out.
        tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ALPNProtocols: ['http/1.1'], onread } as tls.ConnectionOptions)
      : net.connect({ host, port, onread });
    this.socket.setNoDelay(true);
    this.socket.on('error', (error) => this.#closed(error));
    this.socket.on('close', () => this.#closed(undefined));
  }

  #nextBuffer(): Uint8Array {
    if (SLAB_BYTES - this.#offset < MIN_READ) {
      this.#pool.retire(this.#slab);
      this.#slab = this.#pool.take();
      this.#offset = 0;
    }
    return this.#slab.bytes.subarray(this.#offset);
  }

  #onRead(n: number, buf: Uint8Array): boolean {
    if (buf.buffer === this.#slab.bytes.buffer) this.#offset = buf.byteOffset - this.#slab.bytes.byteOffset + n;
    const chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
    const ex = this.#exchange;
    if (!ex) {
      // Bytes nobody asked for: the connection is out of step; never reuse it.
      this.socket.destroy();
      return false;
    }
    this.#answered = true;
    try {
      return this.#feed(ex, chunk);
    } catch (error) {
      this.#finish(ex, false, error as Error);
      return false;
    }
  }

  #feed(ex: Exchange, chunk: Buffer): boolean {
    let data = chunk;
    while (!ex.body) {
      const head = ex.head ? Buffer.concat([ex.head, data]) : data;
      const from = ex.head ? Math.max(0, ex.head.length - 3) : 0;
      const end = head.indexOf(CRLFCRLF, from);
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) throw netError('response head too large', 'ECONNRESET');
        ex.head = Buffer.from(head);
        return true;
      }
      const consumed = ex.head ? end + 4 - ex.head.length : end + 4;
      const parsed = this.#parseHead(ex, head.toString('latin1', 0, end));
      data = data.subarray(consumed);
      ex.head = undefined;
      if (!parsed) continue; // 1xx: another head follows
    }
    return this.#feedBody(ex, data);
  }

  /** Returns false for an interim (1xx) answer. */
  #parseHead(ex: Exchange, text: string): boolean {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
    if (!m) throw netError(`not an HTTP/1.x answer: ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`, 'ECONNRESET');
    const status = Number(m[2]);
    if (status >= 100 && status < 200) return false;
    const headers: Record<string, string | undefined> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const prev = headers[name];
      headers[name] = prev === undefined ? value : `${prev}, ${value}`;
    }
    const connection = headers.connection?.toLowerCase() ?? '';
    ex.keepAlive = m[1] === '1' && !/\bclose\b/.test(connection);
    const te = headers['transfer-encoding']?.toLowerCase();
    const length = headers['content-length'];
    if (status === 204 || status === 304) ex.framing = { kind: 'none' };
    else if (te !== undefined && /\bchunked\s*$/.test(te)) ex.framing = { kind: 'chunked', state: 'size', left: 0, line: '' };
    else if (te === undefined && length !== undefined && /^\d+$/.test(length)) ex.framing = { kind: 'length', left: Number(length) };
    else if (length !== undefined && te === undefined) throw netError(`bad content-length ${JSON.stringify(length)}`, 'ECONNRESET');
    else ex.framing = { kind: 'close' };
    if (ex.framing.kind === 'close') ex.keepAlive = false;
    const body = new ResponseBody(
      this.#pool,
      () => this.socket.resume(),
      (error) => this.#finish(ex, false, error),
    );
    ex.body = body;
    ex.resolve({ status, headers, body });
    return true;
  }

  #feedBody(ex: Exchange, data: Buffer): boolean {
    const body = ex.body as ResponseBody;
    const f = ex.framing;
    let more = true;
    if (f.kind === 'none') {
      this.#finish(ex, ex.keepAlive && data.length === 0);
      return true;
    }
    if (f.kind === 'close') return data.length > 0 ? body.push(data) : true;
    if (f.kind === 'length') {
      const used = Math.min(data.length, f.left);
      if (used > 0) {
        f.left -= used;
        more = body.push(used < data.length ? data.subarray(0, used) : data);
      }
      if (f.left === 0) {
        // Bytes past the end of the body would belong to no request: do not reuse such a connection.
        this.#finish(ex, ex.keepAlive && used === data.length);
        return true;
      }
      return more;
    }
    // chunked (RFC 9112 §7.1): size line, data, CRLF, …, a 0 size, trailers, an empty line
    let at = 0;
    while (at < data.length) {
      if (f.state === 'data') {
        const n = Math.min(f.left, data.length - at);
        more = body.push(data.subarray(at, at + n)) && more;
        at += n;
        f.left -= n;
        if (f.left === 0) f.state = 'data-crlf';
        continue;
      }
      const nl = data.indexOf(10, at);
      const piece = data.toString('latin1', at, nl < 0 ? data.length : nl + 1);
      at = nl < 0 ? data.length : nl + 1;
      f.line += piece;
      if (f.line.length > 8192) throw netError('bad chunked encoding', 'ECONNRESET');
      if (nl < 0) break;
      const line = f.line.trim();
      f.line = '';
      if (f.state === 'data-crlf') {
        if (line !== '') throw netError('bad chunked encoding', 'ECONNRESET');
        f.state = 'size';
      } else if (f.state === 'size') {
        const size = /^[0-9a-fA-F]+/.exec(line);
        if (!size) throw netError('bad chunked encoding', 'ECONNRESET');
        f.left = parseInt(size[0], 16);
        f.state = f.left === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        this.#finish(ex, ex.keepAlive && at === data.length);
        return true;
      }
    }
    return more;
  }

  /** Send a GET; resolves once the answer's head is in. */
  request(path: string, host: string, headers: Record<string, string>, signal: AbortSignal | undefined, idleTimeoutMs: number, release: (reusable: boolean) => void) {
    let head = `GET ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new TypeError(`invalid character in header ${JSON.stringify(name)}`);
      head += `${name}: ${value}\r\n`;
    }
    head += '\r\n';
    return new Promise<{ status: number; headers: Record<string, string | undefined>; body: ResponseBody }>((resolve, reject) => {
      const onAbort = (): void => {
        this.socket.destroy(abortError(signal as AbortSignal));
      };
      const onTimeout = (): void => {
        this.socket.destroy(netError(`no data for ${idleTimeoutMs} ms`, 'ETIMEDOUT'));
      };
      const ex: Exchange = {
        head: undefined,
        resolve,
        reject,
        body: undefined,
        framing: { kind: 'none' },
        keepAlive: false,
        done: (reusable) => {
          signal?.removeEventListener('abort', onAbort);
          this.socket.off('timeout', onTimeout);
          this.socket.setTimeout(0);
          release(reusable);
        },
      };
      this.#exchange = ex;
      this.#answered = false;
      if (this.closed) return this.#finish(ex, false, netError('socket hang up', 'ECONNRESET'));
      if (signal?.aborted) return this.#finish(ex, false, abortError(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.socket.setTimeout(idleTimeoutMs);
      this.socket.on('timeout', onTimeout);
      this.socket.ref();
      if (this.socket.isPaused()) this.socket.resume();
      this.socket.write(head, 'latin1');
    });
  }

  #finish(ex: Exchange, reusable: boolean, error?: Error): void {
    if (this.#exchange !== ex) return;
    this.#exchange = undefined;
    if (error) {
      ex.reject(error);
      ex.body?.fail(error);
    } else {
      ex.body?.end();
    }
    if (!reusable) this.socket.destroy();
    else {
      this.reused = true;
      this.socket.unref();
    }
    ex.done(reusable && !this.closed);
  }

  #closed(error: Error | undefined): void {
    const first = !this.closed;
    this.closed = true;
    if (first) this.#pool.retire(this.#slab);
    const ex = this.#exchange;
    if (ex) {
      if (!error && ex.body && ex.framing.kind === 'close') this.#finish(ex, false);
      else {
        const cause = error ?? netError(ex.body ? 'connection closed before the end of the body (aborted)' : 'socket hang up', 'ECONNRESET');
        this.#finish(ex, false, cause);
      }
    } else if (first) this.onIdleClose?.();
  }

  /** Whether the last request got any answer byte. */
  get answered(): boolean {
    return this.#answered;
  }
}
