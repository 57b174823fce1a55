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
import { ResponseBody, SlabPool } from './http1-body.ts';
import { Connection } from './http1-connection.ts';
import type { Body, GetOptions, HttpAnswer, HttpGet } from './http-types.ts';

export type { Body, GetOptions, HttpAnswer, HttpGet } from './http-types.ts';

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
