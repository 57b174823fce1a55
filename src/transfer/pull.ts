/**
 * `pull`: resolve the revision to one commit, list its files with their hashes, choose what to fetch, check the disk,
 * download in parallel through the transfer engine, place verified files in the cache or a local dir, and update the
 * lockfile. `--frozen` takes the commit and the files from the lockfile and fails (exit 4) where the hub differs;
 * `--offline` touches no network and re-hashes what the lockfile names.
 */
import { resolve as resolvePath } from 'node:path';
import { IntegrityError, NetworkError, UsageError } from '../errors.ts';
import { connectHub, type RemoteFile } from '../hub/client.ts';
import { offlineFromEnv, resolveCacheDir } from '../hub/config.ts';
import { checkRepoId, isCommit } from '../hub/ids.ts';
import { hashFile } from '../integrity/hash.ts';
import {
  DEFAULT_LOCKFILE, emptyLockfile, readLockfile, serializeLockfile, writeLockfile,
  type LockedFile, type LockedRepo, type Lockfile,
} from '../integrity/lockfile.ts';
import type { ProgressSink } from '../progress/events.ts';
import { checkSpace, freeBytes } from './disk.ts';
import { TransferEngine, partialBytes, type TransferTarget } from './engine.ts';
import { CacheLayout, LocalDirLayout, type Layout, type PlacedFile } from './layout.ts';
import { acquireLock } from './lock.ts';
import type { RetryPolicy } from '../util/retry.ts';
import { selectFiles } from './select.ts';

export interface PullOptions {
  repo: string;
  /** Branch, tag or 40-hex commit. Default "main". */
  revision?: string;
  /** Files or folders (`dir/`) to fetch; default the whole repo. */
  paths?: string[];
  include?: string[];
  exclude?: string[];
  /** Plain files in this folder instead of the cache. */
  localDir?: string;
  cacheDir?: string;
  token?: string;
  endpoint?: string;
  /** Lockfile to create or update; default llama.lock.json in the cwd; false for none. */
  lockfile?: string | false;
  frozen?: boolean;
  /** Connections in all. Default 8. */
  concurrency?: number;
  /** Default: HF_HUB_OFFLINE. */
  offline?: boolean;
  onProgress?: ProgressSink;
  signal?: AbortSignal;
  /** Environment to read HF_* from. Default process.env. */
  env?: Record<string, string | undefined>;
  /** Tuning (tests, benchmarks). */
  retry?: RetryPolicy;
  pieceSize?: number;
  idleTimeoutMs?: number;
}

export type PulledStatus = 'downloaded' | 'resumed' | 'present';

export interface PulledFile {
  path: string;
  size: number;
  sha256: string;
  gitSha1?: string;
  status: PulledStatus;
  /** Where the file is now. */
  location: string;
}

export interface PullResult {
  repo: string;
  revision: string;
  commit: string;
  /** Folder holding the files (the snapshot folder in the cache, or the local dir). */
  root: string;
  files: PulledFile[];
  /** Left out by the default rule (duplicate weight formats next to safetensors). */
  skipped: string[];
  /** Bytes that came over the network. */
  bytesDownloaded: number;
  offline: boolean;
  lockfile?: { path: string; updated: boolean };
}


function validateRemotePath(path: string): void {
  if (!path || path.startsWith('/') || path.includes('\\') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new NetworkError('HUB_BAD_RESPONSE', `The hub listed an unsafe file path: ${JSON.stringify(path)}.`, {
      hint: 'Refusing to write outside the target folder. Check --endpoint / HF_ENDPOINT.',
    });
  }
}

function blobOf(file: RemoteFile | { lfsSha256?: string; gitOid: string }): string {
  return file.lfsSha256 ?? file.gitOid;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export async function pull(options: PullOptions): Promise<PullResult> {
  const env = options.env ?? process.env;
  const repo = checkRepoId(options.repo);
  const onProgress = options.onProgress;
  const offline = options.offline ?? offlineFromEnv(env);
  const lockPath = options.lockfile === false ? undefined : resolvePath(options.lockfile ?? DEFAULT_LOCKFILE);
  const lock = lockPath ? await readLockfile(lockPath) : undefined;
  const locked = lock?.repos[repo];
  const layout: Layout = options.localDir ? new LocalDirLayout(resolvePath(options.localDir)) : new CacheLayout(resolveCacheDir(options.cacheDir, env), repo);
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 8));

  if (options.frozen && !locked) {
    throw new UsageError('LOCK_MISSING', `--frozen needs ${repo} in the lockfile ${lockPath ?? '(none)'}, and it is not there.`, {
      hint: 'Run `llama pull` once without --frozen to write the lockfile, and commit it.',
    });
  }
  if (offline) return pullOffline(repo, options, layout, locked, lockPath);

  const client = connectHub({
    endpoint: options.endpoint,
    token: options.token,
    env,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });

  const revision = options.frozen && locked ? locked.revision : (options.revision ?? 'main');
  const commit = options.frozen && locked ? locked.commit : await client.resolveCommit(repo, revision);
  if (options.frozen && locked && options.revision && options.revision !== locked.revision && options.revision !== locked.commit) {
    onProgress?.({ type: 'message', level: 'warn', text: `--frozen: using the locked ${locked.revision} @ ${locked.commit}, not --revision ${options.revision}` });
  }
  const tree = await client.listFiles(repo, commit);
  for (const f of tree) validateRemotePath(f.path);
  const byPath = new Map(tree.map((f) => [f.path, f]));

  let wanted: RemoteFile[];
  let skipped: string[] = [];
  if (options.frozen && locked) {
    const lockedPaths = Object.keys(locked.files).sort();
    const filtered = selectFiles(lockedPaths, { paths: options.paths ?? [], include: options.include ?? [], exclude: options.exclude ?? [] }, repo).selected;
    const problems: string[] = [];
    wanted = [];
    for (const path of filtered) {
      const want = locked.files[path] as LockedFile;
      const have = byPath.get(path);
      if (!have) problems.push(`${path}: not on the hub at ${commit}`);
      else if (have.size !== want.size) problems.push(`${path}: size ${have.size} on the hub, ${want.size} in the lockfile`);
      else if (have.lfsSha256 !== undefined && have.lfsSha256 !== want.sha256) problems.push(`${path}: sha256 ${have.lfsSha256} on the hub, ${want.sha256} in the lockfile`);
      else if (have.lfsSha256 === undefined && want.gitSha1 !== undefined && have.gitOid !== want.gitSha1) problems.push(`${path}: git sha1 ${have.gitOid} on the hub, ${want.gitSha1} in the lockfile`);
      else if (have.lfsSha256 === undefined && want.gitSha1 === undefined) problems.push(`${path}: the lockfile has no git sha1 for this non-LFS file`);
      else wanted.push(have);
    }
    if (problems.length > 0) {
      throw new IntegrityError('LOCK_MISMATCH', `The hub's files differ from the lockfile for ${repo}:\n  ${problems.join('\n  ')}`, {
        hint: 'Someone changed the repo or the lockfile. Review the change, then run `llama pull` without --frozen to update the lockfile.',
        details: { repo, commit, problems },
      });
    }
  } else {
    const sel = selectFiles(tree.map((f) => f.path), { paths: options.paths ?? [], include: options.include ?? [], exclude: options.exclude ?? [] }, repo);
    wanted = sel.selected.map((p) => byPath.get(p) as RemoteFile);
    skipped = sel.skipped;
    if (skipped.length > 0) {
      onProgress?.({ type: 'message', level: 'info', text: `skipped ${skipped.length} duplicate weight file(s) (safetensors present): ${skipped.join(', ')}; name them or use --include to fetch them` });
    }
  }

  const placed = (f: RemoteFile): PlacedFile => ({ path: f.path, size: f.size, blob: blobOf(f) });
  const present = new Set<string>();
  const todo: RemoteFile[] = [];
  for (const f of wanted) {
    if (await layout.isPresent(commit, placed(f))) present.add(f.path);
    else todo.push(f);
  }
  const targets = new Map<string, TransferTarget>();
  let needed = 0;
  for (const f of todo) {
    const t: TransferTarget = {
      repoPath: f.path,
      size: f.size,
      url: `${client.endpoint}/${repo}/resolve/${commit}/${encodePath(f.path)}`,
      partialPath: layout.partialPath(placed(f)),
    };
    if (f.lfsSha256 !== undefined) t.expectedSha256 = f.lfsSha256;
    else t.expectedGitSha1 = f.gitOid;
    targets.set(f.path, t);
    needed += f.size - (await partialBytes(t));
  }
  const root = layout.filesRoot(commit);
  if (needed > 0) checkSpace(root, needed, await freeBytes(root));

  const engine = new TransferEngine({
    endpoint: client.endpoint,
    ...(client.hasToken ? { authHeaders: client.authHeaders(client.endpoint) } : {}),
    concurrency,
    ...(options.pieceSize ? { pieceSize: options.pieceSize } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    repo,
    tokenGiven: client.hasToken,
  });

  const results = new Map<string, PulledFile>();
  const totalBytes = todo.reduce((a, f) => a + f.size, 0);
  const doneByFile = new Map<string, number>();
  let lastTotalEmit = 0;
  const emitTotal = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - lastTotalEmit < 100) return;
    lastTotalEmit = now;
    let done = 0;
    for (const v of doneByFile.values()) done += v;
    onProgress?.({ type: 'advance', task: 'pull', done, total: totalBytes });
  };
  onProgress?.({ type: 'start', task: 'pull', label: `${repo}@${commit.slice(0, 10)}`, unit: 'bytes', total: totalBytes });

  // Biggest first: long transfers start early and small files fill the remaining connections.
  const queue = [...todo].sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1));
  // One failing file stops the others at once (their partials stay for a resume), not after they finish.
  const abort = new AbortController();
  const stop = options.signal ? AbortSignal.any([options.signal, abort.signal]) : abort.signal;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    for (;;) {
      const f = queue.shift();
      if (!f || firstError !== undefined) return;
      try {
        const out = await fetchOne(f);
        if (out) results.set(f.path, out);
      } catch (error) {
        if (firstError === undefined) firstError = error;
        abort.abort(error);
        return;
      }
    }
  };
  const fetchOne = async (f: RemoteFile): Promise<PulledFile | undefined> => {
    const pf = placed(f);
    const task = `pull:${f.path}`;
    const release = await acquireLock(layout.lockPath(pf), {
      signal: stop,
      onWait: (pid) => onProgress?.({ type: 'message', level: 'info', text: `${f.path}: another process (pid ${pid}) is downloading it; waiting` }),
    });
    try {
      if (await layout.isPresent(commit, pf)) {
        // Another process placed it while we waited for the lock.
        doneByFile.set(f.path, f.size);
        return undefined;
      }
      onProgress?.({ type: 'start', task, label: f.path, unit: 'bytes', total: f.size, parent: 'pull' });
      let lastEmit = 0;
      const out = await engine.transfer(targets.get(f.path) as TransferTarget, (done) => {
        doneByFile.set(f.path, done);
        const now = Date.now();
        if (now - lastEmit >= 100 || done === f.size) {
          lastEmit = now;
          onProgress?.({ type: 'advance', task, done, total: f.size });
        }
        emitTotal(false);
      }, stop);
      const location = await layout.place(commit, pf, (targets.get(f.path) as TransferTarget).partialPath);
      onProgress?.({ type: 'end', task, ok: true, ...(out.resumedBytes > 0 ? { note: `resumed at ${out.resumedBytes} bytes` } : {}) });
      return { ...finished(f, out.resumedBytes > 0 ? 'resumed' : 'downloaded', location), sha256: out.sha256 };
    } catch (error) {
      onProgress?.({ type: 'end', task, ok: false, note: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      await release();
    }
  };
  const finished = (f: RemoteFile, status: PulledStatus, location: string): PulledFile => {
    const out: PulledFile = { path: f.path, size: f.size, sha256: f.lfsSha256 ?? '', status, location };
    if (f.lfsSha256 === undefined) out.gitSha1 = f.gitOid;
    return out;
  };

  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, queue.length)) }, worker));
  emitTotal(true);
  onProgress?.({ type: 'end', task: 'pull', ok: firstError === undefined });
  if (firstError !== undefined) throw firstError;

  // Files that were already here: their sha256 comes from the tree (LFS), the lockfile, or one hashing read (small files).
  for (const f of wanted) {
    if (results.has(f.path)) continue;
    const pf = placed(f);
    const location = layout.filePath(commit, pf);
    const out = finished(f, 'present', location);
    if (!out.sha256) {
      const prev = locked?.files[f.path];
      out.sha256 = prev && prev.gitSha1 === f.gitOid && prev.size === f.size ? prev.sha256 : (await hashFile(location)).sha256;
    }
    results.set(f.path, out);
  }
  // Small files downloaded: sha256 was computed while streaming; a frozen pull also checks it against the lockfile.
  if (options.frozen && locked) {
    const bad = [...results.values()].filter((r) => r.sha256 !== locked.files[r.path]?.sha256);
    if (bad.length > 0) {
      throw new IntegrityError('LOCK_MISMATCH', `sha256 differs from the lockfile: ${bad.map((b) => `${b.path} (got ${b.sha256}, locked ${locked.files[b.path]?.sha256})`).join(', ')}`, {
        hint: 'The hub serves other bytes than when the lockfile was written. Review, then run `llama pull` without --frozen.',
        details: { files: bad.map((b) => b.path) },
      });
    }
  }
  await layout.recordRevision(revision, commit);

  const files = wanted.map((f) => results.get(f.path) as PulledFile);
  const result: PullResult = { repo, revision, commit, root, files, skipped, bytesDownloaded: engine.fetchedBytes, offline: false };
  if (lockPath) {
    let updated = false;
    if (!options.frozen) {
      const next = updateLock(lock ?? emptyLockfile(), repo, revision, commit, files);
      if (!lock || serializeLockfile(next) !== serializeLockfile(lock)) {
        await writeLockfile(lockPath, next);
        updated = true;
      }
    }
    result.lockfile = { path: lockPath, updated };
  }
  return result;
}

function updateLock(lock: Lockfile, repo: string, revision: string, commit: string, files: PulledFile[]): Lockfile {
  const prev = lock.repos[repo];
  // Same commit: add to what was locked before (pulling a few files later keeps the others); new commit: replace.
  const entries: Record<string, LockedFile> = prev && prev.commit === commit ? { ...prev.files } : {};
  for (const f of files) entries[f.path] = f.gitSha1 === undefined ? { size: f.size, sha256: f.sha256 } : { size: f.size, sha256: f.sha256, gitSha1: f.gitSha1 };
  const entry: LockedRepo = { revision, commit, files: entries };
  return { lockfileVersion: lock.lockfileVersion, repos: { ...lock.repos, [repo]: entry } };
}

async function pullOffline(repo: string, options: PullOptions, layout: Layout, locked: LockedRepo | undefined, lockPath: string | undefined): Promise<PullResult> {
  const onProgress = options.onProgress;
  if (!locked) {
    throw new UsageError('OFFLINE_NO_LOCK', `Offline, and the lockfile ${lockPath ?? '(none)'} has no entry for ${repo}.`, {
      hint: 'Run `llama pull` once online to fill the cache and write the lockfile, or pass --lock with the right file.',
    });
  }
  if (options.revision && options.revision !== locked.revision && options.revision !== locked.commit) {
    throw new UsageError('OFFLINE_REVISION', `Offline, the lockfile pins ${repo} to ${locked.revision} (${locked.commit}), not ${options.revision}.`, {
      hint: 'Drop --revision or go online to pull that revision.',
    });
  }
  const commit = locked.commit;
  if (!isCommit(commit)) throw new UsageError('LOCKFILE_INVALID', `The lockfile's commit for ${repo} is not a commit id.`, { hint: 'Pull online again.' });
  const paths = selectFiles(Object.keys(locked.files).sort(), { paths: options.paths ?? [], include: options.include ?? [], exclude: options.exclude ?? [] }, repo).selected;
  const missing: string[] = [];
  const bad: string[] = [];
  const files: PulledFile[] = [];
  onProgress?.({ type: 'start', task: 'verify', label: `${repo}@${commit.slice(0, 10)} (offline)`, unit: 'items', total: paths.length });
  let n = 0;
  for (const path of paths) {
    const want = locked.files[path] as LockedFile;
    const pf: PlacedFile = { path, size: want.size, blob: want.gitSha1 ?? want.sha256 };
    const location = layout.filePath(commit, pf);
    let got;
    try {
      got = await hashFile(location);
    } catch {
      missing.push(path);
      continue;
    }
    if (got.size !== want.size || got.sha256 !== want.sha256) bad.push(`${path} (expected sha256 ${want.sha256}, got ${got.sha256})`);
    else files.push({ path, size: want.size, sha256: want.sha256, ...(want.gitSha1 ? { gitSha1: want.gitSha1 } : {}), status: 'present', location });
    onProgress?.({ type: 'advance', task: 'verify', done: ++n, total: paths.length });
  }
  onProgress?.({ type: 'end', task: 'verify', ok: missing.length === 0 && bad.length === 0 });
  if (bad.length > 0) {
    throw new IntegrityError('HASH_MISMATCH', `Offline check failed for ${repo}: ${bad.join('; ')}.`, {
      hint: 'The local copy is corrupt. Go online and run `llama pull` again to replace it.',
      details: { files: bad },
    });
  }
  if (missing.length > 0) {
    throw new NetworkError('OFFLINE_MISSING', `Offline, and ${missing.length} locked file(s) of ${repo} are not here: ${missing.join(', ')}.`, {
      hint: 'Run `llama pull` without --offline (and with HF_HUB_OFFLINE unset) to fetch them.',
      details: { missing },
    });
  }
  await layout.recordRevision(locked.revision, commit);
  const result: PullResult = { repo, revision: locked.revision, commit, root: layout.filesRoot(commit), files, skipped: [], bytesDownloaded: 0, offline: true };
  if (lockPath) result.lockfile = { path: lockPath, updated: false };
  return result;
}
