/** What the transfer engine needs from an HTTP client (http.ts is the own one, fetch-get.ts Node's fetch). */

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
