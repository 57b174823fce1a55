/**
 * `pull`: resolve the revision to one commit, list its files with their hashes, choose what to fetch, check the disk,
 * download in parallel through the transfer engine, place verified files in the cache or a local dir, and update the
 * lockfile. `--frozen` takes the commit and the files from the lockfile and fails (exit 4) where the hub differs;
 * `--offline` touches no network and re-hashes what the lockfile names.
 */
import { resolve as resolvePath } from 'node:path';
import { AbortError, AccessError, IntegrityError, NetworkError, UsageError } from '../errors.ts';
import { connectHub, type HubClient, type RemoteFile } from '../hub/client.ts';
import { offlineFromEnv, resolveCacheDir } from '../hub/config.ts';
import { checkRepoId } from '../hub/ids.ts';
import { hashFile } from '../integrity/hash.ts';
import { compareLockToHub, listLockedCommit, lockMismatch } from '../integrity/lock-check.ts';
import { describeDigest, digestsMatch, matchingRecord, writeVerificationRecord, type ExpectedDigests } from '../integrity/record.ts';
import { DEFAULT_LOCKFILE, emptyLockfile, readLockfile, serializeLockfile, writeLockfile } from '../integrity/lockfile.ts';
import { checkSpace, freeBytes } from './disk.ts';
import { DEFAULT_CONCURRENCY, TransferEngine } from './engine.ts';
import { HttpClient } from './http.ts';
import { discardPartial, partialBytes, type TransferTarget } from './resume-state.ts';
import { CacheLayout, LocalDirLayout, type Layout, type PlacedFile } from './layout.ts';
import { acquireLock } from './lock.ts';
import { nothingSelected, selectFiles } from './select.ts';
import { pullOffline } from './pull-offline.ts';
import type { CheckedBy, PulledFile, PulledStatus, PullOptions, PullResult } from './pull-types.ts';
import { lockMove, lockedLocalDir, updateLock } from '../integrity/lock-update.ts';

export type { CheckedBy, PulledFile, PulledStatus, PullOptions, PullResult } from './pull-types.ts';
export type { LockMove } from '../integrity/lock-update.ts';

function validateRemotePath(path: string): void {
  if (!path || path.startsWith('/') || path.includes('\\') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new NetworkError('HUB_BAD_RESPONSE', `The hub listed an unsafe file path: ${JSON.stringify(path)}.`, {
      hint: 'Refusing to write outside the target folder. Check --endpoint / HF_ENDPOINT.',
    });
  }
}

/**
 * The hub's access check (`GET /api/models/{repo}/auth-check`, what huggingface_hub's `auth_check` asks): gate
 * errors show on content routes and here, never on the metadata already read. Only an access error counts; a hub
 * without the route (a mirror) is not asked again, and the downloads report whatever else is wrong.
 */
async function checkAccess(client: HubClient, repo: string): Promise<void> {
  try {
    const answer = await client.fetchFor({ repo })(`${client.endpoint}/api/models/${repo}/auth-check`);
    await answer.body?.cancel();
  } catch (error) {
    if (error instanceof AccessError) throw error;
  }
}

function blobOf(file: RemoteFile | { lfsSha256?: string; gitOid: string }): string {
  return file.lfsSha256 ?? file.gitOid;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * Pull a repo (see the module comment). When `signal` aborts, it stops at the next byte, lock or hash step and throws
 * an AbortError: partial downloads stay with their resume records, nothing is placed half-written, the lockfile is
 * not changed.
 */
export async function pull(options: PullOptions): Promise<PullResult> {
  try {
    return await pullRepo(options);
  } catch (error) {
    if (options.signal?.aborted) {
      throw new AbortError('pull stopped; partial downloads are kept and the next run resumes them; the lockfile was not changed', { cause: error });
    }
    throw error;
  }
}

async function pullRepo(options: PullOptions): Promise<PullResult> {
  const env = options.env ?? process.env;
  const repo = checkRepoId(options.repo);
  const onProgress = options.onProgress;
  const offline = options.offline ?? offlineFromEnv(env);
  const cwd = options.cwd ?? process.cwd();
  const lockPath = options.lockfile === false ? undefined : resolvePath(cwd, options.lockfile ?? DEFAULT_LOCKFILE);
  const lock = lockPath ? await readLockfile(lockPath) : undefined;
  const locked = lock?.repos[repo];
  const localDir = options.localDir ? resolvePath(cwd, options.localDir) : undefined;
  const layout: Layout = localDir ? new LocalDirLayout(localDir) : new CacheLayout(resolvePath(cwd, resolveCacheDir(options.cacheDir, env)), repo);
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));

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
  const tree = options.frozen && locked ? await listLockedCommit(client, repo, locked) : await client.listFiles(repo, commit);
  for (const f of tree) validateRemotePath(f.path);
  const byPath = new Map(tree.map((f) => [f.path, f]));
  const runSelection = { paths: options.paths ?? [], include: options.include ?? [], exclude: options.exclude ?? [] };

  let wanted: RemoteFile[];
  let skipped: string[] = [];
  if (options.frozen && locked) {
    const comparison = compareLockToHub(repo, locked, tree, runSelection);
    if (comparison.problems.length > 0) throw lockMismatch(repo, commit, comparison.problems);
    if (comparison.selectionUnknown) {
      onProgress?.({ type: 'message', level: 'warn', text: `--frozen: the lockfile records no selection for ${repo} (written by an older version), so files on the hub that it lacks are not checked; run \`llama pull\` once to record it` });
    }
    wanted = comparison.wanted;
    if (wanted.length === 0) throw nothingSelected(repo, runSelection, `the lockfile's files of ${repo}`);
  } else {
    const sel = selectFiles(tree.map((f) => f.path), runSelection, repo);
    if (sel.selected.length === 0) throw nothingSelected(repo, runSelection, `${repo}@${commit}`);
    wanted = sel.selected.map((p) => byPath.get(p) as RemoteFile);
    skipped = sel.skipped;
    if (skipped.length > 0) {
      onProgress?.({ type: 'message', level: 'info', text: `skipped ${skipped.length} duplicate weight file(s) (safetensors present): ${skipped.join(', ')}; name them or use --include to fetch them` });
    }
  }

  const placed = (f: RemoteFile): PlacedFile => ({ path: f.path, size: f.size, blob: blobOf(f) });
  const expectedOf = (f: RemoteFile): ExpectedDigests => (f.lfsSha256 !== undefined ? { size: f.size, sha256: f.lfsSha256 } : { size: f.size, gitSha1: f.gitOid });
  const results = new Map<string, PulledFile>();
  const replaced = new Set<string>();
  const finished = (f: RemoteFile, status: PulledStatus, checked: CheckedBy, location: string, sha256: string): PulledFile => {
    const out: PulledFile = { path: f.path, size: f.size, sha256, status, checked, location };
    if (f.lfsSha256 === undefined) out.gitSha1 = f.gitOid;
    return out;
  };
  /**
   * A copy that is here counts only when checked: by its verification record (unless --frozen, which trusts
   * nothing), else by hashing it now. A copy that fails is removed, so it is never served, and fetched again.
   */
  const checkPresent = async (f: RemoteFile): Promise<PulledFile | undefined> => {
    const pf = placed(f);
    if (options.forceDownload || !(await layout.isPresent(commit, pf))) return undefined;
    const location = layout.filePath(commit, pf);
    const expected = expectedOf(f);
    if (!options.frozen) {
      const record = await matchingRecord(layout.recordPath(pf), location, expected);
      if (record) return finished(f, 'present', 'record', location, record.sha256);
    }
    const got = await hashFile(location, { gitSha1: f.lfsSha256 === undefined, signal: options.signal });
    if (digestsMatch(got, expected)) {
      await writeVerificationRecord(layout.recordPath(pf), location, got);
      return finished(f, 'present', 'hashed', location, got.sha256);
    }
    const algorithm = f.lfsSha256 !== undefined ? 'sha256' : 'git-sha1';
    onProgress?.({
      type: 'message',
      level: 'warn',
      text: `${f.path}: the copy here does not match its ${algorithm} (expected ${describeDigest(expected, algorithm)}, got ${describeDigest(got, algorithm)}); removed, downloading it again`,
    });
    await layout.remove(commit, pf);
    replaced.add(f.path);
    return undefined;
  };
  const todo: RemoteFile[] = [];
  for (const f of wanted) {
    options.signal?.throwIfAborted();
    const here = await checkPresent(f);
    if (here) results.set(f.path, here);
    else todo.push(f);
  }
  // One question before any file is opened: a gated repo without access fails once, here, with one message.
  if (todo.length > 0) await checkAccess(client, repo);
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
    // --force-download starts from byte 0, not from a partial left by an earlier run.
    if (options.forceDownload) await discardPartial(t);
    needed += f.size - (await partialBytes(t));
  }
  const root = layout.filesRoot(commit);
  if (needed > 0) checkSpace(root, needed, await freeBytes(root));

  const engine = new TransferEngine({
    endpoint: client.endpoint,
    get: options.get ?? new HttpClient({ env }).get,
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
        results.set(f.path, await fetchOne(f));
      } catch (error) {
        if (firstError === undefined) firstError = error;
        abort.abort(error);
        return;
      }
    }
  };
  const fetchOne = async (f: RemoteFile): Promise<PulledFile> => {
    const pf = placed(f);
    const task = `pull:${f.path}`;
    const release = await acquireLock(layout.lockPath(pf), {
      signal: stop,
      onWait: (pid) => onProgress?.({ type: 'message', level: 'info', text: `${f.path}: another process (pid ${pid}) is downloading it; waiting` }),
    });
    try {
      // Another process may have placed it while we waited for the lock: checked like any copy that is here.
      const placedMeanwhile = options.forceDownload ? undefined : await checkPresent(f);
      if (placedMeanwhile) {
        doneByFile.set(f.path, f.size);
        return placedMeanwhile;
      }
      onProgress?.({ type: 'start', task, label: f.path, unit: 'bytes', total: f.size, parent: 'pull' });
      let lastEmit = 0;
      const target = targets.get(f.path) as TransferTarget;
      const out = await engine.transfer(target, (done) => {
        doneByFile.set(f.path, done);
        const now = Date.now();
        if (now - lastEmit >= 100 || done === f.size) {
          lastEmit = now;
          onProgress?.({ type: 'advance', task, done, total: f.size });
        }
        emitTotal(false);
      }, stop);
      const location = await layout.place(commit, pf, target.partialPath);
      await writeVerificationRecord(layout.recordPath(pf), location, out);
      onProgress?.({ type: 'end', task, ok: true, ...(out.resumedBytes > 0 ? { note: `resumed at ${out.resumedBytes} bytes` } : {}) });
      const status: PulledStatus = replaced.has(f.path) ? 'replaced' : out.resumedBytes > 0 ? 'resumed' : 'downloaded';
      return finished(f, status, 'hashed', location, out.sha256);
    } catch (error) {
      onProgress?.({ type: 'end', task, ok: false, note: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      await release();
    }
  };

  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, queue.length)) }, worker));
  emitTotal(true);
  onProgress?.({ type: 'end', task: 'pull', ok: firstError === undefined });
  if (firstError !== undefined) throw firstError;

  // Every sha256 here was computed from the bytes in this run or proven by a record; a frozen pull also checks it
  // against the lockfile.
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
      const next = updateLock(lock ?? emptyLockfile(), repo, {
        revision,
        commit,
        files,
        selection: runSelection,
        localDir: localDir ? lockedLocalDir(lockPath, localDir) : undefined,
      });
      if (!lock || serializeLockfile(next) !== serializeLockfile(lock)) {
        await writeLockfile(lockPath, next);
        updated = true;
      }
    }
    result.lockfile = { path: lockPath, updated };
    const before = lock?.repos[repo];
    const after = updated ? (await readLockfile(lockPath))?.repos[repo] : undefined;
    if (before && after && before.commit !== after.commit) result.lockfile.moved = lockMove(before, after);
  }
  return result;
}
