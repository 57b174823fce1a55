/**
 * A local Hugging Face Hub for tests, benchmarks and the demo: a real `node:http` server on 127.0.0.1 (ephemeral
 * port) that speaks the download protocol the way huggingface.co does, so `@huggingface/hub` 2.17.5 and our own
 * `llama pull` can run against it unmodified (pass `hubUrl: hub.url`). Facts: /work/shared/research/hub-protocol.md
 * (§ numbers below).
 *
 * ```ts
 * const hub = await startHubServer({ tokens: { hf_alice0000000: 'alice' } });
 * await hub.addRepo({
 *   id: 'meta-llama/Tiny', gated: 'manual', access: { alice: 'granted' },
 *   files: { 'config.json': '{}', 'model.safetensors': { path: '/tmp/big.bin' }, 'README.md': '---\nlicense: llama3.2\n---\n' },
 * });
 * // … client work against hub.url …
 * assert.equal(hub.stats().fileBytesSent, 1234);
 * await hub.close();
 * ```
 *
 * ROUTES (models only; repo ids are "org/name")
 * - `GET /api/models/{repo}` and `/api/models/{repo}/revision/{rev}` (rev URL-encoded or `refs/pr/1` raw): `_id`,
 *   `id`, `author`, `sha` (40-hex commit), `lastModified` (commit date), `createdAt`, `private`,
 *   `gated` (false|"auto"|"manual"), `disabled`, `downloads` (counts resolve GETs), `likes`, `tags`, `cardData` (YAML
 *   front matter of README.md, when present), `siblings[{rfilename}]` (+`size`, `blobId`, `lfs{sha256,size,pointerSize}`
 *   with `?blobs=true`), `usedStorage`, plus `RepoSpec.info`. Any `expand=`/`expand[]=` → only those keys + `_id`, `id`.
 * - `GET /api/models/{repo}/tree/{rev}[/{path}]?recursive=&expand=`: entries `{type, oid, size, path, lfs?}` in path
 *   order (directories included; `oid` = git blob/tree sha1 computed exactly as git does, for LFS files the pointer's
 *   blob sha1; `lfs.oid` = sha256). `expand=true` adds `lastCommit{id,title,date}` (last commit that changed the entry)
 *   and `securityFileStatus{status:"safe"}` on files. Pages of 1000 (50 with expand) with
 *   `Link: <http://127.0.0.1:PORT/…&cursor=…>; rel="next"` (absolute, as parseLinkHeader needs, §1.2).
 *   Missing folder → 404 EntryNotFound.
 * - `POST /api/models/{repo}/paths-info/{rev}`: JSON `{"paths":[…],"expand":bool}` or form `paths=a&paths=b&expand=True`;
 *   same entry shape; unknown paths are left out.
 * - `GET /api/models/{repo}/refs` `{branches,converts,tags}`, `/commits/{rev}` (history, newest first),
 *   `/auth-check` (gate check), `GET /api/whoami-v2`.
 * - `GET|HEAD /{repo}/resolve/{rev}/{path}` (and `/raw/`, which serves the LFS pointer for LFS files):
 *   - LFS file → `302 Location: {cdnUrl}/cdn-lfs/{sha256}?…&Expires=…&Signature=…` with `X-Linked-Etag: "<sha256>"`,
 *     `X-Linked-Size`, `X-Repo-Commit`, `ETag: "<pointer sha1>"`.
 *   - small file of a public (not private, not gated) repo → `307` to same-origin
 *     `/api/resolve-cache/models/{repo}/{commit}/{path}?…&etag=…` (§2.4), which serves the bytes; private/gated repos
 *     and empty files are served directly. Turn the 307 off with `resolveCacheRedirect: false`.
 *   - bytes: `ETag: "<git sha1>"`, `X-Repo-Commit`, `Accept-Ranges: bytes`, `Content-Length`; `Range: bytes=a-b|a-|-n`
 *     → 206 + `Content-Range: bytes a-b/size`; a start ≥ size → 416 + `Content-Range: bytes *\/size` (star, slash,
 *     size); a multi-range or malformed Range is ignored (200); `If-Range` that is not the current strong ETag → 200 whole body;
 *     `If-None-Match` equal to the ETag → 304. An empty file answers 200 (no satisfiable range exists).
 * - CDN (`cdn: 'cross-origin'`, the default: a second server on another port, so fetch drops `Authorization` on the
 *   hop as it does against the real CDN, §1.6; `'same-origin'`: the same paths on the hub port). Signed URLs expire
 *   after `signedUrlTtlMs` (default 1 h) or at once with `expireSignedUrls()`; expired/bad → 403
 *   `application/xml` `<Error><Code>AccessDenied</Code>…` as S3 does. Serves bytes with Range/If-Range, its own ETag
 *   (not the sha256, §2.4), no X-Linked-* headers, `X-Cache: Miss from cloudfront` (option `cdnXCache`, null omits it;
 *   with it the JS client sends its body GET straight to the CDN URL, §1.6). So, as with the real hub, the JS
 *   client's `fileDownloadInfo().etag` for an LFS file is the CDN's ETag; the sha256 is in tree/paths-info `lfs.oid`
 *   and in the 302's `X-Linked-Etag`.
 * - Renamed (`renameRepo(from, to)`) or mis-cased repo ids: `307` with a path-only `Location` (same path and query,
 *   repo id replaced) on every repo route, POST paths-info included (§2.4).
 *
 * AUTH AND ERRORS (§2.5; `X-Error-Code`/`X-Error-Message` headers, JSON `{"error": msg}` on /api/*, text elsewhere;
 * every response has `X-Request-Id`)
 * - `Authorization: Bearer hf_…` for a token in `tokens`/`addToken`; an unknown token → 401
 *   "Invalid credentials in Authorization header" (no code) on every route.
 * - missing repo, or private repo the caller may not read: anonymous → 401 "Invalid username or password." (no code);
 *   with a token → 404 `RepoNotFound` "Repository not found". A private repo is readable by its namespace's user
 *   (user name = org) and by users with access 'granted'.
 * - bad revision → 404 `RevisionNotFound` "Invalid rev id: {rev}"; missing file → 404 `EntryNotFound` "Entry not found".
 * - gated repos: metadata, tree and paths-info stay open; resolve/raw/resolve-cache/auth-check need access:
 *   anonymous → 401 `GatedRepo` "Access to model {id} is restricted. You must have access to it and be authenticated
 *   to access it. Please log in."; token without access → 403 `GatedRepo` "Access to model {id} is restricted and you
 *   are not in the authorized list. Visit {hub.url}/{id} to ask for access."; pending → 403 `GatedRepo` "Your request
 *   to access model {id} is awaiting a review from the repo authors."; rejected → 403 `GatedRepo` (status not pinned by
 *   the facts); `setAccess(repo, user, state)` changes it, `requestAccess(repo, user)` acts like the web button
 *   (auto → granted, manual → pending); a fine-grained token created with `{ user, gatedRepos: false }` → 403
 *   "Forbidden" (no code).
 *
 * FAULTS (`injectFault(spec)` → handle with `seen`, `applied`, `remove()`): match by `repo`, `path`, `routes`, after
 * `skip` matching requests, for `times` requests.
 * - `{kind:'status', status: 429|503|…, retryAfter?: seconds | HTTP-date}`: answered before auth, on any route
 *   unless `routes` narrows it.
 * - `{kind:'truncate', afterBytes}`: full Content-Length announced, connection closed (FIN) after N body bytes.
 * - `{kind:'reset', afterBytes}`: same, then TCP RST.
 * - `{kind:'flip', offset, mask?}`: the byte at that *file* offset XORed (default 0xff) in any body that covers it.
 * - `{kind:'throttle', bytesPerSecond}`: rate cap for matching responses.
 * - `{kind:'stall', afterBytes, ms}`: headers and N body bytes, then silence for `ms` (Infinity: until the client
 *   gives up), then the rest; for read-timeout tests.
 * Byte faults only count responses that carry file bytes (resolve/raw/resolve-cache/CDN GET 200/206).
 * `bytesPerSecond` (option or `setRateLimit`) caps every connection's file bytes: a virtual clock per socket, one
 * timer per chunk (chunks of rate/50 bytes), exact over the long run.
 *
 * FILES: strings/bytes are copied and kept in memory; `{ path }` files are hashed once when added (streaming; from
 * 64 MiB the git sha1 and the sha256 run in two worker threads at once: 2 GiB took 6.4 s on a loaded 2-core box; the
 * same path+size+mtime is not hashed again; or pass trusted `sha256` + `gitOid` to skip it) and streamed from
 * disk on every request, never loaded whole. LFS by default for HF's default .gitattributes extensions
 * (.safetensors, .bin, .gguf, .pt, .model, …) and anything over 10 MB; force with `{ data|path, lfs: true|false }`.
 *
 * REVISIONS: `addRepo` makes the initial commit on `main`; `commit(repo, {files, delete, message, branch})` adds one
 * (returns its id); `setBranch`/`setTag` create or move refs (a "branch moved" test); `head(repo, rev)` resolves.
 * Commit ids are real git commit hashes of the content (deterministic: dates default to 2024-01-01 + 1 min per commit).
 *
 * LOG: `log` holds one entry per request `{seq, server, method, path, route, repo, file, status, range, bytesSent,
 * authorization (boolean only: token values are never stored), faults, done}`; `stats(filter?)` sums requests,
 * `bytesSent`, `fileBytesSent`, per route and status; `resetLog()`; `await idle()` before reading the log after a
 * client aborted a transfer.
 *
 * METHODS (HubServer): `url`, `cdnUrl` (equal to `url` with a same-origin CDN), `addToken(token, user|{user,
 * gatedRepos})`, `addRepo(spec)` → initial commit id, `renameRepo`, `commit`, `setBranch`, `deleteBranch`, `setTag`,
 * `head`, `setAccess`, `requestAccess`, `setVisibility(repo, {private, gated})`, `file(repo, path, rev?)` → `{size, oid,
 * gitOid, sha256, lfs, etag, lastCommit}`, `files(repo, rev?)`, `injectFault`, `clearFaults`, `setRateLimit`,
 * `expireSignedUrls`, `log`, `stats`, `resetLog`, `idle`, `close`.
 *
 * UPLOADS (upload.ts; facts: ../shared/research/publish-sign-quant2.md §1, as `@huggingface/hub` `createRepo`/`commit`
 * speak it; tokens carry `role` ('read' | 'write', default 'write') and `orgs`, shown by whoami-v2):
 * - `POST /api/repos/create` `{name, organization?, type, visibility|private, files?}` → `{url, name, id}`; 403 "You
 *   don't have the rights to create a model under this namespace" for a read token or a namespace that is neither the
 *   user nor one of its orgs; 409 "You already created this model repo" when it exists. The repo starts with one
 *   empty commit.
 * - `POST /api/models/{repo}/preupload/{rev}` → `uploadMode` lfs|regular per file (default .gitattributes patterns or
 *   over 10 MB).
 * - `POST /{repo}.git/info/lfs/objects/batch` → `transfer: "basic"` (Xet never offered); objects already stored (even
 *   uploaded but never committed) get no `actions`; others a presigned PUT on the CDN origin (no Authorization needed),
 *   or, above `upload.multipartChunkSize` (default 64 MiB), `header.chunk_size` + one part URL per part and a
 *   completion href `POST /api/complete_multipart?…`. Objects over `upload.maxFileSize` get a per-object 422 error.
 * - PUTs stream to disk while hashed: a whole object must hash to its oid (else 400 BadDigest, nothing kept); a part
 *   answers `ETag: "<md5>"`; completion checks every part's ETag and the joined sha256.
 * - `POST /api/models/{repo}/commit/{branch}[?create_pr=1]` NDJSON (header, file base64, lfsFile, deletedFile) →
 *   `{commitOid, commitUrl, hookOutput}` (+ `pullRequestUrl`, branch `refs/pr/N`); 412 when `parentCommit` is not the
 *   branch head; 422 for an lfsFile whose object was not uploaded or an inline file over 10 MB.
 * - `POST /api/models/{repo}/tag/{rev}` `{tag}` → 200; 409 when the tag exists.
 * - Writes need a write token of the namespace's user or one of its orgs (a public repo's pull request: any write
 *   token), else 403 "Forbidden: pass create_pr=1"; anonymous 401; `setDisabled(repo, true)` → 403 "Access to this
 *   resource is disabled.".
 * - Faults: `{kind:'hold', ms}` carries the request out, then holds its answer (a commit that completes while the
 *   client times out); on a presigned PUT it reads and drops the body, stores nothing and answers nothing for `ms` (then 503): an
 *   upload stuck on the wire; `{kind:'drop-upload', afterBytes}` drops a presigned PUT's connection mid-body; status faults
 *   work on every upload route (`routes: ['lfs-complete']` …).
 * - `hasObject(sha256)`, `repoIds()`, `tags(repo)`; uploaded repos are served to downloads like any other.
 *
 * NOT SERVED: xet (the server never answers `application/vnd.xet-fileinfo+json`, so clients use plain HTTP, §1.7),
 * datasets/spaces, listModels, the repo settings API.
 *
 * CLI: `node test/support/hub-server/main.ts --dir DIR --repo org/name [--gated] [--private] [--token hf_x]
 * [--user NAME] [--pending-token hf_y] [--rate BYTES_PER_S] [--port N] [--same-origin-cdn] [--log]` prints the URL on
 * stdout and serves until SIGINT/SIGTERM.
 */
import { HubServerImpl, type HubServerOptions } from './server.ts';

export type {
  FaultHandle, FaultMatch, FaultSpec, FileFacts, HubServerOptions, HubStats, RepoSpec, RequestLogEntry, RouteKind,
  TokenInfo,
} from './server.ts';
export type { AccessState, CommitSpec, FileInput, GatedMode } from './store.ts';
export type { UploadOptions } from './upload.ts';
export { gitBlobOid, hashBytes, lfsPointer } from './git.ts';

export type HubServer = Pick<
  HubServerImpl,
  | 'url' | 'cdnUrl' | 'log' | 'close' | 'addToken' | 'addRepo' | 'renameRepo' | 'commit' | 'setBranch' | 'deleteBranch'
  | 'setTag'
  | 'head' | 'setAccess' | 'requestAccess' | 'setVisibility' | 'file' | 'files' | 'injectFault' | 'clearFaults' | 'setRateLimit'
  | 'expireSignedUrls' | 'stats' | 'resetLog' | 'idle' | 'setDisabled' | 'hasObject' | 'repoIds' | 'tags'
>;

/** Start the fake hub (and its CDN) on 127.0.0.1 with ephemeral ports. Always `await hub.close()`. */
export async function startHubServer(options: HubServerOptions = {}): Promise<HubServer> {
  const server = new HubServerImpl(options);
  await server.listen();
  return server;
}
