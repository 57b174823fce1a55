/**
 * A small client for the OCI distribution API (distribution-spec v1.1, as Docker's registry 2.8 and every hosted
 * registry speak it), on `fetch`:
 * - auth as registries do it: anonymous first; on 401 the `WWW-Authenticate` challenge says Basic (send the
 *   credentials) or Bearer (fetch a token from `realm` with `service` and the `scope`s needed, with the credentials
 *   as Basic auth when there are any; `token` or `access_token` in the answer), then the request is sent again;
 * - retries with backoff for resets, 429 and 5xx (bodies are Blobs or buffers, so they can be sent again);
 * - blobs: HEAD to skip what is there, cross-repository mount, monolithic PUT for small blobs and chunked
 *   `PATCH` (`Content-Range: start-end`) + `PUT ?digest=` for big ones, resuming after a failed chunk from the
 *   offset the registry reports (`GET` upload status, `Range: 0-N`); every body is a file-backed Blob slice, so
 *   a multi-GB layer streams from disk;
 * - manifests: PUT and GET with the digest the registry answers checked against the bytes.
 */
import { AccessError, IntegrityError, NetworkError, UsageError } from '../errors.ts';
import { noProgress, type ProgressSink } from '../progress/events.ts';
import { redactSecrets } from '../redact.ts';
import { DEFAULT_RETRY, backoffDelay, isTransientNetworkError, parseRetryAfter, sleep, type RetryPolicy } from '../util/retry.ts';
import type { RegistryCredentials } from './oci-auth.ts';
import { isLoopbackRegistry } from './target.ts';

export interface RegistryClientOptions {
  registry: string;
  plainHttp?: boolean;
  credentials?: RegistryCredentials | undefined;
  retry?: RetryPolicy;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** `Bearer realm="…",service="…",scope="…"` → scheme and parameters. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = (match[1] ?? '').toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let m = re.exec(match[2] ?? ''); m; m = re.exec(match[2] ?? '')) params[(m[1] ?? '').toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme, params };
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Blob | Uint8Array | string;
  /** Repositories and actions this request needs, e.g. `repository:acme/model:pull,push`. */
  scopes: string[];
  /** Statuses the caller handles itself (no retry, no error). */
  accept?: number[];
}

export class RegistryClient {
  readonly registry: string;
  readonly base: string;
  readonly #credentials: RegistryCredentials | undefined;
  readonly #retry: RetryPolicy;
  readonly #signal: AbortSignal | undefined;
  readonly #onProgress: ProgressSink;
  /** Authorization header per scope set, once a challenge was answered. */
  readonly #auth = new Map<string, string>();
  #challenge: Challenge | undefined;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    const plain = options.plainHttp === true || isLoopbackRegistry(options.registry);
    this.base = `${plain ? 'http' : 'https'}://${options.registry}`;
    this.#credentials = options.credentials;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#signal = options.signal;
    this.#onProgress = options.onProgress ?? noProgress;
  }

  get authenticatedWith(): string | undefined {
    return this.#credentials?.source;
  }

  async request(method: string, pathOrUrl: string, options: RequestOptions): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base}${pathOrUrl}`;
    const scopeKey = options.scopes.join(' ');
    let reauthenticated = false;
    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(options.headers);
      const auth = this.#auth.get(scopeKey) ?? (this.#challenge?.scheme === 'basic' ? this.#basic() : undefined);
      if (auth) headers.set('authorization', auth);
      let response: Response;
      try {
        response = await fetch(url, { method, headers, ...(options.body !== undefined ? { body: options.body } : {}), redirect: 'follow', ...(this.#signal ? { signal: this.#signal } : {}) });
      } catch (error) {
        if (this.#signal?.aborted) throw this.#signal.reason ?? error;
        if (attempt + 1 >= this.#retry.attempts || !isTransientNetworkError(error)) throw this.#unreachable(error);
        await this.#pause(attempt, undefined, describe(error));
        continue;
      }
      if (options.accept?.includes(response.status)) return response;
      if (response.status === 401 && parseChallenge(response.headers.get('www-authenticate'))?.params.error === 'insufficient_scope' && reauthenticated) {
        await response.body?.cancel();
        throw new AccessError('OCI_DENIED', `${this.registry} denied ${method} ${new URL(url).pathname}: the credentials from ${this.#credentials?.source ?? '(none)'} do not grant ${options.scopes.join(' ')}.`, {
          hint: 'The account needs push (and pull) rights on this repository.',
          details: { registry: this.registry, scopes: options.scopes },
        });
      }
      if (response.status === 401 && !reauthenticated) {
        await response.body?.cancel();
        await this.#answerChallenge(parseChallenge(response.headers.get('www-authenticate')), options.scopes);
        reauthenticated = true;
        attempt -= 1;
        continue;
      }
      if (response.ok) return response;
      const text = (await response.text().catch(() => '')).slice(0, 2000);
      if ((response.status === 429 || response.status >= 500) && attempt + 1 < this.#retry.attempts) {
        await this.#pause(attempt, parseRetryAfter(response.headers.get('retry-after')), `HTTP ${response.status}`);
        continue;
      }
      throw this.#error(response.status, text, method, url);
    }
  }

  #basic(): string | undefined {
    const c = this.#credentials;
    return c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` : undefined;
  }

  async #answerChallenge(challenge: Challenge | undefined, scopes: string[]): Promise<void> {
    this.#challenge = challenge;
    const scopeKey = scopes.join(' ');
    if (!challenge) {
      throw new AccessError('OCI_AUTH_REQUIRED', `${this.registry} asks for authentication but names no way to do it (no WWW-Authenticate challenge).`, {
        hint: 'Check the registry address; pass --username and --password-stdin.',
      });
    }
    if (challenge.scheme === 'basic') {
      const basic = this.#basic();
      if (!basic) throw this.#needCredentials();
      this.#auth.set(scopeKey, basic);
      return;
    }
    const realm = challenge.params.realm;
    if (!realm) throw new AccessError('OCI_AUTH_REQUIRED', `${this.registry}'s Bearer challenge names no realm.`, { hint: 'Check the registry address.' });
    const tokenUrl = new URL(realm);
    if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
    for (const scope of scopes) tokenUrl.searchParams.append('scope', scope);
    const headers: Record<string, string> = {};
    const basic = this.#basic();
    if (basic) headers.authorization = basic;
    let response: Response;
    try {
      response = await fetch(tokenUrl, { headers, ...(this.#signal ? { signal: this.#signal } : {}) });
    } catch (error) {
      throw this.#unreachable(error);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw this.#credentials ? this.#rejected() : this.#needCredentials();
    }
    if (!response.ok) {
      throw new NetworkError('OCI_TOKEN_FAILED', `The token service of ${this.registry} (${tokenUrl.host}) answered ${response.status}.`, {
        hint: 'Try again later; check the registry status.',
        details: { status: response.status },
      });
    }
    const json = (await response.json()) as { token?: string; access_token?: string };
    const token = json.token ?? json.access_token;
    if (!token) throw new NetworkError('OCI_TOKEN_FAILED', `The token service of ${this.registry} answered without a token.`, { hint: 'Check the registry address.' });
    this.#auth.set(scopeKey, `Bearer ${token}`);
  }

  #needCredentials(): AccessError {
    return new AccessError('OCI_AUTH_REQUIRED', `${this.registry} needs credentials and none were found.`, {
      hint: 'Run `docker login` for it, set DOCKER_CONFIG to a config with its credentials, or pass --username and --password-stdin.',
      details: { registry: this.registry },
    });
  }

  #rejected(): AccessError {
    return new AccessError('OCI_AUTH_FAILED', `${this.registry} rejected the credentials from ${this.#credentials?.source ?? '?'}.`, {
      hint: 'Check the user name and password or token (for a token, the scopes it grants: pull and push on this repository).',
      details: { registry: this.registry },
    });
  }

  #error(status: number, text: string, method: string, url: string): Error {
    const code = /"code"\s*:\s*"(\w+)"/.exec(text)?.[1];
    const path = new URL(url).pathname;
    if (status === 401) return this.#credentials ? this.#rejected() : this.#needCredentials();
    if (status === 403 || code === 'DENIED') {
      return new AccessError('OCI_DENIED', `${this.registry} denied ${method} ${path}${this.#credentials ? ` for the credentials from ${this.#credentials.source}` : ''}.`, {
        hint: 'The account needs push (and pull) rights on this repository.',
        details: { status, registryCode: code },
      });
    }
    if (status === 404) {
      return new UsageError('OCI_NOT_FOUND', `${this.registry} has no ${path.replace(/^\/v2\//, '')}${code ? ` (${code})` : ''}.`, {
        hint: 'Check the repository and the tag or digest.',
        details: { status, registryCode: code },
      });
    }
    if (status === 400 && (code === 'DIGEST_INVALID' || code === 'BLOB_UPLOAD_INVALID')) {
      return new IntegrityError('OCI_DIGEST_REJECTED', `${this.registry} refused the bytes of an upload: they do not match the digest sent (${code}).`, {
        hint: 'The file may have changed during the push; make sure nothing writes to the package and push again.',
        details: { status, registryCode: code },
      });
    }
    if (status === 413) {
      return new NetworkError('OCI_TOO_LARGE', `${this.registry} refused a request as too large (413) at ${path}.`, {
        hint: 'A proxy in front of the registry may limit request sizes; push with a smaller chunk size.',
        details: { status },
      });
    }
    if (status >= 500 || status === 429) {
      return new NetworkError('OCI_UNAVAILABLE', `${this.registry} still answered ${status} after ${this.#retry.attempts} tries.`, {
        hint: 'The registry is overloaded or down; push again later (blobs already there are not sent again).',
        details: { status },
      });
    }
    return new UsageError('OCI_REFUSED', `${this.registry} refused ${method} ${path} (${status}${code ? ` ${code}` : ''}): ${redactSecrets(text.slice(0, 300))}`, {
      hint: 'The registry may not accept this kind of artifact (OCI image-spec 1.1 artifactType, custom media types).',
      details: { status, registryCode: code },
    });
  }

  #unreachable(error: unknown): NetworkError {
    const why = describe(error);
    const tls = /SSL|TLS|EPROTO|wrong version number/i.test(why);
    return new NetworkError('OCI_UNREACHABLE', `Cannot reach the registry ${this.registry} (${this.base}): ${why}.`, {
      hint: tls ? 'The registry may speak plain HTTP: pass --plain-http if you trust the network.' : 'Check the registry address and that it is running.',
      details: { registry: this.registry },
      cause: error,
    });
  }

  async #pause(attempt: number, retryAfterMs: number | undefined, why: string): Promise<void> {
    const delay = backoffDelay(this.#retry, attempt, retryAfterMs);
    this.#onProgress({ type: 'message', level: 'warn', text: `registry request failed (${redactSecrets(why)}); retrying in ${(delay / 1000).toFixed(1)} s` });
    await sleep(delay, this.#signal);
  }
}

export function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

export const pushScope = (repository: string): string => `repository:${repository}:pull,push`;
export const pullScope = (repository: string): string => `repository:${repository}:pull`;

/** Blob operations for one repository. */
export class BlobStore {
  readonly client: RegistryClient;
  readonly repository: string;
  readonly scopes: string[];

  constructor(client: RegistryClient, repository: string, scopes: string[]) {
    this.client = client;
    this.repository = repository;
    this.scopes = scopes;
  }

  async exists(digest: string): Promise<boolean> {
    const response = await this.client.request('HEAD', `/v2/${this.repository}/blobs/${digest}`, { scopes: this.scopes, accept: [404] });
    await response.body?.cancel();
    return response.status === 200;
  }

  /** Try a cross-repository mount; true when the registry mounted it (201), false when it opened an upload instead. */
  async mount(digest: string, from: string): Promise<{ mounted: boolean; location?: string }> {
    const response = await this.client.request('POST', `/v2/${this.repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, {
      scopes: [...this.scopes, pullScope(from)],
      headers: { 'content-length': '0' },
    });
    await response.body?.cancel();
    if (response.status === 201) return { mounted: true };
    const location = response.headers.get('location');
    return location ? { mounted: false, location } : { mounted: false };
  }

  /** Upload `blob` as `digest`: one PUT up to `chunkBytes`, chunked PATCHes above. Calls `onBytes` with the total sent. */
  async upload(blob: Blob, digest: string, chunkBytes: number, onBytes: (done: number) => void, openedAt?: string): Promise<void> {
    let location = openedAt ?? (await this.#open());
    const size = blob.size;
    if (size <= chunkBytes) {
      const url = this.#withDigest(location, digest);
      const response = await this.client.request('PUT', url, {
        scopes: this.scopes, body: blob, headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      });
      await response.body?.cancel();
      onBytes(size);
      return;
    }
    let offset = 0;
    while (offset < size) {
      const end = Math.min(size, offset + chunkBytes);
      try {
        const response = await this.client.request('PATCH', this.#absolute(location), {
          scopes: this.scopes,
          body: blob.slice(offset, end),
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${end - 1}`, 'content-length': String(end - offset) },
        });
        await response.body?.cancel();
        location = response.headers.get('location') ?? location;
        offset = end;
        onBytes(offset);
      } catch (error) {
        // A chunk that failed after its retries: ask the registry how much it has, and go on from there once.
        const status = await this.client.request('GET', this.#absolute(location), { scopes: this.scopes, accept: [404] });
        await status.body?.cancel();
        const range = /^(\d+)-(\d+)$/.exec(status.headers.get('range') ?? '');
        if (status.status !== 204 || !range) throw error;
        const have = Number(range[2]) + 1;
        if (have <= offset) throw error;
        location = status.headers.get('location') ?? location;
        offset = have;
      }
    }
    const response = await this.client.request('PUT', this.#withDigest(location, digest), { scopes: this.scopes, headers: { 'content-length': '0' } });
    await response.body?.cancel();
  }

  async #open(): Promise<string> {
    const response = await this.client.request('POST', `/v2/${this.repository}/blobs/uploads/`, { scopes: this.scopes, headers: { 'content-length': '0' } });
    await response.body?.cancel();
    const location = response.headers.get('location');
    if (!location) throw new NetworkError('OCI_BAD_RESPONSE', `${this.client.registry} opened an upload without a Location.`, { hint: 'The registry does not follow the distribution API.' });
    return location;
  }

  #absolute(location: string): string {
    return new URL(location, this.client.base).href;
  }

  #withDigest(location: string, digest: string): string {
    const url = new URL(location, this.client.base);
    url.searchParams.set('digest', digest);
    return url.href;
  }
}

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');
