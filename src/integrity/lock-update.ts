/** How a pull changes the lockfile: the entry it writes, and what moved when the commit changed. */
import { dirname, relative, sep } from 'node:path';
import { canonicalSelection, type LockedFile, type LockedRepo, type LockedSelection, type Lockfile } from './lockfile.ts';

/** A pull that moved the lockfile's entry to another commit: from → to, and the files that differ. */
export interface LockMove {
  from: string;
  to: string;
  /** In both, with other bytes. */
  changed: string[];
  /** Locked now, not before. */
  added: string[];
  /** Locked before, not now. */
  removed: string[];
}

/** A file as the pull placed and checked it. */
export interface LockedResult {
  path: string;
  size: number;
  sha256: string;
  gitSha1?: string;
}

export function lockMove(before: LockedRepo, after: LockedRepo): LockMove {
  const move: LockMove = { from: before.commit, to: after.commit, changed: [], added: [], removed: [] };
  for (const [path, f] of Object.entries(after.files)) {
    const old = before.files[path];
    if (!old) move.added.push(path);
    else if (old.sha256 !== f.sha256 || old.size !== f.size) move.changed.push(path);
  }
  for (const path of Object.keys(before.files)) if (!(path in after.files)) move.removed.push(path);
  for (const list of [move.changed, move.added, move.removed]) list.sort();
  return move;
}

export interface LockUpdate {
  revision: string;
  commit: string;
  files: LockedResult[];
  selection: LockedSelection;
  /** Relative to the lockfile's folder; undefined for the cache. */
  localDir: string | undefined;
}

export function updateLock(lock: Lockfile, repo: string, update: LockUpdate): Lockfile {
  const prev = lock.repos[repo];
  const sameCommit = prev !== undefined && prev.commit === update.commit;
  // Same commit: add to what was locked before (pulling a few files later keeps the others); new commit: replace.
  const entries: Record<string, LockedFile> = sameCommit ? { ...prev.files } : {};
  for (const f of update.files) entries[f.path] = f.gitSha1 === undefined ? { size: f.size, sha256: f.sha256 } : { size: f.size, sha256: f.sha256, gitSha1: f.gitSha1 };
  const selection = canonicalSelection(update.selection);
  const selections = sameCommit ? [...(prev.selections ?? [])] : [];
  if (!selections.some((s) => JSON.stringify(s) === JSON.stringify(selection))) selections.push(selection);
  const entry: LockedRepo = { revision: update.revision, commit: update.commit, ...(update.localDir !== undefined ? { localDir: update.localDir } : {}), selections, files: entries };
  return { lockfileVersion: lock.lockfileVersion, repos: { ...lock.repos, [repo]: entry } };
}

/** The local dir as the lockfile records it: relative to the lockfile's folder, '/'-separated, never absolute. */
export function lockedLocalDir(lockPath: string, localDir: string): string {
  const rel = relative(dirname(lockPath), localDir).split(sep).join('/');
  return rel === '' ? '.' : rel;
}
