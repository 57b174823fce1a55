/**
 * Raw HTTP for the transfer engine: we need to see every redirect hop (to drop the token when the hop leaves the hub's
 * origin and to remember the CDN URL for the next ranges), the status of a Range answer (206 vs 200), and a body
 * stream we can stop at any byte. Idle keep-alive connections are reused across ranges.
 *
 * The client is a small HTTP/1.1 one on net/tls sockets rather than node:http, for speed when the network is not the
 * limit: the socket's `onread` option reads straight into big slabs of shared memory, so one read takes whatever the
 * kernel holds (hundreds of KiB on a fast link, where node:http reads 64 KiB into a fresh buffer each time), nothing
 * is allocated per read, and the chunks go to disk and to the hash worker without a copy or a transfer (a profile of a
 * loopback pull had per-chunk HTTP and stream work, GC of socket buffers and postMessage at about 40% of the client's
 * CPU). Slab bytes are not overwritten while a chunk in them is in use: a connection takes another slab when its
 * current one is nearly used up, and a used-up slab is reused only once the caller has released every chunk in it
 * (`body.release`, after the bytes are on disk and hashed); chunks never released are left to the garbage collector.
 * With NODE_USE_ENV_PROXY set, requests go through node:http instead, which is what honours HTTP(S)_PROXY there.
 * Each HttpClient owns its connections and slabs; the engine takes any `HttpGet` (fetch-get.ts is Node's fetch).
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

export interface Body extends AsyncIterable<Buffer> {
  /** Stop reading (the connection is closed, not reused). */
  destroy(error?: Error): void;
  /**
   * The caller is done with a chunk this body gave (written and hashed): its memory may be reused. At most once per
   * chunk; a chunk never released is left to the garbage collector. Absent where chunks are never reused.
   */
  release?(chunk: Uint8Array): void;
}

export interface HttpAnswer {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string | undefined>;
  body: Body;
  /** The URL that gave this answer (after redirects). */
  url: string;
}

export interface GetOptions {
  headers: Record<string, string>;
  /** Headers that go only to the origin named here (the hub's own; never to a CDN after a redirect). */
  authOrigin?: string;
  authHeaders?: Record<string, string>;
  signal?: AbortSignal;
  maxRedirects?: number;
  /** No bytes for this long → the request fails (a stalled connection is retried like a reset). */
  idleTimeoutMs?: number;
}

/** What the transfer engine needs from an HTTP client: a GET that shows every redirect hop's answer to it. */
export type HttpGet = (url: string, options: GetOptions) => Promise<HttpAnswer>;

const SLAB_BYTES = 1024 * 1024;
/** A read gets at least this much room; below it the rest of the slab is left unused and a fresh one is taken. */
const MIN_READ = 128 * 1024;
/** Bytes a body may hold unread before the socket is paused, and the level at which it resumes. */
const BODY_HIGH_WATER = 8 * 1024 * 1024;
const BODY_LOW_WATER = 2 * 1024 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Used-up slabs kept for reuse: fresh memory costs a page fault per page on first touch (most of the system time). */
const MAX_FREE_SLABS = 64;

/** A slab and the count of body chunks in it that are handed out and not yet released. */
interface Slab {
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
class SlabPool {
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

function netError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR', cause: signal.reason as unknown });
}

class ResponseBody implements Body {
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
class Connection {
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

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED';
}

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: Body & { resume?: () => void };
}

function nodeHttpGet(agents: { http: http.Agent; https: https.Agent }, url: URL, headers: Record<string, string>, signal: AbortSignal | undefined, idleTimeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method: 'GET', headers, agent: url.protocol === 'https:' ? agents.https : agents.http, signal });
    req.setTimeout(idleTimeoutMs, () => req.destroy(Object.assign(new Error(`no data for ${idleTimeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.once('response', (res: IncomingMessage) => {
      const flat: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(res.headers)) flat[name] = Array.isArray(value) ? value.join(', ') : value;
      resolve({ status: res.statusCode ?? 0, headers: flat, body: res });
    });
    req.once('error', reject);
    req.end();
  });
}

export interface HttpClientOptions {
  /**
   * Send requests through node:http instead of the own client: what honours HTTP(S)_PROXY when NODE_USE_ENV_PROXY is
   * set. Default: whether NODE_USE_ENV_PROXY is set in `env`.
   */
  viaNodeHttp?: boolean;
  env?: Record<string, string | undefined>;
}

/**
 * One client: its idle keep-alive connections and its slab pool (nothing module-global, so a test or a benchmark
 * makes its own). `get` follows redirects by hand; the caller must consume or destroy the body.
 */
export class HttpClient {
  readonly #pool = new SlabPool();
  readonly #idle = new Map<string, Connection[]>();
  readonly #viaNodeHttp: boolean;
  #agents: { http: http.Agent; https: https.Agent } | undefined;

  constructor(options: HttpClientOptions = {}) {
    this.#viaNodeHttp = options.viaNodeHttp ?? Boolean((options.env ?? process.env).NODE_USE_ENV_PROXY);
  }

  /** The transfer engine's `get`, bound to this client. */
  readonly get: HttpGet = async (url, options) => {
    let current = new URL(url);
    const maxRedirects = options.maxRedirects ?? 10;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'accept-encoding': 'identity', ...options.headers };
      if (options.authHeaders && current.origin === options.authOrigin) Object.assign(headers, options.authHeaders);
      const timeout = options.idleTimeoutMs ?? 60_000;
      const res = this.#viaNodeHttp ? await nodeHttpGet((this.#agents ??= newAgents()), current, headers, options.signal, timeout) : await this.#once(current, headers, options.signal, timeout);
      const status = res.status;
      if (status >= 300 && status < 400 && status !== 304 && res.headers.location) {
        // A redirect's small body has usually come with its head (its connection then stays for reuse); else drop it.
        if (res.body instanceof ResponseBody) res.body.destroy();
        else res.body.resume?.();
        if (hop >= maxRedirects) throw Object.assign(new Error(`too many redirects from ${url}`), { code: 'ETOOMANYREDIRECTS' });
        current = new URL(res.headers.location, current);
        continue;
      }
      return { status, headers: res.headers, body: res.body, url: current.toString() };
    }
  };

  /** See Body.release. */
  release(chunk: Uint8Array): void {
    this.#pool.release(chunk);
  }

  #checkout(url: URL): Connection {
    const list = this.#idle.get(url.origin);
    while (list && list.length > 0) {
      const conn = list.pop() as Connection;
      if (!conn.closed && !conn.socket.destroyed) return conn;
    }
    return new Connection(url, this.#pool);
  }

  #checkin(conn: Connection): void {
    let list = this.#idle.get(conn.key);
    if (!list) this.#idle.set(conn.key, (list = []));
    list.push(conn);
    conn.onIdleClose = () => {
      const l = this.#idle.get(conn.key);
      const i = l?.indexOf(conn) ?? -1;
      if (l && i >= 0) l.splice(i, 1);
    };
  }

  async #once(url: URL, headers: Record<string, string>, signal: AbortSignal | undefined, idleTimeoutMs: number): Promise<Answer> {
    for (let fresh = false; ; fresh = true) {
      const conn = fresh ? new Connection(url, this.#pool) : this.#checkout(url);
      const wasReused = conn.reused;
      try {
        return await conn.request(`${url.pathname}${url.search}`, url.host, headers, signal, idleTimeoutMs, (reusable) => {
          if (reusable) this.#checkin(conn);
        });
      } catch (error) {
        // A kept-alive socket that the server closed meanwhile fails before any answer byte: try once on a new one.
        if (!wasReused || fresh || conn.answered || signal?.aborted || !isConnectionError(error)) throw error;
      }
    }
  }
}

function newAgents(): { http: http.Agent; https: https.Agent } {
  return { http: new http.Agent({ keepAlive: true, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, maxSockets: 64 }) };
}

let sharedClient: HttpClient | undefined;

/** GET through a client shared by callers that bring none (made on first use, from process.env). */
export function httpGet(url: string, options: GetOptions): Promise<HttpAnswer> {
  return (sharedClient ??= new HttpClient()).get(url, options);
}

/** Release a chunk that a body of the shared client gave (see Body.release). */
export function releaseChunk(chunk: Uint8Array): void {
  sharedClient?.release(chunk);
}

/** Read at most `limit` bytes of a body as text (for error messages), then drop the rest. */
export async function bodyText(body: Body, limit = 2000): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) break;
    }
  } catch {
    // an error body that fails half-way still gave us its status
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}
