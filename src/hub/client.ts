/**
 * Hub metadata through `@huggingface/hub` (revision → commit, the recursive tree with `lfs.oid`), with our own
 * `fetch` underneath: it adds the token only for the hub's own origin, retries 429/5xx/resets with backoff, and turns
 * error answers into typed errors while the `X-Error-Code` header is still visible (the library drops it, §1.4 of
 * ../shared/research/hub-protocol.md). The token is never handed to the library itself, which would also reject
 * tokens not starting with `hf_`.
 */
import { listFiles, modelInfo } from '@huggingface/hub';
import { NetworkError, isLlamaError } from '../errors.ts';
import type { ProgressSink } from '../progress/events.ts';
import { redactSecrets, registerSecret } from '../redact.ts';
import { resolveEndpoint } from './config.ts';
import { describeTokenSource, resolveTokenWithSource } from './token.ts';
import { isCommit } from './ids.ts';
import { DEFAULT_RETRY, backoffDelay, isTransientNetworkError, parseRetryAfter, sleep, type RetryPolicy } from '../util/retry.ts';
import { hubError, isRetryableStatus, type HubErrorContext } from './errors.ts';

export interface HubClientOptions {
  endpoint: string;
  token?: string | undefined;
  /** Where the token came from (`describeTokenSource`), named in a rejected token's error. */
  tokenSource?: string | undefined;
  retry?: RetryPolicy;
  /** How long one metadata request may take to answer (default 60 s); a request that times out is retried like a reset. */
  requestTimeoutMs?: number;
  onProgress?: ProgressSink;
  signal?: AbortSignal;
}

/** The same client for every command: endpoint and token resolved from flags, then the hf tools' variables and files. */
export interface ConnectHubOptions {
  endpoint?: string | undefined;
  token?: string | undefined;
  env?: Record<string, string | undefined>;
  retry?: RetryPolicy;
  onProgress?: ProgressSink;
  signal?: AbortSignal;
}

export function connectHub(options: ConnectHubOptions = {}): HubClient {
  const env = options.env ?? process.env;
  const resolved = resolveTokenWithSource(options.token, env);
  return new HubClient({
    endpoint: resolveEndpoint(options.endpoint, env),
    token: resolved?.token,
    tokenSource: resolved !== undefined ? describeTokenSource(resolved) : undefined,
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
}

export interface RemoteFile {
  path: string;
  size: number;
  /** Git blob sha1 (`oid`). */
  gitOid: string;
  /** sha256 of the content for LFS files (`lfs.oid`). */
  lfsSha256?: string;
}


function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms / 1000} s`), { code: 'ETIMEDOUT' });
}

export class HubClient {
  readonly endpoint: string;
  readonly #token: string | undefined;
  readonly #tokenSource: string | undefined;
  readonly #retry: RetryPolicy;
  readonly #requestTimeoutMs: number;
  readonly #onProgress: ProgressSink | undefined;
  readonly #signal: AbortSignal | undefined;

  constructor(options: HubClientOptions) {
    this.endpoint = options.endpoint;
    this.#token = options.token;
    registerSecret(options.token);
    this.#tokenSource = options.tokenSource;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.#onProgress = options.onProgress;
    this.#signal = options.signal;
  }

  get signal(): AbortSignal | undefined {
    return this.#signal;
  }

  get hasToken(): boolean {
    return this.#token !== undefined;
  }

  /** Headers for a request to `url`: the token only when it goes to the hub's own origin. */
  authHeaders(url: string): Record<string, string> {
    if (!this.#token) return {};
    return new URL(url).origin === new URL(this.endpoint).origin ? { authorization: `Bearer ${this.#token}` } : {};
  }

  /** A `fetch` for `@huggingface/hub`: auth, retries, typed errors for `ctx`. */
  fetchFor(ctx: Omit<HubErrorContext, 'endpoint' | 'tokenGiven'>): typeof fetch {
    const fullCtx: HubErrorContext = {
      ...ctx,
      endpoint: this.endpoint,
      tokenGiven: this.hasToken,
      ...(this.#tokenSource !== undefined ? { tokenSource: this.#tokenSource } : {}),
    };
    return async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      const headers = new Headers(init?.headers);
      headers.delete('authorization');
      for (const [k, v] of Object.entries(this.authHeaders(url))) headers.set(k, v);
      for (let attempt = 0; ; attempt++) {
        let response: Response;
        const timeout = AbortSignal.timeout(this.#requestTimeoutMs);
        const signal = this.#signal ? AbortSignal.any([this.#signal, timeout]) : timeout;
        try {
          response = await fetch(url, { ...init, headers, signal });
        } catch (error) {
          if (this.#signal?.aborted) throw this.#signal.reason ?? error;
          const timedOut = timeout.aborted;
          if (!(timedOut || isTransientNetworkError(error)) || attempt + 1 >= this.#retry.attempts) throw this.#networkError(timedOut ? timeoutError(this.#requestTimeoutMs) : error, url);
          await this.#pause(attempt, undefined, `${(error as Error).message}`);
          continue;
        }
        if (response.ok) return response;
        const body = (await response.text().catch(() => '')).slice(0, 2000);
        const typed = hubError(
          {
            status: response.status,
            errorCode: response.headers.get('x-error-code') ?? undefined,
            errorMessage: response.headers.get('x-error-message') ?? undefined,
            body,
            url,
          },
          fullCtx,
        );
        if (typed) throw typed;
        if (!isRetryableStatus(response.status) || attempt + 1 >= this.#retry.attempts) {
          throw new NetworkError('HUB_UNAVAILABLE', `The hub at ${this.endpoint} still answered ${response.status} after ${attempt + 1} tries.`, {
            hint: 'The hub is overloaded or down; try again later.',
            details: { status: response.status, repo: ctx.repo },
          });
        }
        await this.#pause(attempt, parseRetryAfter(response.headers.get('retry-after')), `HTTP ${response.status}`);
      }
    };
  }

  async #pause(attempt: number, retryAfterMs: number | undefined, why: string): Promise<void> {
    const delay = backoffDelay(this.#retry, attempt, retryAfterMs);
    this.#onProgress?.({ type: 'message', level: 'warn', text: `hub request failed (${redactSecrets(why)}); retrying in ${(delay / 1000).toFixed(1)} s` });
    await sleep(delay, this.#signal);
  }

  #networkError(error: unknown, url: string): NetworkError {
    if (isLlamaError(error)) return error as NetworkError;
    // undici says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, …) is on its cause.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    return new NetworkError('HUB_UNREACHABLE', `Cannot reach the hub at ${this.endpoint}: ${why}.`, {
      hint: 'Check the network connection and --endpoint / HF_ENDPOINT, or use --offline with a complete cache.',
      details: { host: new URL(url).host },
      cause: error,
    });
  }

  /** Resolve a branch, tag or commit to the 40-hex commit it names now. */
  async resolveCommit(repo: string, revision: string): Promise<string> {
    const info = await modelInfo({
      name: repo,
      revision,
      hubUrl: this.endpoint,
      additionalFields: ['sha'],
      fetch: this.fetchFor({ repo, revision }),
    });
    const sha = (info as { sha?: unknown }).sha;
    if (typeof sha !== 'string' || !isCommit(sha)) {
      throw new NetworkError('HUB_BAD_RESPONSE', `The hub did not name a commit for ${repo}@${revision}.`, {
        hint: 'Check --endpoint / HF_ENDPOINT points at a Hugging Face compatible hub.',
      });
    }
    return sha;
  }

  /** Every file of the repo at `commit` (the tree is paged; the library follows the Link headers). */
  async listFiles(repo: string, commit: string): Promise<RemoteFile[]> {
    const out: RemoteFile[] = [];
    for await (const entry of listFiles({
      repo: { type: 'model', name: repo },
      revision: commit,
      recursive: true,
      expand: false,
      hubUrl: this.endpoint,
      fetch: this.fetchFor({ repo, revision: commit }),
    })) {
      if (entry.type !== 'file') continue;
      const file: RemoteFile = { path: entry.path, size: entry.size, gitOid: entry.oid ?? '' };
      if (entry.lfs?.oid) file.lfsSha256 = entry.lfs.oid;
      out.push(file);
    }
    return out;
  }
}
