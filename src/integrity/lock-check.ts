/**
 * The whole lockfile against the hub, as `pull --frozen` and `verify --hub` both judge it: the locked commit must
 * still exist, every locked entry (LFS or not) must be on the hub with the same size and hash, and no file the locked
 * selections choose may be on the hub without being in the lockfile. Each difference is one line naming the file and
 * the algorithm; the bytes on disk are checked separately (by hashing them).
 */
import { IntegrityError, isLlamaError } from '../errors.ts';
import type { HubClient, RemoteFile } from '../hub/client.ts';
import { selectFiles, type SelectOptions } from '../transfer/select.ts';
import type { LockedFile, LockedRepo, LockedSelection } from './lockfile.ts';

/** The hub's file list at the locked commit; a commit the hub no longer has is exit 4 saying so. */
export async function listLockedCommit(client: HubClient, repo: string, locked: LockedRepo): Promise<RemoteFile[]> {
  try {
    return await client.listFiles(repo, locked.commit);
  } catch (error) {
    if (isLlamaError(error) && error.code === 'HUB_REVISION_NOT_FOUND') {
      throw new IntegrityError('LOCK_COMMIT_GONE', `The locked commit ${locked.commit} of ${repo} (${locked.revision}) is gone from the hub.`, {
        hint: 'The repo was force-pushed or the commit deleted, so these exact bytes can no longer be fetched from the hub. Review what replaced it, then run `llama pull` without --frozen to lock the new commit.',
        details: { repo, commit: locked.commit, revision: locked.revision },
      });
    }
    throw error;
  }
}

/** Files of `all` one recorded selection chooses; a named path that is no longer there chooses nothing. */
function chosenBy(all: readonly string[], selection: LockedSelection): string[] {
  const paths = (selection.paths ?? []).filter((p) => {
    const bare = p.replace(/^\.\//, '');
    const prefix = bare.endsWith('/') ? bare : `${bare}/`;
    return all.includes(bare) || all.some((f) => f.startsWith(prefix));
  });
  if ((selection.paths ?? []).length > 0 && paths.length === 0) return [];
  return selectFiles(all, { paths, include: selection.include ?? [], exclude: selection.exclude ?? [] }).selected;
}

function entryDifference(path: string, want: LockedFile, have: RemoteFile | undefined, commit: string): string | undefined {
  if (!have) return `${path}: in the lockfile, not on the hub at ${commit}`;
  if (have.size !== want.size) return `${path}: size ${have.size} on the hub, ${want.size} in the lockfile`;
  if (have.lfsSha256 !== undefined) {
    if (have.lfsSha256 !== want.sha256) return `${path}: sha256 ${have.lfsSha256} on the hub, ${want.sha256} in the lockfile`;
    return undefined;
  }
  if (want.gitSha1 === undefined) return `${path}: the lockfile has no git-sha1 for this non-LFS file (git-sha1 ${have.gitOid} on the hub)`;
  if (have.gitOid !== want.gitSha1) return `${path}: git-sha1 ${have.gitOid} on the hub, ${want.gitSha1} in the lockfile`;
  return undefined;
}

export interface LockComparison {
  /** One line per difference; empty when the lockfile and the hub agree. */
  problems: string[];
  /** The hub's entries for the locked files the run selected (when there are no problems, exactly those files). */
  wanted: RemoteFile[];
  /** True when the lockfile records no selections (written by an older version): hub-only files were not checked. */
  selectionUnknown: boolean;
}

/** Compare the locked entry with the hub's listing of its commit, within the run's own selection. */
export function compareLockToHub(repo: string, locked: LockedRepo, tree: readonly RemoteFile[], run: SelectOptions): LockComparison {
  const byPath = new Map(tree.map((f) => [f.path, f]));
  const lockedPaths = Object.keys(locked.files).sort();
  const runSelection = { paths: run.paths ?? [], include: run.include ?? [], exclude: run.exclude ?? [] };
  const selectedLocked = selectFiles(lockedPaths, runSelection, repo).selected;
  const problems: string[] = [];
  const wanted: RemoteFile[] = [];
  for (const path of selectedLocked) {
    const have = byPath.get(path);
    const problem = entryDifference(path, locked.files[path] as LockedFile, have, locked.commit);
    if (problem) problems.push(problem);
    else wanted.push(have as RemoteFile);
  }
  const selectionUnknown = locked.selections === undefined;
  if (!selectionUnknown) {
    const hubPaths = tree.map((f) => f.path);
    const expected = new Set((locked.selections ?? []).flatMap((s) => chosenBy(hubPaths, s)));
    // Within the run's own narrowing too (positional paths the hub lacks were reported above as lockfile entries).
    const runChosen = new Set(chosenBy(hubPaths, runSelection));
    for (const path of [...expected].sort()) {
      if (!(path in locked.files) && runChosen.has(path)) problems.push(`${path}: on the hub at ${locked.commit}, not in the lockfile`);
    }
  }
  return { problems, wanted, selectionUnknown };
}

export function lockMismatch(repo: string, commit: string, problems: string[]): IntegrityError {
  return new IntegrityError('LOCK_MISMATCH', `The hub's files differ from the lockfile for ${repo}:\n  ${problems.join('\n  ')}`, {
    hint: 'Someone changed the repo or the lockfile. Review the change, then run `llama pull` without --frozen to update the lockfile.',
    details: { repo, commit, problems },
  });
}
