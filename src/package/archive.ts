/**
 * The two package sinks: a reproducible tar file and a plain directory. Both take entries one at a time in the
 * order the caller chooses (the caller sorts) and stream file contents through ./pipeline.ts, which reads every byte
 * once, with bounded memory, and hashes it on the way: the per-file sha256 for the manifest and, for the tar, the
 * sha256 of the archive itself.
 *
 * Reproducibility of the tar (../shared/research/distribution.md §A3.2, GNU tar manual §8.4 "Making tar Archives
 * More Reproducible", ModelPack spec § Reproducibility):
 * - ustar headers encoded with node-tar's `Header`; every entry has mtime = the package epoch, uid = gid = 0, empty
 *   uname/gname, no atime/ctime, mode 0644 or 0755 (directories 0755) whatever the umask or source modes;
 * - a pax extended header only when ustar cannot hold the entry (a path that does not fit the 100+155 byte fields
 *   or is not ASCII, a size of 8 GiB or more), and then carrying only `path` / `size`, which are fixed by the
 *   inputs (no atime, ctime, mtime, dev, ino, nlink, uname or gname);
 * - the end of archive is two zero blocks, without padding to a record size.
 * The output is written to a temporary name beside the target and renamed into place when complete.
 */
import { chmod, mkdir, open, rename, rm, rmdir, utimes, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Header, Pax } from 'tar';
import { temporaryPathFor } from '../fs/atomic.ts';
import { writeAll } from '../fs/write-all.ts';
import { CopyPipeline, sha256Of, type ChunkInspector } from './pipeline.ts';

/**
 * Default package epoch when SOURCE_DATE_EPOCH is not set: 1985-10-26T08:15:00Z, the date npm pack uses
 * (npm/pacote lib/util/tar-create-options.js: tools such as zip are confounded by files dated at epoch 0).
 */
export const DEFAULT_EPOCH_SECONDS = 499_162_500;

export const FILE_MODE = 0o644;
export const EXEC_MODE = 0o755;
const DIR_MODE = 0o755;

export interface EntryDigest {
  /** Path inside the package root (posix separators, no leading `./`). */
  path: string;
  size: number;
  sha256: string;
  mode: number;
}

export interface AddFileOptions {
  mode: number;
  expectedSize: number;
  onBytes?: (done: number) => void;
  /** Sees every chunk before it is written (the token scan); what it throws stops the copy. */
  inspect?: ChunkInspector;
}

/** Where a package's files go. `path` arguments are relative to the package root. */
export interface PackageSink {
  addDirectory(path: string): Promise<void>;
  /** Stream `source` into the package; fails when the file's size is not `expectedSize` (it changed under us). */
  addFile(path: string, source: string, options: AddFileOptions): Promise<EntryDigest>;
  addBytes(path: string, data: Uint8Array, options?: { mode?: number }): Promise<EntryDigest>;
  /** Make the result visible under its final name. */
  commit(): Promise<SinkResult>;
  /** Remove everything written so far. */
  abort(): Promise<void>;
}

export interface SinkResult {
  /** The archive file, or the package directory. */
  path: string;
  /** sha256 and size of the archive; absent for a directory. */
  sha256?: string;
  size?: number;
}

const ZERO_BLOCK = Buffer.alloc(512);

/** `mkdir -p` of the output's directory; returns the directories it created, deepest first, for an abort to remove. */
async function makeOutputDirectory(dir: string): Promise<string[]> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return [];
  const created: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    created.push(current);
    if (current === first || dirname(current) === current) return created;
  }
}

/** An aborted package leaves nothing behind, not even the --out directory it created (only when still empty). */
async function removeCreated(directories: readonly string[]): Promise<void> {
  for (const dir of directories) await rmdir(dir).catch(() => undefined);
}

/** Largest size the ustar size field holds in octal (11 digits): 8 GiB - 1. */
const USTAR_MAX_SIZE = 0o77777777777;

/**
 * The header block(s) of one entry: a pax extended header first only when ustar cannot hold the entry, carrying
 * only the fields that do not fit (`path`, `size`), then the ustar header with owner 0:0, no names, no atime/ctime.
 */
export function entryHeader(entry: { path: string; type: 'File' | 'Directory'; size: number; mode: number; mtime: Date }): Buffer[] {
  const header = new Header({
    path: entry.path,
    mode: entry.mode,
    uid: 0,
    gid: 0,
    size: entry.size,
    mtime: entry.mtime,
    type: entry.type,
    uname: '',
    gname: '',
    devmaj: 0,
    devmin: 0,
  });
  const block = Buffer.alloc(512);
  if (!header.encode(block)) return [block];
  const pax = new Pax({
    path: Buffer.byteLength(entry.path) > 99 || !/^[\x20-\x7e]*$/.test(entry.path) ? entry.path : undefined,
    size: entry.size > USTAR_MAX_SIZE ? entry.size : undefined,
  } as ConstructorParameters<typeof Pax>[0]);
  return [pax.encode(), block];
}

/** A reproducible tar archive written to `target` (via a temporary file), entries under `root/`. */
export class TarSink implements PackageSink {
  readonly target: string;
  readonly root: string;
  readonly #mtime: Date;
  readonly #tmp: string;
  readonly #pipeline = new CopyPipeline({ archiveHash: true });
  #handle: FileHandle | undefined;
  #size = 0;
  // Small writes (headers, padding) are coalesced here and flushed before each large chunk.
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  readonly #created: readonly string[];

  private constructor(target: string, root: string, epochSeconds: number, handle: FileHandle, tmp: string, created: readonly string[]) {
    this.target = target;
    this.#created = created;
    this.root = root;
    this.#mtime = new Date(epochSeconds * 1000);
    this.#handle = handle;
    this.#tmp = tmp;
  }

  static async create(target: string, options: { root: string; epochSeconds: number }): Promise<TarSink> {
    const created = await makeOutputDirectory(dirname(target));
    const tmp = temporaryPathFor(target);
    const handle = await open(tmp, 'wx');
    return new TarSink(target, options.root, options.epochSeconds, handle, tmp, created);
  }

  #queue(data: Buffer): void {
    this.#pending.push(data);
    this.#pendingBytes += data.length;
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const data = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#write(data);
  }

  async #write(data: Uint8Array): Promise<void> {
    this.#pipeline.archiveBytes(data);
    await this.#writeAt(data, this.#size);
    this.#size += data.byteLength;
  }

  #writeAt = async (data: Uint8Array, position: number): Promise<void> => {
    const handle = this.#handle;
    if (!handle) throw new Error('tar sink is closed');
    await writeAll(handle, data, position);
  };

  #header(path: string, type: 'File' | 'Directory', size: number, mode: number): void {
    for (const block of entryHeader({ path, type, size, mode, mtime: this.#mtime })) this.#queue(block);
  }

  async addDirectory(path: string): Promise<void> {
    this.#header(`${this.root}/${path === '' ? '' : `${path}/`}`, 'Directory', 0, DIR_MODE);
  }

  async addFile(path: string, source: string, options: AddFileOptions): Promise<EntryDigest> {
    this.#header(`${this.root}/${path}`, 'File', options.expectedSize, options.mode);
    await this.#flush();
    const sha256 = await this.#pipeline.copyFile(source, options.expectedSize, this.#writeAt, this.#size, options.onBytes, options.inspect);
    this.#size += options.expectedSize;
    this.#pad(options.expectedSize);
    return { path, size: options.expectedSize, sha256, mode: options.mode };
  }

  async addBytes(path: string, data: Uint8Array, options: { mode?: number } = {}): Promise<EntryDigest> {
    const mode = options.mode ?? FILE_MODE;
    this.#header(`${this.root}/${path}`, 'File', data.byteLength, mode);
    this.#queue(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.#pad(data.byteLength);
    if (this.#pendingBytes >= 1024 * 1024) await this.#flush();
    return { path, size: data.byteLength, sha256: sha256Of(data), mode };
  }

  #pad(size: number): void {
    const rest = size % 512;
    if (rest !== 0) this.#queue(ZERO_BLOCK.subarray(0, 512 - rest));
  }

  async commit(): Promise<SinkResult> {
    const handle = this.#handle;
    if (!handle) throw new Error('tar sink is closed');
    // End of archive: two zero blocks (POSIX ustar).
    this.#queue(ZERO_BLOCK);
    this.#queue(ZERO_BLOCK);
    await this.#flush();
    await this.#pipeline.drain();
    const sha256 = await this.#pipeline.archiveDigest();
    await this.#pipeline.close();
    await handle.truncate(this.#size);
    await handle.sync();
    await handle.close();
    this.#handle = undefined;
    // The umask must not decide who can read a release artifact.
    await chmod(this.#tmp, FILE_MODE);
    await rename(this.#tmp, this.target);
    return { path: this.target, sha256, size: this.#size };
  }

  async abort(): Promise<void> {
    await this.#pipeline.close();
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close().catch(() => undefined);
    await rm(this.#tmp, { force: true });
    await removeCreated(this.#created);
  }
}

/** A package directory `target`, built under a temporary name beside it and renamed into place when complete. */
export class DirectorySink implements PackageSink {
  readonly target: string;
  readonly #tmp: string;
  readonly #mtime: Date;
  readonly #directories: string[] = [];
  readonly #pipeline = new CopyPipeline({ archiveHash: false });

  readonly #created: readonly string[];

  private constructor(target: string, tmp: string, epochSeconds: number, created: readonly string[]) {
    this.target = target;
    this.#tmp = tmp;
    this.#created = created;
    this.#mtime = new Date(epochSeconds * 1000);
  }

  static async create(target: string, options: { epochSeconds: number }): Promise<DirectorySink> {
    const created = await makeOutputDirectory(dirname(target));
    const tmp = temporaryPathFor(target);
    await mkdir(tmp);
    return new DirectorySink(target, tmp, options.epochSeconds, created);
  }

  async addDirectory(path: string): Promise<void> {
    if (path === '') return;
    await mkdir(join(this.#tmp, path), { recursive: true });
    this.#directories.push(path);
  }

  async #finishFile(path: string, mode: number): Promise<void> {
    const file = join(this.#tmp, path);
    await chmod(file, mode);
    await utimes(file, this.#mtime, this.#mtime);
  }

  async addFile(path: string, source: string, options: AddFileOptions): Promise<EntryDigest> {
    const file = join(this.#tmp, path);
    await mkdir(dirname(file), { recursive: true });
    const out = await open(file, 'wx');
    let sha256: string;
    try {
      sha256 = await this.#pipeline.copyFile(source, options.expectedSize, (chunk, position) => writeAll(out, chunk, position), 0, options.onBytes, options.inspect);
      await this.#pipeline.drain();
      await out.sync();
    } finally {
      await this.#pipeline.drain().catch(() => undefined);
      await out.close();
    }
    await this.#finishFile(path, options.mode);
    return { path, size: options.expectedSize, sha256, mode: options.mode };
  }

  async addBytes(path: string, data: Uint8Array, options: { mode?: number } = {}): Promise<EntryDigest> {
    const mode = options.mode ?? FILE_MODE;
    const file = join(this.#tmp, path);
    await mkdir(dirname(file), { recursive: true });
    const out = await open(file, 'wx');
    try {
      await out.writeFile(data);
      await out.sync();
    } finally {
      await out.close();
    }
    await this.#finishFile(path, mode);
    return { path, size: data.byteLength, sha256: sha256Of(data), mode };
  }

  async commit(): Promise<SinkResult> {
    await this.#pipeline.close();
    // Deepest first, so setting a directory's mtime is not undone by work inside it.
    for (const dir of [...this.#directories].sort((a, b) => b.length - a.length)) {
      await chmod(join(this.#tmp, dir), DIR_MODE);
      await utimes(join(this.#tmp, dir), this.#mtime, this.#mtime);
    }
    await chmod(this.#tmp, DIR_MODE);
    await utimes(this.#tmp, this.#mtime, this.#mtime);
    await rename(this.#tmp, this.target);
    return { path: this.target };
  }

  async abort(): Promise<void> {
    await this.#pipeline.close();
    await rm(this.#tmp, { recursive: true, force: true });
    await removeCreated(this.#created);
  }
}
