/** `pull --offline` (and HF_HUB_OFFLINE=1): no network; every file the lockfile names is re-hashed where it lies. */
import { IntegrityError, NetworkError, UsageError } from '../errors.ts';
import { isCommit } from '../hub/ids.ts';
import { hashFile } from '../integrity/hash.ts';
import type { LockedFile, LockedRepo } from '../integrity/lockfile.ts';
import type { Layout, PlacedFile } from './layout.ts';
import type { PulledFile, PullOptions, PullResult } from './pull-types.ts';
import { nothingSelected, selectFiles } from './select.ts';

export async function pullOffline(repo: string, options: PullOptions, layout: Layout, locked: LockedRepo | undefined, lockPath: string | undefined): Promise<PullResult> {
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
  const selection = { paths: options.paths ?? [], include: options.include ?? [], exclude: options.exclude ?? [] };
  const paths = selectFiles(Object.keys(locked.files).sort(), selection, repo).selected;
  if (paths.length === 0) throw nothingSelected(repo, selection, `the lockfile's files of ${repo}`);
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
      got = await hashFile(location, { signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      missing.push(path);
      continue;
    }
    if (got.size !== want.size || got.sha256 !== want.sha256) bad.push(`${path} (expected sha256 ${want.sha256}, got ${got.sha256})`);
    else files.push({ path, size: want.size, sha256: want.sha256, ...(want.gitSha1 ? { gitSha1: want.gitSha1 } : {}), status: 'present', checked: 'hashed', location });
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
