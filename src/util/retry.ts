/**
 * Retry timing: exponential backoff with full jitter (delay = random(0, min(max, base·2^attempt)), the AWS
 * "Exponential Backoff and Jitter" scheme), except that a server's Retry-After (seconds or an HTTP date, RFC 9110
 * §10.2.3) is honoured as the minimum wait.
 */
export interface RetryPolicy {
  /** Tries per request, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retry-After values above this are capped (a hub asking for an hour should fail, not hang a CI job). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 20_000, maxRetryAfterMs: 120_000 };

export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** How long to wait before try number `attempt + 1` (attempt counts from 0). */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = random() * ceiling;
  if (retryAfterMs === undefined) return jittered;
  return Math.min(policy.maxRetryAfterMs, retryAfterMs) + jittered * 0.1;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Errors from the socket layer that a new connection may cure. */
export function isTransientNetworkError(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string }; message?: string; name?: string } | null;
  if (!e || e.name === 'AbortError') return false;
  const code = e.code ?? e.cause?.code ?? '';
  if (
    [
      'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH',
      'ENETUNREACH', 'ENETDOWN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT',
      'UND_ERR_BODY_TIMEOUT', 'ERR_STREAM_PREMATURE_CLOSE',
    ].includes(code)
  ) {
    return true;
  }
  return /socket hang up|terminated|aborted|premature|other side closed|timeout/i.test(e.message ?? '');
}
