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
import {
  BlobStore, buildCommit, objectIdFor, readCardData, resolveRevision, validateRepoId,
  type AccessState, type Blob, type Commit, type CommitSpec, type FileEntry, type FileInput, type GatedMode, type Repo,
} from './store.ts';

export type RouteKind =
  | 'model-info' | 'tree' | 'paths-info' | 'refs' | 'commits' | 'auth-check' | 'whoami'
  | 'resolve' | 'raw' | 'resolve-cache' | 'cdn' | 'other';

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
}

export interface TokenInfo {
  user: string;
  /** false: a fine-grained token lacking the public-gated-repos permission. Default true. */
  gatedRepos?: boolean;
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
    return s.kind === 'status' || FILE_ROUTES.has(route);
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

  constructor(options: HubServerOptions) {
    this.options = options;
    this.bytesPerSecond = options.bytesPerSecond;
    for (const [token, info] of Object.entries(options.tokens ?? {})) this.addToken(token, info);
  }

  async listen(): Promise<void> {
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
    const user = ctx.auth.token?.user;
    const visible = repo && (!repo.private || (user !== undefined && (user === repo.author || repo.access.get(user) === 'granted')));
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
      auth: { type: 'access_token', accessToken: { displayName: 'test token', role: token.gatedRepos === false ? 'fineGrained' : 'read' } },
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
    entry.route = 'cdn';
    const q = ctx.url.searchParams;
    const segs = ctx.url.pathname.split('/').slice(1);
    const sha256 = segs[0] === 'cdn-lfs' && segs.length === 2 ? (segs[1] ?? '') : '';
    entry.repo = q.get('repo') ?? undefined;
    entry.file = q.get('path') ?? undefined;
    if (this.statusFault(ctx)) return;
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

