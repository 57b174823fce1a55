/**
 * `llama publish … --to hf://ORG/NAME[@BRANCH]`: a package onto a Hugging Face Hub model repo, through
 * `@huggingface/hub` (`createRepo`, `commitIter`: preupload, LFS batch with basic/multipart, the NDJSON commit; it asks
 * for Xet and falls back when the hub does not offer it). Facts: ../shared/research/publish-sign-quant2.md §1.
 *
 * Requests go through the project's hub client (src/hub/client.ts): `fetchFor` adds the token only for the hub's own
 * origin, retries 429/5xx and names typed errors, so the token is never handed to the library. Two kinds of request
 * need other handling, and get it here:
 * - presigned PUTs of LFS objects and parts: no 60 s limit (a 5 GB part takes longer), retried on resets and 5xx
 *   with the same file-backed body;
 * - the commit: the hub finishes a commit even when its HTTP request times out (storage-limits.md: "the process is
 *   still completed server-side"), so a commit whose answer never came is not simply sent again: the branch is read
 *   again first, and if it moved to a commit holding these files, that commit is the result.
 *
 * Idempotent and resumable: the repo's tree at the branch head is compared with the package first (LFS sha256, git
 * sha1 for small files) and only what differs is committed; objects uploaded by a run that died before its commit
 * are still on the hub, whose batch answer then asks for no bytes. Commits hold at most `filesPerCommit` files
 * (default 100, the Hub's advice); each names the head it was built on (`parentCommit`), so a concurrent push fails
 * it rather than being overwritten. README.md and manifest.json go in the last commit, so the card appears once every
 * file it describes is there.
 */
import { commitIter, createRepo, type CommitOperation } from '@huggingface/hub';
import { AccessError, isLlamaError, NetworkError, UsageError } from '../errors.ts';
import { connectHub, type HubClient, type RemoteFile } from '../hub/client.ts';
import { hubError } from '../hub/errors.ts';
import { describeTokenSource, resolveTokenWithSource } from '../hub/token.ts';
import { toolVersion } from '../package/package.ts';
import { noProgress, type ProgressSink } from '../progress/events.ts';
import { redactSecrets } from '../redact.ts';
import { formatBytes } from '../util/bytes.ts';
import { DEFAULT_RETRY, backoffDelay, isTransientNetworkError, parseRetryAfter, sleep, type RetryPolicy } from '../util/retry.ts';
import { publishError, uploadRejected, type PublishErrorContext } from './hub-errors.ts';
import { digestOf, fileBlob, type PublishSource, type SourceFile } from './source.ts';
import type { HubTarget } from './target.ts';

/** The Hub refuses files above 500 GB (hub-docs storage-limits.md). */
export const HUB_MAX_FILE_BYTES = 500e9;
/** "Keep … repos under 100k files". */
export const HUB_MAX_REPO_FILES = 100_000;
/** "commits to about 50–100 files". */
export const DEFAULT_FILES_PER_COMMIT = 100;

export interface HubPublishOptions {
  source: PublishSource;
  target: HubTarget;
  /** Visibility of a repo this run creates (an existing repo keeps its own). */
  private?: boolean;
  createPr?: boolean;
  /** Tag for the published commit; default `v<package version>` when the package has one. */
  tag?: string;
  dryRun?: boolean;
  endpoint?: string;
  token?: string;
  env?: Record<string, string | undefined>;
  filesPerCommit?: number;
  maxFileBytes?: number;
  /** How long a commit request may go unanswered before the branch is re-read (default 120 s). */
  commitTimeoutMs?: number;
  retry?: RetryPolicy;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

export type HubFileStatus = 'uploaded' | 'unchanged' | 'would-upload';

export interface HubPublishResult {
  target: string;
  repo: string;
  branch: string;
  url: string;
  dryRun: boolean;
  /** The repo did not exist: created by this run (or, with --dry-run, would be). */
  created: boolean;
  files: { path: string; size: number; status: HubFileStatus }[];
  commits: { oid: string; files: number; recoveredAfterTimeout: boolean }[];
  /** The commit the published files are at (the branch head, or the pull request's head). */
  commit: string | undefined;
  pullRequestUrl?: string;
  tag?: { name: string; commit: string | undefined; status: 'created' | 'present' | 'would-create' | 'skipped'; note?: string };
  /** Bytes sent to the hub's storage (LFS objects) and inline in commits. */
  bytesUploaded: number;
  /** Files on the hub that the package does not have (left as they are). */
  remoteOnly: string[];
}

/** A commit request whose answer did not come (timeout, reset, 5xx): the hub may or may not have made it. */
class CommitOutcomeUnknown extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'CommitOutcomeUnknown';
  }
}

interface Whoami {
  name: string;
  orgs: string[];
  role: string | undefined;
}

const COMMIT_PATH = /\/api\/models\/[^/]+\/[^/]+\/commit\//;

/** Refuse, before any request, what the hub would refuse after the bytes were sent. */
export function checkHubLimits(source: PublishSource, maxFileBytes = HUB_MAX_FILE_BYTES): void {
  const big = source.files.filter((f) => f.size > maxFileBytes);
  if (big.length > 0) {
    throw new UsageError('PUBLISH_FILE_TOO_LARGE', `${big.map((f) => `${f.path} (${formatBytes(f.size)})`).join(', ')} ${big.length === 1 ? 'is' : 'are'} over the hub's limit of ${formatBytes(maxFileBytes)} per file; nothing was uploaded.`, {
      hint: 'Split the weights into shards with `llama quantize --split-max-size 50G` (llama.cpp reads gguf-split shards), package again and publish.',
      details: { files: big.map((f) => ({ path: f.path, size: f.size })), limit: maxFileBytes },
    });
  }
  if (source.files.length > HUB_MAX_REPO_FILES) {
    throw new UsageError('PUBLISH_TOO_MANY_FILES', `The package has ${source.files.length} files; the hub takes at most ${HUB_MAX_REPO_FILES} per repo.`, {
      hint: 'Pack small files into archives before packaging.',
      details: { files: source.files.length },
    });
  }
}

/** README.md and manifest.json last: the card describes files that are all there by the time it appears. */
function publishOrder(files: readonly SourceFile[]): SourceFile[] {
  const last = new Set(['README.md', 'manifest.json']);
  return [...files.filter((f) => !last.has(f.path)), ...files.filter((f) => last.has(f.path))];
}

export async function publishToHub(options: HubPublishOptions): Promise<HubPublishResult> {
  const { source, target } = options;
  const onProgress = options.onProgress ?? noProgress;
  const retry = options.retry ?? DEFAULT_RETRY;
  const filesPerCommit = Math.max(1, options.filesPerCommit ?? DEFAULT_FILES_PER_COMMIT);
  checkHubLimits(source, options.maxFileBytes);

  const hub = connectHub({
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    retry,
    onProgress,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  const repo = target.repo;
  // Named in errors (never the token itself); the same resolution connectHub made.
  const resolved = resolveTokenWithSource(options.token, options.env ?? process.env);
  const tokenSource = resolved ? describeTokenSource(resolved) : undefined;
  const ctxFor = (step: PublishErrorContext['step']): PublishErrorContext => ({ repo, endpoint: hub.endpoint, tokenSource, step });
  const url = `${hub.endpoint}/${repo}`;
  const result: HubPublishResult = {
    target: `hf://${repo}${target.branch === 'main' ? '' : `@${target.branch}`}`, repo, branch: target.branch, url,
    dryRun: options.dryRun === true, created: false, files: [], commits: [], commit: undefined, bytesUploaded: 0, remoteOnly: [],
  };

  if (!hub.hasToken && !options.dryRun) {
    throw new AccessError('PUBLISH_NO_TOKEN', `Publishing to ${repo} needs a hub token with write access; none was given.`, {
      hint: 'Pass --token, set HF_TOKEN, or run `hf auth login` with a write token.',
    });
  }
  const me = hub.hasToken ? await whoami(hub, repo).catch((e: unknown) => { throw publishError(e, ctxFor('read')); }) : undefined;
  if (me?.role === 'read') {
    throw new AccessError('PUBLISH_READ_ONLY_TOKEN', `The token${tokenSource ? ` from ${tokenSource}` : ''} is a read token; publishing needs write access.`, {
      hint: `Create a token with the write role at ${hub.endpoint}/settings/tokens and pass it with --token or HF_TOKEN.`,
      details: { role: me.role },
    });
  }

  // Where the branch is now (or that the repo is missing).
  let head: string | undefined;
  try {
    head = await hub.resolveCommit(repo, target.branch);
  } catch (error) {
    if (isLlamaError(error) && error.code === 'HUB_REPO_NOT_FOUND') head = undefined;
    else if (isLlamaError(error) && error.code === 'HUB_REVISION_NOT_FOUND') {
      throw new UsageError('PUBLISH_BRANCH_MISSING', `${repo} has no branch ${target.branch}.`, {
        hint: `Create the branch on the hub first, or publish to main (--to hf://${repo}).`,
        details: { repo, branch: target.branch },
      });
    } else throw publishError(error, ctxFor('read'));
  }

  if (head === undefined) {
    if (target.branch !== 'main') {
      throw new UsageError('PUBLISH_BRANCH_MISSING', `${repo} does not exist, so it has no branch ${target.branch}.`, {
        hint: `Publish to main first (--to hf://${repo}).`,
        details: { repo, branch: target.branch },
      });
    }
    const namespace = repo.split('/')[0] ?? repo;
    if (me && namespace !== me.name && !me.orgs.includes(namespace)) {
      throw new AccessError('PUBLISH_NAMESPACE', `${repo} does not exist, and ${namespace} is neither your user (${me.name}) nor one of your organizations${me.orgs.length ? ` (${me.orgs.join(', ')})` : ''}, so it cannot be created.`, {
        hint: `Check the namespace's spelling, publish under your own (hf://${me.name}/${repo.split('/')[1] ?? ''}), or ask an admin of ${namespace} to add you.`,
        details: { repo, user: me.name, orgs: me.orgs },
      });
    }
    result.created = true;
    if (!options.dryRun) {
      try {
        await createRepo({
          repo: { type: 'model', name: repo },
          hubUrl: hub.endpoint,
          ...(options.private !== undefined ? { visibility: options.private ? ('private' as const) : ('public' as const) } : {}),
          fetch: hub.fetchFor({ repo }),
        } as Parameters<typeof createRepo>[0]);
      } catch (error) {
        throw publishError(error, ctxFor('create'));
      }
      head = await hub.resolveCommit(repo, target.branch);
      onProgress({ type: 'message', level: 'info', text: `created ${options.private ? 'private' : 'public'} repo ${url}` });
    }
  }

  // What differs from the hub.
  const remote = new Map<string, RemoteFile>();
  if (head !== undefined) for (const f of await hub.listFiles(repo, head)) remote.set(f.path, f);
  const local = new Set(source.files.map((f) => f.path));
  result.remoteOnly = [...remote.keys()].filter((p) => !local.has(p)).sort();
  const changed: SourceFile[] = [];
  for (const file of publishOrder(source.files)) {
    if (await sameAsRemote(file, remote.get(file.path))) result.files.push({ path: file.path, size: file.size, status: 'unchanged' });
    else changed.push(file);
  }

  if (options.dryRun) {
    for (const file of changed) result.files.push({ path: file.path, size: file.size, status: 'would-upload' });
    result.commit = head;
    result.tag = planTag(options, source, undefined);
    if (result.tag && head !== undefined && changed.length === 0) {
      const tags = await listTags(hub, repo);
      result.tag = tagStatus(result.tag.name, tags.get(result.tag.name), head, true);
    }
    return sortFiles(result);
  }

  // Upload and commit, chunk by chunk.
  const sent = { bytes: 0 };
  const publishFetch = makePublishFetch(hub, repo, retry, options.commitTimeoutMs ?? 120_000, sent);
  const chunks: SourceFile[][] = [];
  for (let i = 0; i < changed.length; i += filesPerCommit) chunks.push(changed.slice(i, i + filesPerCommit));
  let branch = target.branch;
  let pullRequest = options.createPr === true;
  const totalBytes = changed.reduce((sum, f) => sum + f.size, 0);
  const task = 'publish';
  if (chunks.length > 0) onProgress({ type: 'start', task, label: `${repo} (${changed.length} file${changed.length === 1 ? '' : 's'})`, unit: 'bytes', total: totalBytes });
  let doneBefore = 0;
  for (const [index, chunk] of chunks.entries()) {
    const title = `Publish ${source.name}${source.version ? ` ${source.version}` : ''} with llama-dist ${toolVersion()}${chunks.length > 1 ? ` (${index + 1}/${chunks.length})` : ''}`;
    const description = `Uploaded by \`llama publish\` (llama-dist ${toolVersion()}): ${chunk.length} file${chunk.length === 1 ? '' : 's'}${source.kind === 'tar' ? ` from ${source.path.split('/').pop()}` : ''}.`;
    const operations: CommitOperation[] = [];
    for (const file of chunk) operations.push({ operation: 'addOrUpdate', path: file.path, content: await fileBlob(file) });
    const parent = head;
    let outcome: { oid: string; recovered: boolean; pullRequestUrl?: string } | undefined;
    for (let attempt = 0; outcome === undefined; attempt++) {
      try {
        const progress = new Map<string, number>();
        const iterator = commitIter({
          repo: { type: 'model', name: repo },
          operations,
          title,
          description,
          branch,
          ...(parent !== undefined ? { parentCommit: parent } : {}),
          isPullRequest: pullRequest,
          hubUrl: hub.endpoint,
          fetch: publishFetch,
          ...(options.signal !== undefined ? { abortSignal: options.signal } : {}),
        });
        let step = await iterator.next();
        while (!step.done) {
          const event = step.value;
          if (event.event === 'fileProgress' && event.state === 'uploading') {
            const file = chunk.find((f) => f.path === event.path);
            if (file) progress.set(file.path, event.progress * file.size);
            onProgress({ type: 'advance', task, done: doneBefore + [...progress.values()].reduce((a, b) => a + b, 0), total: totalBytes });
          }
          step = await iterator.next();
        }
        const out = step.value;
        if (!out) throw new NetworkError('PUBLISH_HUB_ERROR', `The hub did not answer the commit to ${repo} with a commit id.`, { hint: 'Run the command again.' });
        outcome = { oid: out.commit.oid, recovered: false, ...(out.pullRequestUrl ? { pullRequestUrl: out.pullRequestUrl } : {}) };
      } catch (error) {
        if (!(error instanceof CommitOutcomeUnknown)) throw publishError(error, ctxFor(isLlamaError(error) && error.details?.step === 'commit' ? 'commit' : 'upload'));
        if (pullRequest) {
          throw new NetworkError('PUBLISH_COMMIT_UNKNOWN', `The hub did not answer the pull request commit to ${repo} (${error.message}); it may have been made.`, {
            hint: `Look at ${url}/discussions before running again, or run again without --create-pr.`,
          });
        }
        // The hub may have made the commit after all: read the branch again before sending it again.
        const now = await hub.resolveCommit(repo, branch);
        if (now !== parent) {
          const files = new Map((await hub.listFiles(repo, now)).map((f) => [f.path, f] as const));
          const all = await Promise.all(chunk.map((f) => sameAsRemote(f, files.get(f.path))));
          if (all.every(Boolean)) {
            onProgress({ type: 'message', level: 'warn', text: `the commit request timed out (${error.message}), but the hub made it: ${now}` });
            outcome = { oid: now, recovered: true };
            break;
          }
          throw publishError(new NetworkError('HUB_BAD_RESPONSE', 'conflict', { details: { status: 412 } }), ctxFor('commit'));
        }
        if (attempt + 1 >= retry.attempts) {
          throw new NetworkError('PUBLISH_COMMIT_FAILED', `The hub did not answer the commit to ${repo} after ${attempt + 1} tries (${error.message}), and the branch did not move.`, {
            hint: 'Run the command again later: the files already uploaded are not sent again.',
            details: { repo, tries: attempt + 1 },
          });
        }
        const delay = backoffDelay(retry, attempt);
        onProgress({ type: 'message', level: 'warn', text: `commit request failed (${redactSecrets(error.message)}); ${branch} did not move; retrying in ${(delay / 1000).toFixed(1)} s` });
        await sleep(delay, options.signal);
      }
    }
    result.commits.push({ oid: outcome.oid, files: chunk.length, recoveredAfterTimeout: outcome.recovered });
    for (const file of chunk) result.files.push({ path: file.path, size: file.size, status: 'uploaded' });
    doneBefore += chunk.reduce((sum, f) => sum + f.size, 0);
    head = outcome.oid;
    if (outcome.pullRequestUrl) {
      // Later chunks go onto the pull request's branch, not into new pull requests.
      result.pullRequestUrl = outcome.pullRequestUrl;
      const number = /\/discussions\/(\d+)/.exec(outcome.pullRequestUrl)?.[1];
      if (number) branch = `refs/pr/${number}`;
      pullRequest = false;
    }
  }
  if (chunks.length > 0) onProgress({ type: 'end', task, ok: true });
  result.commit = head;
  result.bytesUploaded = sent.bytes;

  const planned = planTag(options, source, head);
  if (planned && options.createPr) {
    result.tag = { ...planned, status: 'skipped', note: 'a pull request is not tagged; tag it once merged' };
  } else if (planned && head !== undefined) {
    const tags = await listTags(hub, repo);
    const existing = tags.get(planned.name);
    const status = tagStatus(planned.name, existing, head, false);
    if (status.status === 'created') {
      try {
        await hubJson(hub, repo, `/api/models/${repo}/tag/${encodeURIComponent(head)}`, { tag: planned.name, message: `${source.name} ${source.version ?? ''}`.trim() });
      } catch (error) {
        throw publishError(error, ctxFor('tag'));
      }
    }
    result.tag = status;
  }
  return sortFiles(result);
}

function sortFiles(result: HubPublishResult): HubPublishResult {
  result.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return result;
}

function planTag(options: HubPublishOptions, source: PublishSource, head: string | undefined): HubPublishResult['tag'] {
  const name = options.tag ?? (source.version ? `v${source.version}` : undefined);
  return name === undefined ? undefined : { name, commit: head, status: 'would-create' };
}

function tagStatus(name: string, existing: string | undefined, head: string, dryRun: boolean): NonNullable<HubPublishResult['tag']> {
  if (existing === head) return { name, commit: head, status: 'present' };
  if (existing !== undefined) {
    throw new UsageError('PUBLISH_TAG_TAKEN', `The tag ${name} already names another commit (${existing}) of the repo.`, {
      hint: 'Publish a new version (`llama package --bump patch`), or give another --tag.',
      details: { tag: name, commit: existing, head },
    });
  }
  return { name, commit: head, status: dryRun ? 'would-create' : 'created' };
}

/** Same bytes as the hub's file: LFS by sha256, small files by git blob sha1. */
async function sameAsRemote(file: SourceFile, remote: RemoteFile | undefined): Promise<boolean> {
  if (!remote || remote.size !== file.size) return false;
  if (remote.lfsSha256) return (file.manifestSha256 ?? (await digestOf(file)).sha256) === remote.lfsSha256;
  return (await digestOf(file, true)).gitSha1 === remote.gitOid;
}

async function hubJson(hub: HubClient, repo: string, path: string, body?: unknown): Promise<unknown> {
  const response = await hub.fetchFor({ repo })(`${hub.endpoint}${path}`, body === undefined
    ? {}
    : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return response.json();
}

async function whoami(hub: HubClient, repo: string): Promise<Whoami> {
  const json = (await hubJson(hub, repo, '/api/whoami-v2')) as { name?: unknown; orgs?: { name?: unknown }[]; auth?: { accessToken?: { role?: unknown } } };
  return {
    name: String(json.name ?? ''),
    orgs: (json.orgs ?? []).map((o) => String(o.name ?? '')).filter(Boolean),
    role: typeof json.auth?.accessToken?.role === 'string' ? json.auth.accessToken.role : undefined,
  };
}

async function listTags(hub: HubClient, repo: string): Promise<Map<string, string>> {
  const json = (await hubJson(hub, repo, `/api/models/${repo}/refs`)) as { tags?: { name?: unknown; targetCommit?: unknown }[] };
  return new Map((json.tags ?? []).map((t) => [String(t.name), String(t.targetCommit)] as const));
}

/**
 * The fetch handed to `@huggingface/hub`: commits and presigned PUTs handled here (see the header), everything else
 * through the hub client's `fetchFor`.
 */
function makePublishFetch(hub: HubClient, repo: string, retry: RetryPolicy, commitTimeoutMs: number, sent: { bytes: number }): typeof fetch {
  const viaClient = hub.fetchFor({ repo });
  const signal = hub.signal;
  const pause = async (attempt: number, retryAfterMs: number | undefined): Promise<void> => sleep(backoffDelay(retry, attempt, retryAfterMs), signal);

  const put = async (url: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.delete('authorization');
    for (const [k, v] of Object.entries(hub.authHeaders(url))) headers.set(k, v);
    const size = init.body instanceof Blob ? init.body.size : 0;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, { ...init, headers, ...(signal ? { signal } : {}) });
      } catch (error) {
        if (signal?.aborted) throw signal.reason ?? error;
        if (attempt + 1 >= retry.attempts || !(isTransientNetworkError(error) || (error as Error).name === 'TypeError')) {
          throw new NetworkError('PUBLISH_UPLOAD_FAILED', `Uploading to the hub's storage failed ${attempt + 1} times (${redactSecrets(describe(error))}).`, {
            hint: 'Run the command again: files already uploaded are not sent again.',
            details: { host: new URL(url).host },
            cause: error,
          });
        }
        await pause(attempt, undefined);
        continue;
      }
      if (response.ok) {
        sent.bytes += size;
        return response;
      }
      const retryable = response.status === 429 || response.status >= 500;
      const text = await response.text().catch(() => '');
      if (retryable && attempt + 1 < retry.attempts) {
        await pause(attempt, parseRetryAfter(response.headers.get('retry-after')));
        continue;
      }
      if (response.status === 400) throw uploadRejected(new URL(url).pathname.split('/').pop() ?? 'an object', response.status, text);
      if (retryable) {
        throw new NetworkError('PUBLISH_UPLOAD_FAILED', `The hub's storage still answered ${response.status} after ${attempt + 1} tries.`, {
          hint: 'Run the command again later: files already uploaded are not sent again.',
          details: { status: response.status },
        });
      }
      return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
    }
  };

  const commit = async (url: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.delete('authorization');
    for (const [k, v] of Object.entries(hub.authHeaders(url))) headers.set(k, v);
    const timeout = AbortSignal.timeout(commitTimeoutMs);
    let response: Response;
    try {
      response = await fetch(url, { ...init, headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      throw new CommitOutcomeUnknown(timeout.aborted ? `no answer within ${commitTimeoutMs / 1000} s` : describe(error));
    }
    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel();
      throw new CommitOutcomeUnknown(`HTTP ${response.status}`);
    }
    if (response.ok) {
      if (typeof init.body === 'string') sent.bytes += inlineBytes(init.body);
      return response;
    }
    const body = (await response.text().catch(() => '')).slice(0, 2000);
    const typed = hubError(
      { status: response.status, errorCode: response.headers.get('x-error-code') ?? undefined, errorMessage: response.headers.get('x-error-message') ?? undefined, body, url },
      { endpoint: hub.endpoint, repo, tokenGiven: hub.hasToken },
    );
    if (typed && typed.details) typed.details.step = 'commit';
    throw typed ?? new NetworkError('PUBLISH_HUB_ERROR', `The hub answered ${response.status} to the commit.`, { hint: 'Run the command again.', details: { status: response.status, step: 'commit' } });
  };

  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const method = (init?.method ?? 'GET').toUpperCase();
    if (method === 'PUT') return put(url, init ?? {});
    if (method === 'POST' && COMMIT_PATH.test(new URL(url).pathname)) return commit(url, init ?? {});
    return viaClient(input, init);
  };
}

/** Bytes of the inline (base64) files in an NDJSON commit body. */
function inlineBytes(body: string): number {
  let total = 0;
  for (const line of body.split('\n')) {
    if (!line.includes('"key":"file"')) continue;
    const content = (JSON.parse(line) as { value?: { content?: string } }).value?.content ?? '';
    total += Buffer.byteLength(content, 'base64');
  }
  return total;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
