/**
 * Where pulled files live.
 *
 * Cache: the Hugging Face hub cache layout, so transformers, `hf` and `@huggingface/hub`'s `scanCacheDir` read it
 * (layout from huggingface_hub `file_download.py` and @huggingface/hub `download-file-to-cache-dir.ts`,
 * ../shared/research/hub-protocol.md §1.5):
 *   <cache>/models--<org>--<name>/blobs/<sha256 for LFS files | git sha1 for others>
 *   <cache>/models--<org>--<name>/snapshots/<commit>/<path>  → relative symlink to ../../blobs/<name>
 *   <cache>/models--<org>--<name>/refs/<revision>            → the commit, no newline
 *   <cache>/.locks/models--<org>--<name>/<blob>.lock
 * Partials sit beside the blobs as `<blob>.incomplete` (+ `.state.json`, our resume record). Our verification
 * records (src/integrity/record.ts) are `<cache>/models--<org>--<name>/.llama-verified/<blob>.json`, a folder the hf
 * tools and scanCacheDir do not look at.
 *
 * Local dir: plain files at <dir>/<path>; bookkeeping in <dir>/.cache/huggingface/ as `hf download --local-dir` does:
 * `download/<path>.metadata` holds "<commit>\n<etag>\n<unix time>\n" (huggingface_hub `_local_folder.py`), partials
 * are `download/<path>.<blob>.incomplete`, locks `download/<path>.lock`; our verification records
 * `download/<path>.llama-verified.json`.
 */
import { lstat, mkdir, readFile, readlink, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { temporaryPathFor, writeFileAtomic } from '../fs/atomic.ts';
import { repoFolderName } from '../hub/cache.ts';

export interface PlacedFile {
  path: string;
  size: number;
  /** Blob name: LFS sha256, else git sha1 (the hub's ETag for the file). */
  blob: string;
}

export interface Layout {
  readonly kind: 'cache' | 'local-dir';
  /** Folder where the user finds the files of `commit`. */
  filesRoot(commit: string): string;
  /** Final path of a file. */
  filePath(commit: string, file: PlacedFile): string;
  partialPath(file: PlacedFile): string;
  lockPath(file: PlacedFile): string;
  /** Where the verification record of a placed file lives (src/integrity/record.ts). */
  recordPath(file: PlacedFile): string;
  /** True when the file is in place with the right size and bookkeeping (creating a missing snapshot link if the blob is there). */
  isPresent(commit: string, file: PlacedFile): Promise<boolean>;
  /** Move a verified partial into place. */
  place(commit: string, file: PlacedFile, partialPath: string): Promise<string>;
  /** Remove a placed file that failed its check (and its record), so it is never served. */
  remove(commit: string, file: PlacedFile): Promise<void>;
  /** Record that `revision` points at `commit` (cache only). */
  recordRevision(revision: string, commit: string): Promise<void>;
}


async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/** Create or replace a symlink atomically (temp link beside it, then rename). */
async function linkAtomic(target: string, linkPath: string): Promise<void> {
  await mkdir(dirname(linkPath), { recursive: true });
  try {
    if ((await readlink(linkPath)) === target) return;
  } catch {
    // absent or not a link
  }
  const tmp = temporaryPathFor(linkPath);
  await symlink(target, tmp);
  try {
    await rename(tmp, linkPath);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
}

export class CacheLayout implements Layout {
  readonly kind = 'cache' as const;
  readonly repoDir: string;
  readonly #locks: string;

  constructor(cacheDir: string, repo: string) {
    this.repoDir = join(cacheDir, repoFolderName(repo));
    this.#locks = join(cacheDir, '.locks', repoFolderName(repo));
  }

  blobPath(blob: string): string {
    return join(this.repoDir, 'blobs', blob);
  }

  filesRoot(commit: string): string {
    return join(this.repoDir, 'snapshots', commit);
  }

  filePath(commit: string, file: PlacedFile): string {
    return join(this.filesRoot(commit), ...file.path.split('/'));
  }

  partialPath(file: PlacedFile): string {
    return `${this.blobPath(file.blob)}.incomplete`;
  }

  lockPath(file: PlacedFile): string {
    return join(this.#locks, `${file.blob}.lock`);
  }

  recordPath(file: PlacedFile): string {
    return join(this.repoDir, '.llama-verified', `${file.blob}.json`);
  }

  async remove(_commit: string, file: PlacedFile): Promise<void> {
    await rm(this.recordPath(file), { force: true });
    await rm(this.blobPath(file.blob), { force: true });
  }

  async isPresent(commit: string, file: PlacedFile): Promise<boolean> {
    if ((await sizeOf(this.blobPath(file.blob))) !== file.size) return false;
    await this.#link(commit, file);
    return true;
  }

  async #link(commit: string, file: PlacedFile): Promise<string> {
    const link = this.filePath(commit, file);
    await linkAtomic(relative(dirname(link), this.blobPath(file.blob)), link);
    return link;
  }

  async place(commit: string, file: PlacedFile, partialPath: string): Promise<string> {
    await mkdir(join(this.repoDir, 'blobs'), { recursive: true });
    await rename(partialPath, this.blobPath(file.blob));
    return this.#link(commit, file);
  }

  async recordRevision(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    await writeFileAtomic(join(this.repoDir, 'refs', ...revision.split('/')), commit);
  }
}

export class LocalDirLayout implements Layout {
  readonly kind = 'local-dir' as const;
  readonly dir: string;
  readonly #meta: string;

  constructor(dir: string) {
    this.dir = dir;
    this.#meta = join(dir, '.cache', 'huggingface', 'download');
  }

  filesRoot(): string {
    return this.dir;
  }

  filePath(_commit: string, file: PlacedFile): string {
    return join(this.dir, ...file.path.split('/'));
  }

  metadataPath(path: string): string {
    return join(this.#meta, ...`${path}.metadata`.split('/'));
  }

  partialPath(file: PlacedFile): string {
    return join(this.#meta, ...`${file.path}.${file.blob}.incomplete`.split('/'));
  }

  lockPath(file: PlacedFile): string {
    return join(this.#meta, ...`${file.path}.lock`.split('/'));
  }

  recordPath(file: PlacedFile): string {
    return join(this.#meta, ...`${file.path}.llama-verified.json`.split('/'));
  }

  async remove(commit: string, file: PlacedFile): Promise<void> {
    await rm(this.recordPath(file), { force: true });
    await rm(this.metadataPath(file.path), { force: true });
    await rm(this.filePath(commit, file), { force: true });
  }

  /** The metadata hf writes: commit, etag, time; undefined when absent or malformed. */
  async readMetadata(path: string): Promise<{ commit: string; etag: string; timestamp: number } | undefined> {
    try {
      const [commit, etag, timestamp] = (await readFile(this.metadataPath(path), 'utf8')).split('\n');
      if (!commit || !etag || !timestamp) return undefined;
      return { commit, etag, timestamp: Number(timestamp) };
    } catch {
      return undefined;
    }
  }

  async isPresent(commit: string, file: PlacedFile): Promise<boolean> {
    const target = this.filePath(commit, file);
    let info;
    try {
      info = await lstat(target);
    } catch {
      return false;
    }
    if (!info.isFile() || info.size !== file.size) return false;
    const meta = await this.readMetadata(file.path);
    // Same rule as hf: the file is ours and untouched if its metadata names this content and it was not modified after.
    if (!meta || meta.etag !== file.blob || info.mtimeMs / 1000 > meta.timestamp + 1) return false;
    if (meta.commit !== commit) await this.#writeMetadata(commit, file);
    return true;
  }

  async #writeMetadata(commit: string, file: PlacedFile): Promise<void> {
    await writeFileAtomic(this.metadataPath(file.path), `${commit}\n${file.blob}\n${Date.now() / 1000}\n`);
  }

  async place(commit: string, file: PlacedFile, partialPath: string): Promise<string> {
    const target = this.filePath(commit, file);
    await mkdir(dirname(target), { recursive: true });
    // A stale file or link at the target is replaced atomically by the rename.
    await rename(partialPath, target);
    await this.#writeMetadata(commit, file);
    return target;
  }

  async recordRevision(): Promise<void> {}

}
