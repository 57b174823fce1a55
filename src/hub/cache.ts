/**
 * The Hugging Face cache layout, read side, in one place (huggingface_hub `file_download.py`, @huggingface/hub
 * `download-file-to-cache-dir.ts`; ../shared/research/hub-protocol.md §1.5):
 *   <cache>/models--<org>--<name>/refs/<revision>            → the commit, no newline
 *   <cache>/models--<org>--<name>/snapshots/<commit>/<path>  → relative symlink to ../../blobs/<blob>
 * `transfer/layout.ts` writes it; quantize, verify and the license lineage find snapshots through here.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isCommit } from './ids.ts';

/** `org/name` → `models--org--name`. */
export function repoFolderName(repo: string): string {
  return `models--${repo.split('/').join('--')}`;
}

export function repoCacheDir(cacheDir: string, repo: string): string {
  return join(cacheDir, repoFolderName(repo));
}

export function snapshotDir(cacheDir: string, repo: string, commit: string): string {
  return join(repoCacheDir(cacheDir, repo), 'snapshots', commit);
}

/** The commit `revision` points to in the cache (a commit is itself), or undefined when no ref records it. */
export function cachedCommit(cacheDir: string, repo: string, revision = 'main'): string | undefined {
  if (isCommit(revision)) return revision;
  try {
    const commit = readFileSync(join(repoCacheDir(cacheDir, repo), 'refs', ...revision.split('/')), 'utf8').trim();
    return isCommit(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

/** The snapshot folder of `repo` at `revision` (default main) when the cache has it, with its commit. */
export function cachedSnapshot(cacheDir: string, repo: string, revision = 'main'): { dir: string; commit: string } | undefined {
  const commit = cachedCommit(cacheDir, repo, revision);
  if (commit === undefined) return undefined;
  const dir = snapshotDir(cacheDir, repo, commit);
  try {
    return statSync(dir).isDirectory() ? { dir, commit } : undefined;
  } catch {
    return undefined;
  }
}

/** `<cache>/models--org--name/snapshots/<commit>` → its cache, repo and commit; undefined for any other folder. */
export function parseSnapshotDir(dir: string): { cacheDir: string; repo: string; commit: string } | undefined {
  const commit = basename(dir);
  const snapshots = dirname(dir);
  const repoDir = dirname(snapshots);
  const folder = basename(repoDir);
  if (!isCommit(commit) || basename(snapshots) !== 'snapshots' || !folder.startsWith('models--')) return undefined;
  return { cacheDir: dirname(repoDir), repo: folder.slice('models--'.length).split('--').join('/'), commit };
}
