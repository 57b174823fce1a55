/**
 * The fake hub's data: content-addressed blobs (in memory or on disk), repositories with a commit history,
 * branches and tags, and the per-commit file/directory index the tree, paths-info and resolve routes read.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { gitBlobOid, gitCommitOid, gitTreeOid, hashBytes, hashFile, lfsPointer, type TreeItem } from './git.ts';

/** How a file is given to the server. A string or bytes are kept in memory; `{ path }` is streamed from disk. */
export type FileInput =
  | string
  | Uint8Array
  | {
      data: string | Uint8Array;
      /** Store as an LFS file (302 to the CDN, `lfs` in tree entries). Default: see {@link isLfsByDefault}. */
      lfs?: boolean;
    }
  | {
      /** A file on disk, read on every request, never loaded whole. Do not change it while the server runs. */
      path: string;
      lfs?: boolean;
      /** Trusted precomputed hashes; give both to skip the hashing pass for a big file. */
      sha256?: string;
      gitOid?: string;
    };

export interface Blob {
  size: number;
  gitOid: string;
  sha256: string;
  source: { kind: 'memory'; data: Buffer } | { kind: 'disk'; path: string };
}

export interface FileEntry {
  path: string;
  blob: Blob;
  lfs: boolean;
  /** Tree oid: the git sha1 of the content, or of the LFS pointer for LFS files. */
  oid: string;
  pointer: Buffer | undefined;
  lastCommit: Commit;
}

export interface DirEntry {
  path: string;
  oid: string;
  lastCommit: Commit;
}

export interface Commit {
  id: string;
  parentId: string | undefined;
  title: string;
  message: string;
  author: string;
  date: Date;
  /** Position in the repository's history; larger is newer. */
  index: number;
  treeOid: string;
  files: Map<string, FileEntry>;
  dirs: Map<string, DirEntry>;
  /** Sorted list of every entry path (files and directories), for listings and paging. */
  sortedPaths: string[];
}

export type GatedMode = false | 'auto' | 'manual';
export type AccessState = 'granted' | 'pending' | 'rejected';

export interface Repo {
  id: string;
  objectId: string;
  author: string;
  private: boolean;
  gated: GatedMode;
  /** Per user name: gated-repo access state, or read access to a private repo when 'granted'. */
  access: Map<string, AccessState>;
  branches: Map<string, string>;
  tags: Map<string, string>;
  commits: Map<string, Commit>;
  createdAt: Date;
  extra: Record<string, unknown>;
  downloads: number;
}

/** Hugging Face's default `.gitattributes` LFS patterns (the template every new Hub repo starts with). */
const LFS_EXTENSIONS = new Set([
  '7z', 'arrow', 'bin', 'bz2', 'ckpt', 'ftz', 'gz', 'h5', 'joblib', 'mlmodel', 'model', 'msgpack', 'npy', 'npz',
  'onnx', 'ot', 'parquet', 'pb', 'pickle', 'pkl', 'pt', 'pth', 'rar', 'safetensors', 'tar', 'tflite', 'tgz', 'wasm',
  'xz', 'zip', 'zst', 'gguf',
]);
/** The Hub refuses regular (non-LFS) git files above 10 MB. */
const MAX_REGULAR_FILE = 10 * 1024 * 1024;

export function isLfsByDefault(path: string, size: number): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  return LFS_EXTENSIONS.has(ext) || /tfevents/.test(name) || path.startsWith('saved_model/') || size > MAX_REGULAR_FILE;
}

export function validateRepoPath(path: string): void {
  if (!path || path.startsWith('/') || path.endsWith('/') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`hub-server: invalid file path ${JSON.stringify(path)}`);
  }
}

export function validateRepoId(id: string): void {
  if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(id)) throw new Error(`hub-server: repo id must be "org/name", got ${JSON.stringify(id)}`);
}

export class BlobStore {
  readonly bySha256 = new Map<string, Blob>();
  /** Disk files already hashed, keyed by path + size + mtime, so adding the same big file twice hashes it once. */
  private readonly diskCache = new Map<string, Blob>();

  async add(input: FileInput): Promise<{ blob: Blob; lfs: boolean | undefined }> {
    if (typeof input === 'string' || input instanceof Uint8Array) return { blob: this.fromMemory(input), lfs: undefined };
    if ('data' in input) return { blob: this.fromMemory(input.data), lfs: input.lfs };
    const info = await stat(input.path);
    if (!info.isFile()) throw new Error(`hub-server: ${input.path} is not a file`);
    const key = `${input.path}\0${info.size}\0${info.mtimeMs}`;
    let blob = this.diskCache.get(key);
    if (!blob) {
      const hashes =
        input.sha256 && input.gitOid
          ? { size: info.size, sha256: input.sha256, gitOid: input.gitOid }
          : await hashFile(input.path, info.size);
      blob = { ...hashes, source: { kind: 'disk', path: input.path } };
      this.diskCache.set(key, blob);
    }
    return { blob: this.remember(blob), lfs: input.lfs };
  }

  private fromMemory(data: string | Uint8Array): Blob {
    // A copy: the hashes must keep describing the bytes even if the caller reuses its buffer.
    const buf = Buffer.from(data);
    return this.remember({ ...hashBytes(buf), source: { kind: 'memory', data: buf } });
  }

  private remember(blob: Blob): Blob {
    const known = this.bySha256.get(blob.sha256);
    if (known) return known;
    this.bySha256.set(blob.sha256, blob);
    return blob;
  }
}

export interface CommitSpec {
  /** Files to add or replace (path → content). */
  files?: Record<string, FileInput>;
  /** Paths to remove. */
  delete?: string[];
  /** Commit title (first line of the message). */
  message?: string;
  author?: string;
  /** Commit date; default: one minute after the parent (or 2024-01-01T00:00:00Z), so ids are deterministic. */
  date?: Date;
}

const DEFAULT_EPOCH = Date.UTC(2024, 0, 1);

/** Build a commit on top of `parent` (or an empty tree) and compute every id and `lastCommit` the Hub would show. */
export async function buildCommit(
  store: BlobStore,
  repo: Repo,
  parent: Commit | undefined,
  spec: CommitSpec,
): Promise<Commit> {
  const date = spec.date ?? new Date(parent ? parent.date.getTime() + 60_000 : DEFAULT_EPOCH);
  const message = spec.message ?? (parent ? 'Update files' : 'Initial commit');
  const author = spec.author ?? repo.author;
  const index = repo.commits.size;
  // The commit object is filled in below; entries reference it for `lastCommit`.
  const commit: Commit = {
    id: '', parentId: parent?.id, title: message.split('\n')[0] ?? message, message, author, date, index,
    treeOid: '', files: new Map(), dirs: new Map(), sortedPaths: [],
  };
  const files = new Map<string, FileEntry>(parent ? parent.files : []);
  for (const path of spec.delete ?? []) {
    if (!files.delete(path)) throw new Error(`hub-server: cannot delete ${path}: not in ${repo.id}`);
  }
  for (const [path, input] of Object.entries(spec.files ?? {})) {
    validateRepoPath(path);
    const { blob, lfs: wantLfs } = await store.add(input);
    const lfs = wantLfs ?? isLfsByDefault(path, blob.size);
    const pointer = lfs ? lfsPointer(blob.sha256, blob.size) : undefined;
    const oid = pointer ? gitBlobOid(pointer) : blob.gitOid;
    const previous = files.get(path);
    const unchanged = previous !== undefined && previous.oid === oid;
    files.set(path, { path, blob, lfs, oid, pointer, lastCommit: unchanged ? previous.lastCommit : commit });
  }
  for (const dir of dirsOf(files.keys())) {
    if (files.has(dir)) throw new Error(`hub-server: ${dir} is both a file and a directory`);
  }
  commit.files = files;

  // Directory oids bottom-up; a directory's lastCommit is the newest lastCommit below it.
  const children = new Map<string, TreeItem[]>();
  const newest = new Map<string, Commit>();
  const addChild = (parentDir: string, item: TreeItem, last: Commit): void => {
    const list = children.get(parentDir) ?? [];
    list.push(item);
    children.set(parentDir, list);
    const seen = newest.get(parentDir);
    if (!seen || last.index > seen.index) newest.set(parentDir, last);
  };
  for (const entry of files.values()) addChild(parentOf(entry.path), { name: nameOf(entry.path), kind: 'file', oid: entry.oid }, entry.lastCommit);
  const dirs = [...dirsOf(files.keys())].sort((a, b) => depth(b) - depth(a));
  for (const dir of dirs) {
    const oid = gitTreeOid(children.get(dir) ?? []);
    const last = newest.get(dir) ?? commit;
    const previous = parent?.dirs.get(dir);
    const lastCommit = previous && previous.oid === oid ? previous.lastCommit : last;
    commit.dirs.set(dir, { path: dir, oid, lastCommit });
    addChild(parentOf(dir), { name: nameOf(dir), kind: 'directory', oid }, lastCommit);
  }
  commit.treeOid = gitTreeOid(children.get('') ?? []);
  commit.sortedPaths = [...files.keys(), ...commit.dirs.keys()].sort();
  commit.id = gitCommitOid({
    tree: commit.treeOid, parent: parent?.id, author, time: Math.floor(date.getTime() / 1000), message,
  });
  return commit;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function depth(path: string): number {
  return path.split('/').length;
}

function dirsOf(paths: Iterable<string>): Set<string> {
  const dirs = new Set<string>();
  for (const path of paths) {
    for (let dir = parentOf(path); dir !== '' && !dirs.has(dir); dir = parentOf(dir)) dirs.add(dir);
  }
  return dirs;
}

/** A stable 24-hex `_id` like the Hub's Mongo ids, derived from the repo id. */
export function objectIdFor(repoId: string): string {
  return createHash('sha1').update(repoId).digest('hex').slice(0, 24);
}

/** Resolve a revision (branch, tag, 40-hex commit, `HEAD`, `refs/heads/x`, `refs/tags/x`) to a commit. */
export function resolveRevision(repo: Repo, rev: string): Commit | undefined {
  let id: string | undefined;
  if (rev === 'HEAD') id = repo.branches.get('main');
  else if (rev.startsWith('refs/heads/')) id = repo.branches.get(rev.slice('refs/heads/'.length));
  else if (rev.startsWith('refs/tags/')) id = repo.tags.get(rev.slice('refs/tags/'.length));
  else id = repo.branches.get(rev) ?? repo.tags.get(rev) ?? (/^[0-9a-f]{40}$/.test(rev) ? rev : undefined);
  return id === undefined ? undefined : repo.commits.get(id);
}

/** The model card's YAML front matter (`cardData`), when README.md starts with one. */
export function readCardData(commit: Commit): Record<string, unknown> | undefined {
  const readme = commit.files.get('README.md');
  if (!readme || readme.blob.size > 1 << 20) return undefined;
  const source = readme.blob.source;
  const text = (source.kind === 'memory' ? source.data : readFileSync(source.path)).toString('utf8');
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(text);
  if (!match) return undefined;
  try {
    const parsed: unknown = parseYaml(match[1] ?? '');
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
