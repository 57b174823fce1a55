/**
 * What the answer to one Range request means for the transfer: read its body into the piece, give up on the whole
 * file and start it again (wrong size, Range ignored), retry like a reset (another range than asked), resolve an
 * expired CDN URL again, or an error status (typed when the hub says what is wrong, else retried with backoff).
 * Pure decisions on status and headers; the caller does the I/O.
 */
import type { LlamaError } from '../errors.ts';
import { hubError } from '../hub/errors.ts';
import type { Digests } from '../integrity/hash.ts';
import { parseRetryAfter } from '../util/retry.ts';
import type { HttpAnswer } from './http-types.ts';

/** Restart the whole file (not a network retry): hash mismatch, Range ignored, inconsistent partial. */
export class RestartFile extends Error {
  readonly reason: 'mismatch' | 'range-ignored' | 'inconsistent';
  readonly actual: Digests | undefined;
  constructor(reason: RestartFile['reason'], message: string, actual?: Digests) {
    super(message);
    this.reason = reason;
    this.actual = actual;
  }
}

/** An error status the hub gave no meaning to (5xx, 429, …): retried with backoff, honouring Retry-After. */
export class RetryableStatus extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(status: number, retryAfterMs: number | undefined) {
    super(`HTTP ${status}`);
    this.retryAfterMs = retryAfterMs;
  }
}

export function parseContentRange(value: string | undefined): { start: number; end: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

export interface AskedRange {
  /** First and last byte asked for. */
  from: number;
  to: number;
  /** The file's size from the tree. */
  size: number;
  /** The URL the request was sent to (the resolve URL, or a CDN URL kept from an earlier answer). */
  resolveUrl: string;
}

export type AnswerAction =
  /** Read the body: its bytes start at `from`. `fromCdn`: remember the URL for the next ranges. */
  | { kind: 'body'; fromCdn: boolean }
  /** Destroy the body and throw `error` (a RestartFile, or a reset-like error that is retried). */
  | { kind: 'discard'; error: Error }
  /** A 403 from the CDN: its signed URL expired; drain the body and ask the hub again. */
  | { kind: 're-resolve' }
  /** An error status: read the body's text for `statusError`. */
  | { kind: 'error-status' };

export function classifyAnswer(answer: Pick<HttpAnswer, 'status' | 'headers' | 'url'>, asked: AskedRange): AnswerAction {
  // Any answer not from the resolve URL itself came through a redirect: the CDN (on whatever host).
  const fromCdn = answer.url !== asked.resolveUrl;
  if (answer.status === 206) {
    const range = parseContentRange(answer.headers['content-range']);
    if (!range || range.start !== asked.from) {
      const error = Object.assign(new Error(`server answered a different range (${answer.headers['content-range'] ?? 'none'})`), { code: 'ECONNRESET' });
      return { kind: 'discard', error };
    }
    if (range.total !== undefined && range.total !== asked.size) {
      return {
        kind: 'discard',
        error: new RestartFile('mismatch', `the server says the file has ${range.total} bytes, the tree says ${asked.size}`, { size: range.total, sha256: '', gitSha1: '' }),
      };
    }
    return { kind: 'body', fromCdn };
  }
  if (answer.status === 200) {
    if (!(asked.from === 0 && asked.to === asked.size - 1) && asked.size > 0) {
      return { kind: 'discard', error: new RestartFile('range-ignored', 'the server ignored a Range request (200 instead of 206); its answer is not appended') };
    }
    return { kind: 'body', fromCdn };
  }
  if (answer.status === 403 && fromCdn) return { kind: 're-resolve' };
  return { kind: 'error-status' };
}

export interface StatusContext {
  endpoint: string;
  repo: string;
  path: string;
  tokenGiven: boolean;
}

/** The error for an error status: typed when the hub says what is wrong (exit 2/5/…), else a RetryableStatus. */
export function statusError(answer: Pick<HttpAnswer, 'status' | 'headers' | 'url'>, text: string, ctx: StatusContext): LlamaError | RetryableStatus {
  const typed = hubError(
    {
      status: answer.status,
      errorCode: answer.headers['x-error-code'],
      errorMessage: answer.headers['x-error-message'],
      body: text,
      url: answer.url,
    },
    ctx,
  );
  return typed ?? new RetryableStatus(answer.status, parseRetryAfter(answer.headers['retry-after']));
}
