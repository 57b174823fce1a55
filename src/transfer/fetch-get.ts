/**
 * The transfer engine's `get` over a WHATWG fetch (Node's built-in fetch is undici): the engine's other client, for
 * comparison with the own one (bench/pull `--client fetch`) and for runtimes where raw sockets are not wanted.
 * Redirects are followed by hand (`redirect: 'manual'`) so the token goes only to the hub's origin and the engine
 * sees the CDN URL; a body that delivers nothing for `idleTimeoutMs` fails like a reset (ETIMEDOUT).
 */
import type { Body, GetOptions, HttpAnswer, HttpGet } from './http-types.ts';

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no data for ${ms} ms`), { code: 'ETIMEDOUT' });
}

/** A `get` over `fetchImpl` (default: the global fetch). */
export function fetchGet(fetchImpl: typeof fetch = fetch): HttpGet {
  return async (url: string, options: GetOptions): Promise<HttpAnswer> => {
    let current = new URL(url);
    const maxRedirects = options.maxRedirects ?? 10;
    const idleMs = options.idleTimeoutMs ?? 60_000;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'accept-encoding': 'identity', ...options.headers };
      if (options.authHeaders && current.origin === options.authOrigin) Object.assign(headers, options.authHeaders);
      // One controller per request: the caller's abort, the idle timer and destroy() all end it.
      const controller = new AbortController();
      const onAbort = (): void => controller.abort(options.signal?.reason);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      let timer: NodeJS.Timeout | undefined;
      let idleError: Error | undefined;
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          idleError = timeoutError(idleMs);
          controller.abort(idleError);
        }, idleMs);
        timer.unref();
      };
      const done = (): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      arm();
      let response: Response;
      try {
        if (options.signal?.aborted) throw options.signal.reason as Error;
        response = await fetchImpl(current, { headers, redirect: 'manual', signal: controller.signal });
      } catch (error) {
        done();
        throw idleError ?? error;
      }
      const flat: Record<string, string | undefined> = {};
      response.headers.forEach((value, name) => (flat[name] = value));
      const location = flat.location;
      if (response.status >= 300 && response.status < 400 && response.status !== 304 && location) {
        done();
        await response.body?.cancel().catch(() => {});
        if (hop >= maxRedirects) throw Object.assign(new Error(`too many redirects from ${url}`), { code: 'ETOOMANYREDIRECTS' });
        current = new URL(location, current);
        continue;
      }
      const reader = response.body?.getReader();
      const body: Body = {
        destroy: () => {
          done();
          controller.abort();
          reader?.cancel().catch(() => {});
        },
        async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
          try {
            for (;;) {
              if (!reader) return;
              let part: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;
              try {
                part = await reader.read();
              } catch (error) {
                throw idleError ?? error;
              }
              if (part.done) return;
              arm();
              yield Buffer.from(part.value.buffer, part.value.byteOffset, part.value.byteLength);
            }
          } finally {
            done();
            reader?.cancel().catch(() => {});
          }
        },
      };
      return { status: response.status, headers: flat, body, url: current.toString() };
    }
  };
}
