/**
 * The fake Hugging Face Hub: routing, access control, error shapes, faults and the request log.
 * The public surface and the protocol notes are in index.ts; facts are from /work/shared/research/hub-protocol.md
 * (section numbers below refer to it).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { redactSecrets } from '../../../src/redact.ts';
import { ifRangeMatches, parseRange, streamBody, type BytePlan, type ByteRange } from './content.ts';
import { UploadArea, ownsNamespace, parseCommit, preuploadModes, type UploadAnswer, type UploadOptions } from './upload.ts';
import {
  BlobStore, buildCommit, objectIdFor, readCardData, resolveRevision, validateRepoId,
  type AccessState, type Blob, type Commit, type CommitSpec, type FileEntry, type FileInput, type GatedMode, type Repo,
} from './store.ts';

export type RouteKind =
  | 'model-info' | 'tree' | 'paths-info' | 'refs' | 'commits' | 'auth-check' | 'whoami'
  | 'resolve' | 'raw' | 'resolve-cache' | 'cdn'
  | 'create-repo' | 'preupload' | 'lfs-batch' | 'lfs-upload' | 'lfs-complete' | 'commit' | 'tag' | 'other';

export interface HubServerOptions {
  /** Known tokens (must start with `hf_`): token → user name, or `{ user, gatedRepos: false }` for a fine-grained
   * token without "read access to public gated repos" (§2.5: plain 403). */
  tokens?: Record<string, string | TokenInfo>;
  /**
   * Where LFS bytes are served. 'cross-origin' (default): a second server on another port, like the real CDN; the
   * client's fetch drops Authorization on that hop (§1.6). 'same-origin': under /cdn-lfs/ on the hub port.
   */
  cdn?: 'cross-origin' | 'same-origin';
  /** `X-Cache` on CDN responses; the JS client then sends its body GET straight to the signed URL (§1.6).
   * Default 'Miss from cloudfront'; null omits it (the body GET then goes through resolve again). */
  cdnXCache?: string | null;
  /** Lifetime of signed CDN URLs. Default one hour. */
  signedUrlTtlMs?: number;
  /** Public non-LFS files answer resolve with a 307 to /api/resolve-cache/… as the Hub does (§2.4). Default true. */
  resolveCacheRedirect?: boolean;
  /** Per-connection cap on file bytes per second, for every byte-serving route. Default none. */
  bytesPerSecond?: number;
  /** Tree page sizes (§2.2: 1000, or 50 with expand). */
  treePageSize?: number;
  treeExpandPageSize?: number;
  port?: number;
  /** Upload side: multipart part size, the largest object accepted, where objects are kept (upload.ts). */
  upload?: UploadOptions;
}

export interface TokenInfo {
  user: string;
  /** false: a fine-grained token lacking the public-gated-repos permission. Default true. */
  gatedRepos?: boolean;
  /** 'read' tokens cannot create repos or push (whoami-v2 shows the role). Default 'write'. */
  role?: 'read' | 'write';
  /** Organizations the user belongs to (whoami-v2 `orgs`); the user may create repos and push under them. */
  orgs?: string[];
}

export interface RepoSpec {
  /** "org/name". */
  id: string;
  files?: Record<string, FileInput>;
  private?: boolean;
  gated?: GatedMode;
  /** User name → access state (gated repos; 'granted' also grants read access to a private repo). */
  access?: Record<string, AccessState>;
  /** Initial commit title, author and date (defaults make commit ids deterministic). */
  message?: string;
  author?: string;
  date?: Date;
  /** Extra model-info fields (pipeline_tag, library_name, tags, downloads, likes, config, …). */
  info?: Record<string, unknown>;
}

export interface FileFacts {
  path: string;
  size: number;
  /** Tree `oid`: git sha1 of the content, or of the LFS pointer. */
  oid: string;
  /** git sha1 of the content itself. */
  gitOid: string;
  sha256: string;
  lfs: boolean;
  /** ETag the resolve route sends: quoted sha256 for LFS (as X-Linked-Etag), quoted git sha1 otherwise. */
  etag: string;
  lastCommit: string;
}

export type FaultSpec = FaultMatch &
  (
    | { kind: 'status'; status: number; retryAfter?: number | string; message?: string }
    | { kind: 'truncate'; afterBytes: number }
    | { kind: 'reset'; afterBytes: number }
    | { kind: 'flip'; offset: number; mask?: number }
    | { kind: 'throttle'; bytesPerSecond: number }
    | { kind: 'stall'; afterBytes: number; ms: number }
    /** Upload routes: the request is carried out, then its answer is held for `ms` (Infinity: never sent). */
    | { kind: 'hold'; ms: number }
    /** Presigned PUTs: the server reads `afterBytes` of the body, then drops the connection. */
    | { kind: 'drop-upload'; afterBytes: number }
  );

export interface FaultMatch {
  /** Only requests for this repo ("org/name"). */
  repo?: string;
  /** Only requests for this file path in the repo (resolve, raw, resolve-cache, CDN). */
  path?: string;
  /** Only these routes. Default: any route (status faults) / any route that serves file bytes (byte faults). */
  routes?: RouteKind[];
  /** Let this many matching requests through first. Default 0. */
  skip?: number;
  /** Apply to this many requests, then stop. Default unlimited. */
  times?: number;
}

export interface FaultHandle {
  readonly spec: FaultSpec;
  /** Matching requests seen so far, and how many the fault was applied to. */
  readonly seen: number;
  readonly applied: number;
  remove(): void;
}

export interface RequestLogEntry {
  seq: number;
  server: 'hub' | 'cdn';
  method: string;
  /** Path and query, with any token-like parameter masked. */
  path: string;
  route: RouteKind;
  repo: string | undefined;
  file: string | undefined;
  status: number;
  /** The Range header as sent, if any. */
  range: string | undefined;
  /** Response body bytes handed to the socket (all routes). */
  bytesSent: number;
  /** Whether an Authorization header was present (its value is never stored). */
  authorization: boolean;
  /** Faults applied to this request, e.g. ["truncate:100"]. */
  faults: string[];
  /** False while the response is still being written. */
  done: boolean;
}

export interface HubStats {
  requests: number;
  bytesSent: number;
  /** Bytes of file content (resolve, raw, resolve-cache, CDN bodies). */
  fileBytesSent: number;
  byRoute: Partial<Record<RouteKind, { requests: number; bytesSent: number }>>;
  byStatus: Record<string, number>;
}

interface Auth {
  kind: 'anonymous' | 'user' | 'invalid';
  token?: TokenInfo;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  api: boolean;
  auth: Auth;
  entry: RequestLogEntry;
}

const FILE_ROUTES: ReadonlySet<RouteKind> = new Set(['resolve', 'raw', 'resolve-cache', 'cdn']);
const NOT_FOUND_ANON = 'Invalid username or password.';

class Fault implements FaultHandle {
  seen = 0;
  applied = 0;
  readonly spec: FaultSpec;
  private readonly owner: Set<Fault>;
  constructor(spec: FaultSpec, owner: Set<Fault>) {
    this.spec = spec;
    this.owner = owner;
  }
  matches(route: RouteKind, repo: string | undefined, file: string | undefined): boolean {
    const s = this.spec;
    if (s.repo !== undefined && s.repo !== repo) return false;
    if (s.path !== undefined && s.path !== file) return false;
    if (s.routes) return s.routes.includes(route);
    // hold and drop-upload are only asked for where they can apply (an upload answer, a presigned PUT).
    return s.kind === 'status' || s.kind === 'hold' || s.kind === 'drop-upload' || FILE_ROUTES.has(route);
  }
  /** Count a matching request; true when the fault applies to it. */
  take(): boolean {
    this.seen += 1;
    if (this.seen <= (this.spec.skip ?? 0) || this.applied >= (this.spec.times ?? Infinity)) return false;
    this.applied += 1;
    return true;
  }
  remove(): void {
    this.owner.delete(this);
  }
}

export class HubServerImpl {
  url = '';
  cdnUrl = '';
  readonly log: RequestLogEntry[] = [];
  private readonly store = new BlobStore();
  private readonly repos = new Map<string, Repo>();
  /** Old id (lower case) → new id, kept after a rename so old URLs redirect. */
  private readonly renamed = new Map<string, string>();
  private readonly tokens = new Map<string, TokenInfo>();
  private readonly faults = new Set<Fault>();
  private readonly options: HubServerOptions;
  private hub: Server | undefined;
  private cdn: Server | undefined;
  private signingKey = randomBytes(32);
  private bytesPerSecond: number | undefined;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private seq = 0;
  private readonly uploads: UploadArea;
  /** LFS objects uploaded to each repo (committed or not): the batch skips only these. */
  private readonly repoObjects = new Map<string, Set<string>>();
  /** Repos whose content is disabled (locked): every write answers 403. */
  private readonly disabled = new Set<string>();

  constructor(options: HubServerOptions) {
    this.options = options;
    this.bytesPerSecond = options.bytesPerSecond;
    this.uploads = new UploadArea(options.upload ?? {});
    for (const [token, info] of Object.entries(options.tokens ?? {})) this.addToken(token, info);
  }

  async listen(): Promise<void> {
    await this.uploads.open();
    this.hub = createServer((req, res) => this.handle('hub', req, res));
    this.url = await listenOn(this.hub, this.options.port ?? 0);
    if ((this.options.cdn ?? 'cross-origin') === 'cross-origin') {
      this.cdn = createServer((req, res) => this.handle('cdn', req, res));
      this.cdnUrl = await listenOn(this.cdn, 0);
    } else {
      this.cdnUrl = this.url;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.hub, this.cdn].map((server) => (server ? closeServer(server) : undefined)));
    await this.uploads.close();
  }

  /** Lock a repo (or unlock it): writes are refused with 403 "Access to this resource is disabled." (§2.5 wording). */
  setDisabled(repoId: string, disabled: boolean): void {
    this.mustRepo(repoId);
    if (disabled) this.disabled.add(repoId);
    else this.disabled.delete(repoId);
  }

  private objectStored = (repo: string, oid: string): void => {
    const set = this.repoObjects.get(repo) ?? new Set<string>();
    set.add(oid);
    this.repoObjects.set(repo, set);
  };

  /** Whether `repo` holds the object: uploaded to it, or in one of its commits. */
  private repoHasObject(repoId: string, oid: string): boolean {
    if (this.repoObjects.get(repoId)?.has(oid)) return true;
    const repo = this.repos.get(repoId);
    if (!repo) return false;
    for (const commit of repo.commits.values()) for (const f of commit.files.values()) if (f.blob.sha256 === oid) return true;
    return false;
  }

  /** Whether an object with this sha256 was uploaded (or added) — committed or not. */
  hasObject(sha256: string): boolean {
    return this.store.bySha256.has(sha256);
  }

  /** Ids of the repos on the server, sorted. */
  repoIds(): string[] {
    return [...this.repos.keys()].sort();
  }

  /** Tags of a repo: name → commit id. */
  tags(repoId: string): Record<string, string> {
    return Object.fromEntries([...this.mustRepo(repoId).tags].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  // ---------------------------------------------------------------- state

  addToken(token: string, info: string | TokenInfo): void {
    // Any string: a mirror's token need not start with hf_ (our HubClient sends it; only @huggingface/hub's own
    // accessToken check rejects it, §1.1).
    if (token.length === 0) throw new Error('hub-server: a token must not be empty');
    this.tokens.set(token, typeof info === 'string' ? { user: info } : info);
  }

  async addRepo(spec: RepoSpec): Promise<string> {
    validateRepoId(spec.id);
    if (this.repos.has(spec.id)) throw new Error(`hub-server: repo ${spec.id} already exists`);
    const author = spec.id.split('/')[0] ?? spec.id;
    const repo: Repo = {
      id: spec.id, objectId: objectIdFor(spec.id), author, private: spec.private ?? false, gated: spec.gated ?? false,
      access: new Map(Object.entries(spec.access ?? {})), branches: new Map(), tags: new Map(), commits: new Map(),
      createdAt: spec.date ?? new Date(Date.UTC(2024, 0, 1)), extra: spec.info ?? {}, downloads: 0,
    };
    const commit = await buildCommit(this.store, repo, undefined, {
      files: spec.files ?? {}, message: spec.message ?? 'initial commit', author: spec.author ?? author, date: spec.date,
    });
    repo.commits.set(commit.id, commit);
    repo.branches.set('main', commit.id);
    this.repos.set(spec.id, repo);
    return commit.id;
  }

  async commit(repoId: string, spec: CommitSpec & { branch?: string }): Promise<string> {
    const repo = this.mustRepo(repoId);
    const branch = spec.branch ?? 'main';
    const headId = repo.branches.get(branch);
    if (headId === undefined) throw new Error(`hub-server: no branch ${branch} in ${repoId}`);
    const commit = await buildCommit(this.store, repo, repo.commits.get(headId), spec);
    repo.commits.set(commit.id, commit);
    repo.branches.set(branch, commit.id);
    return commit.id;
  }

  /** Create or move a branch to the commit `rev` resolves to. */
  setBranch(repoId: string, name: string, rev: string): string {
    const repo = this.mustRepo(repoId);
    const commit = this.mustResolve(repo, rev);
    repo.branches.set(name, commit.id);
    return commit.id;
  }

  /** Rename a repo; requests for the old id get a 307 to the new one, as on the Hub. */
  renameRepo(from: string, to: string): void {
    validateRepoId(to);
    const repo = this.mustRepo(from);
    if (this.repos.has(to)) throw new Error(`hub-server: repo ${to} already exists`);
    this.repos.delete(from);
    repo.id = to;
    repo.author = to.split('/')[0] ?? to;
    this.repos.set(to, repo);
    this.renamed.set(from.toLowerCase(), to);
  }

  deleteBranch(repoId: string, name: string): void {
    if (name === 'main') throw new Error('hub-server: cannot delete main');
    this.mustRepo(repoId).branches.delete(name);
  }

  setTag(repoId: string, name: string, rev: string): string {
    const repo = this.mustRepo(repoId);
    const commit = this.mustResolve(repo, rev);
    repo.tags.set(name, commit.id);
    return commit.id;
  }

  head(repoId: string, rev = 'main'): string {
    return this.mustResolve(this.mustRepo(repoId), rev).id;
  }

  setAccess(repoId: string, user: string, state: AccessState | undefined): void {
    const repo = this.mustRepo(repoId);
    if (state === undefined) repo.access.delete(user);
    else repo.access.set(user, state);
  }

  /** What the "request access" button does: granted at once for `gated: 'auto'`, pending for 'manual'. */
  requestAccess(repoId: string, user: string): AccessState {
    const repo = this.mustRepo(repoId);
    const current = repo.access.get(user);
    if (current === 'granted' || current === 'rejected') return current;
    const state: AccessState = repo.gated === 'manual' ? 'pending' : 'granted';
    repo.access.set(user, state);
    return state;
  }

  setVisibility(repoId: string, settings: { private?: boolean; gated?: GatedMode }): void {
    const repo = this.mustRepo(repoId);
    if (settings.private !== undefined) repo.private = settings.private;
    if (settings.gated !== undefined) repo.gated = settings.gated;
  }

  file(repoId: string, path: string, rev = 'main'): FileFacts {
    const entry = this.mustResolve(this.mustRepo(repoId), rev).files.get(path);
    if (!entry) throw new Error(`hub-server: no ${path} in ${repoId}@${rev}`);
    return {
      path, size: entry.blob.size, oid: entry.oid, gitOid: entry.blob.gitOid, sha256: entry.blob.sha256, lfs: entry.lfs,
      etag: `"${entry.lfs ? entry.blob.sha256 : entry.blob.gitOid}"`, lastCommit: entry.lastCommit.id,
    };
  }

  files(repoId: string, rev = 'main'): FileFacts[] {
    const commit = this.mustResolve(this.mustRepo(repoId), rev);
    return [...commit.files.keys()].sort().map((path) => this.file(repoId, path, commit.id));
  }

  injectFault(spec: FaultSpec): FaultHandle {
    const fault = new Fault(spec, this.faults);
    this.faults.add(fault);
    return fault;
  }

  clearFaults(): void {
    this.faults.clear();
  }

  setRateLimit(bytesPerSecond: number | undefined): void {
    this.bytesPerSecond = bytesPerSecond;
  }

  /** Invalidate every signed CDN URL handed out so far (they answer 403 from now on). */
  expireSignedUrls(): void {
    this.signingKey = randomBytes(32);
  }

  stats(filter?: (entry: RequestLogEntry) => boolean): HubStats {
    const stats: HubStats = { requests: 0, bytesSent: 0, fileBytesSent: 0, byRoute: {}, byStatus: {} };
    for (const entry of this.log) {
      if (filter && !filter(entry)) continue;
      stats.requests += 1;
      stats.bytesSent += entry.bytesSent;
      if (FILE_ROUTES.has(entry.route) && entry.status >= 200 && entry.status < 300) stats.fileBytesSent += entry.bytesSent;
      const route = (stats.byRoute[entry.route] ??= { requests: 0, bytesSent: 0 });
      route.requests += 1;
      route.bytesSent += entry.bytesSent;
      stats.byStatus[String(entry.status)] = (stats.byStatus[String(entry.status)] ?? 0) + 1;
    }
    return stats;
  }

  resetLog(): void {
    this.log.length = 0;
  }

  /** Resolves when no response is being written (call before asserting on the log after a client aborted). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private mustRepo(repoId: string): Repo {
    const repo = this.repos.get(repoId);
    if (!repo) throw new Error(`hub-server: no repo ${repoId}`);
    return repo;
  }

  private mustResolve(repo: Repo, rev: string): Commit {
    const commit = resolveRevision(repo, rev);
    if (!commit) throw new Error(`hub-server: no revision ${rev} in ${repo.id}`);
    return commit;
  }

  // ---------------------------------------------------------------- request plumbing

  private handle(server: 'hub' | 'cdn', req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', server === 'hub' ? this.url : this.cdnUrl);
    const entry: RequestLogEntry = {
      seq: ++this.seq, server, method: req.method ?? 'GET', path: redactSecrets(url.pathname + url.search), route: 'other',
      repo: undefined, file: undefined, status: 0, range: req.headers.range, bytesSent: 0,
      authorization: req.headers.authorization !== undefined, faults: [], done: false,
    };
    this.log.push(entry);
    this.inFlight += 1;
    res.setHeader('X-Request-Id', `Root=1-${randomBytes(12).toString('hex')}`);
    res.on('close', () => {
      entry.done = true;
      entry.status = res.statusCode;
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    });
    const ctx: Ctx = { req, res, url, api: url.pathname.startsWith('/api/'), auth: this.authenticate(req), entry };
    const route = server === 'cdn' ? this.routeCdn(ctx) : this.routeHub(ctx);
    route.catch((error: unknown) => {
      if (!res.headersSent) this.sendError(ctx, 500, `hub-server: ${error instanceof Error ? error.message : String(error)}`);
      else res.destroy();
    });
  }

  private authenticate(req: IncomingMessage): Auth {
    const header = req.headers.authorization;
    if (header === undefined) return { kind: 'anonymous' };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = match ? this.tokens.get(match[1] ?? '') : undefined;
    return token ? { kind: 'user', token } : { kind: 'invalid' };
  }

  private send(ctx: Ctx, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
    const { res } = ctx;
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    res.statusCode = status;
    ctx.entry.status = status;
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Content-Length', data.byteLength);
    if (ctx.req.method === 'HEAD') {
      res.end();
      return;
    }
    ctx.entry.bytesSent += data.byteLength;
    res.end(data);
  }

  private sendJson(ctx: Ctx, status: number, value: unknown, headers: Record<string, string> = {}): void {
    this.send(ctx, status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  }

  /** §2.5: X-Error-Code / X-Error-Message headers; JSON `{"error"}` on /api/*, plain text on web routes. */
  private sendError(ctx: Ctx, status: number, message: string, code?: string, headers: Record<string, string> = {}): void {
    const all: Record<string, string> = { 'X-Error-Message': message, ...headers };
    if (code) all['X-Error-Code'] = code;
    if (status === 401) all['WWW-Authenticate'] = 'Bearer realm="Authentication required", charset="UTF-8"';
    if (ctx.api) this.sendJson(ctx, status, { error: message }, all);
    else this.send(ctx, status, message, all);
  }

  /** Status faults are answered first, as a front proxy would, before auth and lookups. */
  private statusFault(ctx: Ctx): boolean {
    for (const fault of this.faults) {
      const spec = fault.spec;
      if (spec.kind !== 'status' || !fault.matches(ctx.entry.route, ctx.entry.repo, ctx.entry.file) || !fault.take()) continue;
      ctx.entry.faults.push(`status:${spec.status}`);
      const headers: Record<string, string> = {};
      if (spec.retryAfter !== undefined) headers['Retry-After'] = String(spec.retryAfter);
      const message = spec.message ?? (spec.status === 429 ? 'Too Many Requests' : spec.status === 503 ? 'Service Unavailable' : `Error ${spec.status}`);
      if (ctx.api) this.sendJson(ctx, spec.status, { error: message }, headers);
      else this.send(ctx, spec.status, message, headers);
      return true;
    }
    return false;
  }

  private bytePlan(ctx: Ctx): BytePlan {
    const plan: BytePlan = { flips: [], bytesPerSecond: this.bytesPerSecond };
    for (const fault of this.faults) {
      const spec = fault.spec;
      if (spec.kind === 'status' || !fault.matches(ctx.entry.route, ctx.entry.repo, ctx.entry.file) || !fault.take()) continue;
      switch (spec.kind) {
        case 'truncate':
          plan.truncateAfter = Math.min(plan.truncateAfter ?? Infinity, spec.afterBytes);
          ctx.entry.faults.push(`truncate:${spec.afterBytes}`);
          break;
        case 'reset':
          plan.resetAfter = Math.min(plan.resetAfter ?? Infinity, spec.afterBytes);
          ctx.entry.faults.push(`reset:${spec.afterBytes}`);
          break;
        case 'flip':
          plan.flips.push({ offset: spec.offset, mask: spec.mask ?? 0xff });
          ctx.entry.faults.push(`flip:${spec.offset}`);
          break;
        case 'stall':
          plan.stall = { afterBytes: spec.afterBytes, ms: spec.ms };
          ctx.entry.faults.push(`stall:${spec.afterBytes}`);
          break;
        case 'throttle':
          plan.bytesPerSecond = Math.min(plan.bytesPerSecond ?? Infinity, spec.bytesPerSecond);
          ctx.entry.faults.push(`throttle:${spec.bytesPerSecond}`);
          break;
      }
    }
    return plan;
  }

  // ---------------------------------------------------------------- routing

  private async routeHub(ctx: Ctx): Promise<void> {
    let segs: string[];
    try {
      segs = ctx.url.pathname.split('/').slice(1).map(decodeURIComponent);
    } catch {
      this.sendError(ctx, 400, 'Malformed URL');
      return;
    }
    const method = ctx.req.method ?? 'GET';
    const read = method === 'GET' || method === 'HEAD';
    const [s0, s1, s2, s3, s4] = segs;
    const entry = ctx.entry;
    let handler: (() => Promise<void> | void) | undefined;
    /** Index of the repo's first path segment, for redirects of renamed or mis-cased repos. */
    let repoAt = -1;

    if (s0 === 'api' && s1 === 'whoami-v2' && segs.length === 2 && read) {
      entry.route = 'whoami';
      handler = () => this.whoami(ctx);
    } else if (s0 === 'api' && s1 === 'repos' && s2 === 'create' && segs.length === 3 && method === 'POST') {
      entry.route = 'create-repo';
      handler = () => this.createRepoRoute(ctx);
    } else if (s0 === 'api' && s1 === 'complete_multipart' && segs.length === 2 && method === 'POST') {
      entry.route = 'lfs-complete';
      handler = () => this.completeMultipart(ctx);
    } else if (s0 && s1?.endsWith('.git') && s2 === 'info' && s3 === 'lfs' && s4 === 'objects' && segs[5] === 'batch' && segs.length === 6 && method === 'POST') {
      entry.route = 'lfs-batch';
      entry.repo = `${s0}/${s1.slice(0, -'.git'.length)}`;
      handler = () => this.lfsBatch(ctx);
    } else if (s0 === 'api' && s1 === 'models' && s2 && s3) {
      entry.repo = `${s2}/${s3}`;
      repoAt = 2;
      const rest = segs.slice(5);
      if (segs.length === 4 && read) {
        entry.route = 'model-info';
        handler = () => this.modelInfo(ctx, 'main', false);
      } else if (s4 === 'revision' && rest.length > 0 && read) {
        entry.route = 'model-info';
        handler = () => this.modelInfo(ctx, rest.join('/'), true);
      } else if (s4 === 'tree' && rest.length > 0 && read) {
        entry.route = 'tree';
        const [rev, path] = splitRevPath(rest);
        handler = () => this.tree(ctx, rev, path.replace(/\/+$/, ''));
      } else if (s4 === 'paths-info' && rest.length > 0 && method === 'POST') {
        entry.route = 'paths-info';
        handler = () => this.pathsInfo(ctx, rest.join('/'));
      } else if (s4 === 'refs' && segs.length === 5 && read) {
        entry.route = 'refs';
        handler = () => this.refs(ctx);
      } else if (s4 === 'commits' && rest.length > 0 && read) {
        entry.route = 'commits';
        handler = () => this.commits(ctx, rest.join('/'));
      } else if (s4 === 'auth-check' && segs.length === 5 && read) {
        entry.route = 'auth-check';
        handler = () => this.authCheck(ctx);
      } else if (s4 === 'preupload' && rest.length > 0 && method === 'POST') {
        entry.route = 'preupload';
        handler = () => this.preupload(ctx);
      } else if (s4 === 'commit' && rest.length > 0 && method === 'POST') {
        entry.route = 'commit';
        handler = () => this.commitRoute(ctx, rest.join('/'));
      } else if (s4 === 'tag' && rest.length > 0 && method === 'POST') {
        entry.route = 'tag';
        handler = () => this.tagRoute(ctx, rest.join('/'));
      }
    } else if (s0 === 'api' && s1 === 'resolve-cache' && s2 === 'models' && segs.length >= 7 && read) {
      entry.route = 'resolve-cache';
      entry.repo = `${segs[3]}/${segs[4]}`;
      repoAt = 3;
      entry.file = segs.slice(6).join('/');
      handler = () => this.resolveCache(ctx, segs[5] ?? '');
    } else if (s0 === 'cdn-lfs' && this.options.cdn === 'same-origin') {
      await this.routeCdn(ctx);
      return;
    } else if (s0 && s1 && (s2 === 'resolve' || s2 === 'raw') && segs.length >= 5 && read) {
      entry.route = s2;
      entry.repo = `${s0}/${s1}`;
      repoAt = 0;
      const [rev, path] = splitRevPath(segs.slice(3));
      entry.file = path;
      handler = () => this.resolve(ctx, rev, path, s2 === 'raw');
    }

    if (this.statusFault(ctx)) return;
    if (ctx.auth.kind === 'invalid') {
      // §2.5: a token the hub does not know is refused on every route, public repos included.
      this.sendError(ctx, 401, 'Invalid credentials in Authorization header');
      return;
    }
    if (!handler) {
      this.sendError(ctx, 404, 'Not Found');
      return;
    }
    const canonical = repoAt < 0 ? undefined : this.canonicalId(entry.repo ?? '');
    if (canonical !== undefined && canonical !== entry.repo) {
      // §2.4: renamed or mis-cased repos answer 307 with a path-only Location, for GET/HEAD and bodied POSTs alike.
      const raw = ctx.url.pathname.split('/');
      raw.splice(repoAt + 1, 2, ...canonical.split('/').map(encodeURIComponent));
      const location = raw.join('/') + ctx.url.search;
      this.send(ctx, 307, `Temporary Redirect. Redirecting to ${location}`, { Location: location });
      return;
    }
    await handler();
  }

  /** The id a request for `id` should be redirected to: itself, a case-insensitive match, or a rename target. */
  private canonicalId(id: string): string | undefined {
    if (this.repos.has(id)) return id;
    let target = this.renamed.get(id.toLowerCase());
    for (let hops = 0; target !== undefined && !this.repos.has(target) && hops < 10; hops++) target = this.renamed.get(target.toLowerCase());
    if (target !== undefined && this.repos.has(target)) return target;
    for (const known of this.repos.keys()) if (known.toLowerCase() === id.toLowerCase()) return known;
    return undefined;
  }

  /** The repo if the caller may see it; otherwise answers 401 (anonymous) or 404 RepoNotFound (§2.5). */
  private visibleRepo(ctx: Ctx): Repo | undefined {
    const repo = this.repos.get(ctx.entry.repo ?? '');
    const token = ctx.auth.token;
    const user = token?.user;
    const visible = repo && (!repo.private || (token !== undefined && user !== undefined && (ownsNamespace(token, repo.author) || repo.access.get(user) === 'granted')));
    if (visible) return repo;
    if (ctx.auth.kind === 'anonymous') this.sendError(ctx, 401, NOT_FOUND_ANON);
    else this.sendError(ctx, 404, 'Repository not found', 'RepoNotFound');
    return undefined;
  }

  /** Gate on content routes (§2.5): metadata stays readable, file bytes need granted access. */
  private passesGate(ctx: Ctx, repo: Repo): boolean {
    if (!repo.gated) return true;
    const id = repo.id;
    const token = ctx.auth.token;
    if (!token) {
      this.sendError(ctx, 401, `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`, 'GatedRepo');
      return false;
    }
    if (token.user === repo.author) return true;
    if (token.gatedRepos === false) {
      this.sendError(ctx, 403, 'Forbidden');
      return false;
    }
    const state = repo.access.get(token.user);
    if (state === 'granted') return true;
    const message =
      state === 'pending'
        ? `Your request to access model ${id} is awaiting a review from the repo authors.`
        : state === 'rejected'
          ? "Your request to access this repo has been rejected by the repo's authors." // §2.5: web-page wording, status not pinned
          : `Access to model ${id} is restricted and you are not in the authorized list. Visit ${this.url}/${id} to ask for access.`;
    this.sendError(ctx, 403, message, 'GatedRepo');
    return false;
  }

  private commitFor(ctx: Ctx, repo: Repo, rev: string): Commit | undefined {
    const commit = resolveRevision(repo, rev);
    if (!commit) this.sendError(ctx, 404, `Invalid rev id: ${rev}`, 'RevisionNotFound');
    return commit;
  }

  // ---------------------------------------------------------------- API routes

  private whoami(ctx: Ctx): void {
    const token = ctx.auth.token;
    if (!token) {
      this.sendError(ctx, 401, NOT_FOUND_ANON);
      return;
    }
    this.sendJson(ctx, 200, {
      type: 'user', id: objectIdFor(`user:${token.user}`), name: token.user, fullname: token.user,
      orgs: (token.orgs ?? []).map((name) => ({ type: 'org', name, id: objectIdFor(`org:${name}`) })),
      auth: { type: 'access_token', accessToken: { displayName: 'test token', role: token.gatedRepos === false ? 'fineGrained' : (token.role ?? 'write') } },
    });
  }

  /** §2.1: all fields, or with `expand` only the listed ones (plus `_id` and `id`). */
  private modelInfo(ctx: Ctx, rev: string, explicitRevision: boolean): void {
    const repo = this.visibleRepo(ctx);
    if (!repo) return;
    const commit = this.commitFor(ctx, repo, explicitRevision ? rev : 'main');
    if (!commit) return;
    const params = ctx.url.searchParams;
    const blobs = params.get('blobs') === 'true' || params.get('blobs') === '1';
    const siblings = [...commit.files.keys()].sort().map((path) => {
      const file = commit.files.get(path) as FileEntry;
      const sibling: Record<string, unknown> = { rfilename: path };
      if (blobs) {
        sibling.size = file.blob.size;
        sibling.blobId = file.oid;
        if (file.lfs) sibling.lfs = { sha256: file.blob.sha256, size: file.blob.size, pointerSize: file.pointer?.byteLength };
      }
      return sibling;
    });
    const cardData = readCardData(commit);
    const usedStorage = [...commit.files.values()].reduce((sum, f) => sum + f.blob.size, 0);
    const full: Record<string, unknown> = {
      _id: repo.objectId, id: repo.id, author: repo.author, sha: commit.id, lastModified: commit.date.toISOString(),
      createdAt: repo.createdAt.toISOString(), private: repo.private, gated: repo.gated, disabled: false,
      downloads: repo.downloads, downloadsAllTime: repo.downloads, likes: 0, tags: [],
      ...(cardData ? { cardData } : {}), ...repo.extra, siblings, spaces: [], usedStorage,
    };
    const expand = [...params.getAll('expand'), ...params.getAll('expand[]')];
    if (expand.length === 0) {
      this.sendJson(ctx, 200, full);
      return;
    }
    const picked: Record<string, unknown> = { _id: full._id, id: full.id };
    for (const key of expand) if (key in full) picked[key] = full[key];
    this.sendJson(ctx, 200, picked);
  }

  private entryJson(commit: Commit, path: string, expand: boolean): Record<string, unknown> {
    const file = commit.files.get(path);
    const dir = file ? undefined : commit.dirs.get(path);
    const last = (file ?? dir)?.lastCommit;
    const json: Record<string, unknown> = file
      ? { type: 'file', oid: file.oid, size: file.blob.size, path }
      : { type: 'directory', oid: dir?.oid, size: 0, path };
    if (file?.lfs) json.lfs = { oid: file.blob.sha256, size: file.blob.size, pointerSize: file.pointer?.byteLength };
    if (expand && last) {
      json.lastCommit = { id: last.id, title: last.title, date: last.date.toISOString() };
      if (file) json.securityFileStatus = { status: 'safe' };
    }
    return json;
  }

  /** §2.2: paged listing; `Link: <absolute url>; rel="next"` with a `cursor` that names the last path sent. */
  private tree(ctx: Ctx, rev: string, path: string): void {
    const repo = this.visibleRepo(ctx);
    if (!repo) return;
    const commit = this.commitFor(ctx, repo, rev);
    if (!commit) return;
    if (path !== '' && !commit.dirs.has(path)) {
      this.sendError(ctx, 404, commit.files.has(path) ? `${path} is not a directory` : 'Entry not found', 'EntryNotFound');
      return;
    }
    const params = ctx.url.searchParams;
    const recursive = isTrue(params.get('recursive'));
    const expand = isTrue(params.get('expand'));
    const prefix = path === '' ? '' : `${path}/`;
    const pageSize = expand ? (this.options.treeExpandPageSize ?? 50) : (this.options.treePageSize ?? 1000);
    let after: string | undefined;
    const cursor = params.get('cursor');
    if (cursor) {
      try {
        const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
        after = (decoded as { file_name?: unknown }).file_name as string;
        if (typeof after !== 'string') throw new Error('bad cursor');
      } catch {
        this.sendError(ctx, 400, 'Invalid cursor');
        return;
      }
    }
    const page: string[] = [];
    let more = false;
    for (const p of commit.sortedPaths) {
      if (!p.startsWith(prefix) || (after !== undefined && p <= after)) continue;
      if (!recursive && p.slice(prefix.length).includes('/')) continue;
      if (page.length === pageSize) {
        more = true;
        break;
      }
      page.push(p);
    }
    const headers: Record<string, string> = {};
    const lastPath = page[page.length - 1];
    if (more && lastPath !== undefined) {
      const next = new URL(ctx.url.pathname, this.url);
      next.searchParams.set('recursive', String(recursive));
      next.searchParams.set('expand', String(expand));
      next.searchParams.set('cursor', Buffer.from(JSON.stringify({ file_name: lastPath })).toString('base64url'));
      headers.Link = `<${next.href}>; rel="next"`;
    }
    this.sendJson(ctx, 200, page.map((p) => this.entryJson(commit, p, expand)), headers);
  }

  /** §2.3: JSON body (JS client) or form body (Python); unknown paths are silently left out. */
  private async pathsInfo(ctx: Ctx, rev: string): Promise<void> {
    let body: string;
    try {
      body = await readBody(ctx.req, 1 << 20);
    } catch {
      this.sendError(ctx, 413, 'Payload too large');
      return;
    }
    const repo = this.visibleRepo(ctx);
    if (!repo) return;
    const commit = this.commitFor(ctx, repo, rev);
    if (!commit) return;
    let paths: string[];
    let expand: boolean;
    const type = ctx.req.headers['content-type'] ?? '';
    try {
      if (type.includes('application/json')) {
        const json = JSON.parse(body) as { paths?: unknown; expand?: unknown };
        const raw = typeof json.paths === 'string' ? [json.paths] : json.paths;
        if (!Array.isArray(raw) || raw.some((p) => typeof p !== 'string')) throw new Error('paths');
        paths = raw as string[];
        expand = json.expand === true || isTrue(typeof json.expand === 'string' ? json.expand : null);
      } else {
        const form = new URLSearchParams(body);
        paths = form.getAll('paths');
        expand = isTrue(form.get('expand'));
      }
    } catch {
      this.sendError(ctx, 400, 'Invalid body: expected {"paths": string[], "expand"?: boolean}');
      return;
    }
    const seen = new Set<string>();
    const out: Record<string, unknown>[] = [];
    for (const raw of paths) {
      const p = raw.replace(/^\/+|\/+$/g, '');
      if (seen.has(p) || (!commit.files.has(p) && !commit.dirs.has(p))) continue;
      seen.add(p);
      out.push(this.entryJson(commit, p, expand));
    }
    this.sendJson(ctx, 200, out);
  }

  private refs(ctx: Ctx): void {
    const repo = this.visibleRepo(ctx);
    if (!repo) return;
    const list = (refs: Map<string, string>, kind: string): unknown[] =>
      [...refs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, id]) => ({ name, ref: `refs/${kind}/${name}`, targetCommit: id }));
    this.sendJson(ctx, 200, { branches: list(repo.branches, 'heads'), converts: [], tags: list(repo.tags, 'tags') });
  }

  private commits(ctx: Ctx, rev: string): void {
    const repo = this.visibleRepo(ctx);
    if (!repo) return;
    let commit = this.commitFor(ctx, repo, rev);
    const out: unknown[] = [];
    while (commit) {
      out.push({ id: commit.id, title: commit.title, message: commit.message, authors: [{ user: commit.author }], date: commit.date.toISOString() });
      commit = commit.parentId === undefined ? undefined : repo.commits.get(commit.parentId);
    }
    if (out.length > 0) this.sendJson(ctx, 200, out);
  }

  private authCheck(ctx: Ctx): void {
    const repo = this.visibleRepo(ctx);
    if (!repo || !this.passesGate(ctx, repo)) return;
    this.sendJson(ctx, 200, {});
  }

  // ---------------------------------------------------------------- upload routes (upload.ts)

  /** A fault of this kind that applies to the request, if any (counted as applied). */
  private takeFault(ctx: Ctx, kind: 'hold' | 'drop-upload'): FaultSpec | undefined {
    for (const fault of this.faults) {
      if (fault.spec.kind !== kind || !fault.matches(ctx.entry.route, ctx.entry.repo, ctx.entry.file) || !fault.take()) continue;
      ctx.entry.faults.push(kind);
      return fault.spec;
    }
    return undefined;
  }

  private holdOn(ctx: Ctx, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : undefined;
      ctx.res.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async answer(ctx: Ctx, answer: UploadAnswer, mayHold = true): Promise<void> {
    const hold = mayHold && answer.status < 300 ? this.takeFault(ctx, 'hold') : undefined;
    if (hold?.kind === 'hold') {
      // Carried out; the answer waits (a commit that completes server-side while the client times out).
      await this.holdOn(ctx, hold.ms);
      if (ctx.res.destroyed || ctx.res.writableEnded) return;
    }
    if (answer.status >= 400) {
      const message = typeof answer.json === 'object' && answer.json !== null ? String((answer.json as { error?: unknown }).error ?? '') : (answer.text ?? '');
      if (answer.json !== undefined) this.sendError(ctx, answer.status, message, answer.code, answer.headers);
      else this.send(ctx, answer.status, answer.text ?? '', answer.headers);
      return;
    }
    if (answer.json !== undefined) this.sendJson(ctx, answer.status, answer.json, answer.headers);
    else this.send(ctx, answer.status, answer.text ?? '', answer.headers);
  }

  private async body(ctx: Ctx, limit = 256 << 20): Promise<string | undefined> {
    try {
      return await readBody(ctx.req, limit);
    } catch {
      this.sendError(ctx, 413, 'Payload Too Large');
      return undefined;
    }
  }

  /** The repo if the caller may write to it: its namespace's user or a member org, with a write token, not locked. */
  private writableRepo(ctx: Ctx, pullRequest = false): Repo | undefined {
    const token = ctx.auth.token;
    if (!token) {
      this.sendError(ctx, 401, NOT_FOUND_ANON);
      return undefined;
    }
    const repo = this.visibleRepo(ctx);
    if (!repo) return undefined;
    if (this.disabled.has(repo.id)) {
      this.sendError(ctx, 403, 'Access to this resource is disabled.');
      return undefined;
    }
    // A community pull request needs only a write token on a public repo; a push needs the namespace.
    const allowed = token.role !== 'read' && (ownsNamespace(token, repo.author) || (pullRequest && !repo.private));
    if (!allowed) {
      this.sendError(ctx, 403, 'Forbidden: pass create_pr=1');
      return undefined;
    }
    return repo;
  }

  private async createRepoRoute(ctx: Ctx): Promise<void> {
    const body = await this.body(ctx, 32 << 20);
    if (body === undefined) return;
    const token = ctx.auth.token;
    if (!token) {
      this.sendError(ctx, 401, NOT_FOUND_ANON);
      return;
    }
    let spec: { name?: unknown; organization?: unknown; type?: unknown; visibility?: unknown; private?: unknown; files?: { path?: unknown; content?: unknown }[] };
    try {
      spec = JSON.parse(body) as typeof spec;
    } catch {
      this.sendError(ctx, 400, 'Invalid JSON body');
      return;
    }
    const namespace = typeof spec.organization === 'string' ? spec.organization : token.user;
    const id = `${namespace}/${String(spec.name)}`;
    if ((spec.type ?? 'model') !== 'model' || typeof spec.name !== 'string' || !/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(id)) {
      this.sendError(ctx, 400, `Invalid repo name ${JSON.stringify(id)}`);
      return;
    }
    // huggingface_hub PR #2053: the Hub's answer for a read token or a namespace that is not the caller's.
    if (token.role === 'read' || !ownsNamespace(token, namespace)) {
      this.sendError(ctx, 403, "You don't have the rights to create a model under this namespace");
      return;
    }
    if (this.canonicalId(id) !== undefined) {
      this.sendJson(ctx, 409, { error: 'You already created this model repo', url: `${this.url}/${this.canonicalId(id)}` }, { 'X-Error-Message': 'You already created this model repo' });
      return;
    }
    const files: Record<string, FileInput> = {};
    for (const f of spec.files ?? []) if (typeof f.path === 'string' && typeof f.content === 'string') files[f.path] = Buffer.from(f.content, 'base64');
    const isPrivate = spec.visibility === 'private' || spec.private === true;
    await this.addRepo({ id, private: isPrivate, files, message: 'initial commit', author: token.user });
    const repo = this.mustRepo(id);
    this.sendJson(ctx, 200, { url: `${this.url}/${id}`, name: id, id: repo.objectId });
  }

  private async preupload(ctx: Ctx): Promise<void> {
    const body = await this.body(ctx, 32 << 20);
    if (body === undefined) return;
    if (!this.writableRepo(ctx, isTrue(ctx.url.searchParams.get('create_pr')))) return;
    await this.answer(ctx, preuploadModes(body));
  }

  private async lfsBatch(ctx: Ctx): Promise<void> {
    const body = await this.body(ctx, 32 << 20);
    if (body === undefined) return;
    // The batch carries `ref` for pushes and none for pull requests.
    let request: { operation?: unknown; transfers?: unknown; hash_algo?: unknown; ref?: unknown; objects?: { oid?: unknown; size?: unknown }[] };
    try {
      request = JSON.parse(body) as typeof request;
    } catch {
      this.sendError(ctx, 400, 'Invalid JSON body');
      return;
    }
    if (!this.writableRepo(ctx, request.ref === undefined)) return;
    if (request.operation !== 'upload' || (request.hash_algo !== undefined && request.hash_algo !== 'sha_256')) {
      this.sendError(ctx, 400, 'Only upload with sha_256 is supported');
      return;
    }
    const repoId = ctx.entry.repo ?? '';
    const objects = (request.objects ?? []).map((o) =>
      this.uploads.batchObject(this.store, this.cdnUrl, this.url, repoId, String(o.oid), Number(o.size), (oid) => this.repoHasObject(repoId, oid)));
    // Xet is never offered: the reply's transfer is basic, so the client falls back (§1 "Xet: is it required?").
    this.send(ctx, 200, JSON.stringify({ transfer: 'basic', objects }), { 'Content-Type': 'application/vnd.git-lfs+json' });
  }

  private async completeMultipart(ctx: Ctx): Promise<void> {
    const body = await this.body(ctx);
    if (body === undefined) return;
    await this.answer(ctx, await this.uploads.complete(ctx.url, body, this.store, this.objectStored));
  }

  private async commitRoute(ctx: Ctx, rev: string): Promise<void> {
    const body = await this.body(ctx, 1 << 30);
    if (body === undefined) return;
    const pullRequest = isTrue(ctx.url.searchParams.get('create_pr'));
    const repo = this.writableRepo(ctx, pullRequest);
    if (!repo) return;
    const parsed = parseCommit(body, this.store, (oid) => this.repoHasObject(repo.id, oid));
    if ('status' in parsed) {
      await this.answer(ctx, parsed);
      return;
    }
    const headId = repo.branches.get(rev);
    if (headId === undefined) {
      this.sendError(ctx, 404, `Invalid rev id: ${rev}`, 'RevisionNotFound');
      return;
    }
    if (parsed.parentCommit !== undefined && !pullRequest && parsed.parentCommit !== headId) {
      this.sendError(ctx, 412, 'A commit has happened since. Please refresh and try again.');
      return;
    }
    const parentId = pullRequest && parsed.parentCommit !== undefined ? parsed.parentCommit : headId;
    const parent = repo.commits.get(parentId);
    if (!parent) {
      this.sendError(ctx, 404, `Invalid rev id: ${parentId}`, 'RevisionNotFound');
      return;
    }
    const message = parsed.description ? `${parsed.summary}\n\n${parsed.description}` : parsed.summary;
    let commit: Commit;
    try {
      commit = await buildCommit(this.store, repo, parent, { files: parsed.files, delete: parsed.deletes, message, author: ctx.auth.token?.user ?? repo.author });
    } catch (error) {
      this.sendError(ctx, 422, (error as Error).message.replace(/^hub-server: /, ''));
      return;
    }
    repo.commits.set(commit.id, commit);
    let branch = rev;
    if (pullRequest) {
      let n = 1;
      while (repo.branches.has(`refs/pr/${n}`)) n += 1;
      branch = `refs/pr/${n}`;
    }
    repo.branches.set(branch, commit.id);
    const answer: Record<string, unknown> = { commitOid: commit.id, commitUrl: `${this.url}/${repo.id}/commit/${commit.id}`, hookOutput: '', success: true };
    if (pullRequest) answer.pullRequestUrl = `${this.url}/${repo.id}/discussions/${branch.slice('refs/pr/'.length)}`;
    await this.answer(ctx, { status: 200, json: answer });
  }

  /** `POST /api/models/{repo}/tag/{rev}` with `{tag, message?}` (huggingface_hub `create_tag`); 409 when it exists. */
  private async tagRoute(ctx: Ctx, rev: string): Promise<void> {
    const body = await this.body(ctx);
    if (body === undefined) return;
    const repo = this.writableRepo(ctx);
    if (!repo) return;
    let tag: unknown;
    try {
      tag = (JSON.parse(body) as { tag?: unknown }).tag;
    } catch {
      tag = undefined;
    }
    if (typeof tag !== 'string' || !/^[\w.\-/]+$/.test(tag)) {
      this.sendError(ctx, 400, 'Invalid tag name');
      return;
    }
    const commit = this.commitFor(ctx, repo, rev);
    if (!commit) return;
    if (repo.tags.has(tag)) {
      this.sendError(ctx, 409, `Tag ${tag} already exists`);
      return;
    }
    repo.tags.set(tag, commit.id);
    await this.answer(ctx, { status: 200, json: {} });
  }

  // ---------------------------------------------------------------- content routes

  /** §2.4: LFS → 302 to a signed CDN URL; public small files → 307 to resolve-cache; otherwise the bytes. */
  private async resolve(ctx: Ctx, rev: string, path: string, raw: boolean): Promise<void> {
    const repo = this.visibleRepo(ctx);
    if (!repo || !this.passesGate(ctx, repo)) return;
    const commit = this.commitFor(ctx, repo, rev);
    if (!commit) return;
    const file = commit.files.get(path);
    if (!file) {
      this.sendError(ctx, 404, 'Entry not found', 'EntryNotFound');
      return;
    }
    if (ctx.req.method === 'GET' && !raw) repo.downloads += 1;
    const commitHeader = { 'X-Repo-Commit': commit.id };
    if (raw && file.pointer) {
      await this.serveBytes(ctx, file.pointer, `"${file.oid}"`, commitHeader);
      return;
    }
    if (file.lfs) {
      const location = this.signedUrl(repo.id, path, file.blob.sha256);
      this.send(ctx, 302, `Found. Redirecting to ${location}`, {
        Location: location, ETag: `"${file.oid}"`, 'X-Linked-Etag': `"${file.blob.sha256}"`,
        'X-Linked-Size': String(file.blob.size), ...commitHeader,
      });
      return;
    }
    const etag = `"${file.blob.gitOid}"`;
    if (!raw && (this.options.resolveCacheRedirect ?? true) && !repo.private && !repo.gated && file.blob.size > 0) {
      const location =
        `/api/resolve-cache/models/${repo.id}/${commit.id}/${encodePath(path)}?` +
        new URLSearchParams({ [`/${repo.id}/resolve/${rev}/${path}`]: '', etag }).toString();
      this.send(ctx, 307, `Temporary Redirect. Redirecting to ${location}`, { Location: location, ETag: etag, ...commitHeader });
      return;
    }
    await this.serveBytes(ctx, file.blob, etag, commitHeader);
  }

  private async resolveCache(ctx: Ctx, commitId: string): Promise<void> {
    const repo = this.visibleRepo(ctx);
    if (!repo || !this.passesGate(ctx, repo)) return;
    const commit = repo.commits.get(commitId);
    const file = commit?.files.get(ctx.entry.file ?? '');
    if (!commit || !file || file.lfs) {
      this.sendError(ctx, 404, 'Entry not found', 'EntryNotFound');
      return;
    }
    await this.serveBytes(ctx, file.blob, `"${file.blob.gitOid}"`, { 'X-Repo-Commit': commit.id });
  }

  private signature(sha256: string, repo: string, path: string, expires: string): string {
    return createHmac('sha256', this.signingKey).update(`${sha256}\n${repo}\n${path}\n${expires}`).digest('hex');
  }

  private signedUrl(repo: string, path: string, sha256: string): string {
    const expires = String(Math.floor((Date.now() + (this.options.signedUrlTtlMs ?? 3_600_000)) / 1000));
    const query = new URLSearchParams({
      repo, path, 'response-content-disposition': contentDisposition(path), Expires: expires,
      Signature: this.signature(sha256, repo, path, expires),
    });
    return `${this.cdnUrl}/cdn-lfs/${sha256}?${query.toString()}`;
  }

  /** The CDN: signed, expiring URLs (403 like S3 once expired); no gate, no X-Linked-*, an ETag of its own. */
  private async routeCdn(ctx: Ctx): Promise<void> {
    const entry = ctx.entry;
    const q = ctx.url.searchParams;
    const segs = ctx.url.pathname.split('/').slice(1);
    entry.route = ctx.req.method === 'PUT' && segs[0] === 'lfs-upload' ? 'lfs-upload' : 'cdn';
    const sha256 = segs[0] === 'cdn-lfs' && segs.length === 2 ? (segs[1] ?? '') : '';
    entry.repo = q.get('repo') ?? undefined;
    entry.file = q.get('path') ?? undefined;
    if (this.statusFault(ctx)) return;
    if (ctx.req.method === 'PUT' && segs[0] === 'lfs-upload' && segs.length === 2) {
      entry.route = 'lfs-upload';
      // A held PUT swallows its body and stores nothing: an upload stuck on the wire (kill -9 tests). The body is
      // read so that a client that goes away is noticed (a paused socket would not see the close).
      const hold = this.takeFault(ctx, 'hold');
      if (hold?.kind === 'hold') {
        ctx.req.resume();
        await this.holdOn(ctx, hold.ms);
        if (!ctx.res.destroyed && !ctx.res.writableEnded) this.send(ctx, 503, 'held upload released', {});
        return;
      }
      const drop = this.takeFault(ctx, 'drop-upload');
      const answer = await this.uploads.put(ctx.req, ctx.url, this.store, drop?.kind === 'drop-upload' ? drop.afterBytes : undefined, this.objectStored);
      await this.answer(ctx, answer, false);
      return;
    }
    const xml = (code: string, message: string): string =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
    const xmlType = { 'Content-Type': 'application/xml' };
    if (ctx.req.method !== 'GET' && ctx.req.method !== 'HEAD') {
      this.send(ctx, 405, xml('MethodNotAllowed', 'Method not allowed'), xmlType);
      return;
    }
    const expires = q.get('Expires') ?? '';
    const given = q.get('Signature') ?? '';
    if (!/^[0-9a-f]{64}$/.test(sha256) || given !== this.signature(sha256, entry.repo ?? '', entry.file ?? '', expires)) {
      this.send(ctx, 403, xml('AccessDenied', 'Access denied'), xmlType);
      return;
    }
    if (Number(expires) * 1000 <= Date.now()) {
      this.send(ctx, 403, xml('AccessDenied', 'Request has expired'), xmlType);
      return;
    }
    const blob = this.store.bySha256.get(sha256);
    if (!blob) {
      this.send(ctx, 404, xml('NoSuchKey', 'The specified key does not exist.'), xmlType);
      return;
    }
    const headers: Record<string, string> = { 'Content-Disposition': q.get('response-content-disposition') ?? 'inline' };
    const xCache = this.options.cdnXCache === undefined ? 'Miss from cloudfront' : this.options.cdnXCache;
    if (xCache !== null) headers['X-Cache'] = xCache;
    // Not the sha256 (§2.4: the CDN's own ETag is not the content hash); stable for the same bytes.
    const etag = `"${createHmac('sha1', 'cdn').update(blob.sha256).digest('hex').slice(0, 32)}"`;
    await this.serveBytes(ctx, blob, etag, headers);
  }

  /** 200 / 206 / 416 with Range and If-Range; the body goes through the fault plan and the rate cap. */
  private async serveBytes(ctx: Ctx, blob: Blob | Buffer, etag: string, headers: Record<string, string>): Promise<void> {
    const { req, res } = ctx;
    const size = Buffer.isBuffer(blob) ? blob.byteLength : blob.size;
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.setHeader('ETag', etag);
    res.setHeader('Accept-Ranges', 'bytes');
    if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', 'application/octet-stream');
    // An empty file has no satisfiable range; answer it whole rather than 416 (a client then sees 200, size 0).
    const parsed = size === 0 ? undefined : parseRange(req.headers.range, size);
    const honoured = parsed !== undefined && ifRangeMatches(header(req, 'if-range'), etag) ? parsed : undefined;
    if (honoured === 'unsatisfiable') {
      this.send(ctx, 416, '', { 'Content-Range': `bytes */${size}` });
      return;
    }
    if (header(req, 'if-none-match') === etag && honoured === undefined) {
      res.statusCode = 304;
      ctx.entry.status = 304;
      res.end();
      return;
    }
    const range: ByteRange = honoured ?? { start: 0, end: size - 1 };
    res.statusCode = honoured ? 206 : 200;
    // Known before the body is written, so a log read mid-transfer already shows it.
    ctx.entry.status = res.statusCode;
    if (honoured) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    res.setHeader('Content-Length', range.end - range.start + 1);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const plan = this.bytePlan(ctx);
    await streamBody(res, blob, range, plan, (n) => {
      ctx.entry.bytesSent += n;
    });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `rev/path…` → [rev, path]; `refs/pr/1`-style revisions may come unencoded as three segments. */
function splitRevPath(segs: string[]): [string, string] {
  if (segs[0] === 'refs' && segs.length >= 3) return [segs.slice(0, 3).join('/'), segs.slice(3).join('/')];
  return [segs[0] ?? '', segs.slice(1).join('/')];
}

function isTrue(value: string | null): boolean {
  return value === 'true' || value === 'True' || value === '1';
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function contentDisposition(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return `inline; filename*=UTF-8''${encodeURIComponent(name)}; filename="${name.replace(/[^\x20-\x7e]|"/g, '_')}";`;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        reject(new Error('too large'));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listenOn(server: Server, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

