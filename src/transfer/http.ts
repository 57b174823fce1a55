/**
 * Raw HTTP for the transfer engine on node:http/https: we need to see every redirect hop (to drop the token when
 * the hop leaves the hub's origin and to remember the CDN URL for the next ranges), the status of a Range answer
 * (206 vs 200), and a body stream we can stop at any byte. Keep-alive agents reuse connections across ranges.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

export interface HttpAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  body: IncomingMessage;
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

function once(url: URL, headers: Record<string, string>, signal: AbortSignal | undefined, idleTimeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, {
      method: 'GET',
      headers,
      agent: url.protocol === 'https:' ? agents.https : agents.http,
      signal,
    });
    req.setTimeout(idleTimeoutMs, () => req.destroy(Object.assign(new Error(`no data for ${idleTimeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
}

/** GET `url`, following redirects by hand; the caller must consume or destroy `body`. */
export async function httpGet(url: string, options: GetOptions): Promise<HttpAnswer> {
  let current = new URL(url);
  const maxRedirects = options.maxRedirects ?? 10;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'accept-encoding': 'identity', ...options.headers };
    if (options.authHeaders && current.origin === options.authOrigin) Object.assign(headers, options.authHeaders);
    const res = await once(current, headers, options.signal, options.idleTimeoutMs ?? 60_000);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && status !== 304 && res.headers.location) {
      res.resume();
      if (hop >= maxRedirects) throw Object.assign(new Error(`too many redirects from ${url}`), { code: 'ETOOMANYREDIRECTS' });
      current = new URL(res.headers.location, current);
      continue;
    }
    return { status, headers: res.headers, body: res, url: current.toString() };
  }
}

/** Read at most `limit` bytes of a body as text (for error messages), then drop the rest. */
export async function bodyText(body: IncomingMessage, limit = 2000): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= limit) break;
    }
  } catch {
    // an error body that fails half-way still gave us its status
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}
