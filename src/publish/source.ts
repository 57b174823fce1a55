/**
 * What gets published: the files of a `llama package` output (its `.tar`, read in place without extracting, or its
 * directory) or of any directory. Each file is a byte range of a file on disk, so uploads stream from disk and a
 * multi-GB weight is never held in memory. The package's manifest.json gives the name, the version and every
 * file's sha256 (checked against the bytes where an upload hashes them anyway); other directories are hashed here.
 *
 * The tar layout is the one src/package/archive.ts writes: one root folder `NAME-VERSION/`, ustar headers, a pax
 * header only for long paths or sizes of 8 GiB and more.
 */
import { openAsBlob } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { Header } from 'tar';
import { UsageError } from '../errors.ts';
import { hashRange, StreamingHasher, WorkerHasher, type Digests } from '../integrity/hash.ts';
import type { PackageManifest } from '../package/manifest.ts';

export interface SourceFile {
  /** Path inside the package (posix, no leading `./`). */
  path: string;
  size: number;
  /** File mode bits (0644 / 0755). */
  mode: number;
  /** The file on disk holding the bytes, and where they start in it (0 for a plain file, the member offset in a tar). */
  diskPath: string;
  offset: number;
  /** sha256 from the package manifest, when there is one. */
  manifestSha256?: string;
}

export interface PublishSource {
  /** The package tar or directory, absolute. */
  path: string;
  kind: 'tar' | 'dir';
  /** From manifest.json; for a plain directory its folder name, no version. */
  name: string;
  version: string | undefined;
  /** Package epoch (manifest `sourceDateEpoch`), when there is a manifest. */
  sourceDateEpoch: number | undefined;
  manifest: PackageManifest | undefined;
  /** Sorted by path (byte order). */
  files: SourceFile[];
}

const BLOCK = 512;

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Read a package tar's member list: path (root folder removed), size, mode and the byte offset of its data. */
async function tarMembers(path: string): Promise<SourceFile[]> {
  const handle = await open(path, 'r');
  const files: SourceFile[] = [];
  try {
    const size = (await handle.stat()).size;
    let position = 0;
    let pax: Record<string, string> = {};
    let root: string | undefined;
    const block = Buffer.alloc(BLOCK);
    while (position + BLOCK <= size) {
      await handle.read(block, 0, BLOCK, position);
      if (block.every((b) => b === 0)) break;
      const header = new Header(block);
      if (!header.cksumValid) throw badTar(path, `bad header checksum at byte ${position}`);
      const headerSize = header.size ?? 0;
      const dataStart = position + BLOCK;
      if (header.type === 'ExtendedHeader' || header.type === 'GlobalExtendedHeader') {
        const data = Buffer.alloc(headerSize);
        await handle.read(data, 0, headerSize, dataStart);
        if (header.type === 'ExtendedHeader') pax = parsePax(data);
        position = dataStart + Math.ceil(headerSize / BLOCK) * BLOCK;
        continue;
      }
      const name = pax.path ?? header.path ?? '';
      const memberSize = pax.size !== undefined ? Number(pax.size) : headerSize;
      pax = {};
      position = dataStart + Math.ceil(memberSize / BLOCK) * BLOCK;
      if (position > size) throw badTar(path, `${name} is cut short`);
      const clean = name.replace(/^\.\//, '').replace(/\/$/, '');
      const top = clean.split('/')[0] ?? '';
      root ??= top;
      if (top !== root) throw badTar(path, `${name} is outside the package folder ${root}/`);
      if (header.type === 'Directory') continue;
      if (header.type !== 'File' && header.type !== 'OldFile') throw badTar(path, `${name} is not a regular file (${header.type})`);
      const inner = clean.slice(root.length + 1);
      if (inner === '' || inner.split('/').some((p) => p === '..' || p === '.')) throw badTar(path, `unsafe member path ${name}`);
      files.push({ path: inner, size: memberSize, mode: (header.mode ?? 0o644) & 0o777, diskPath: path, offset: dataStart });
    }
  } finally {
    await handle.close();
  }
  return files;
}

/** pax records: "<length> <key>=<value>\n", the length in bytes including itself. */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString('ascii'));
    if (space < 0 || !Number.isInteger(length) || length <= 0) break;
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}

function badTar(path: string, why: string): UsageError {
  return new UsageError('PUBLISH_BAD_PACKAGE', `${path} is not a package archive llama can publish: ${why}.`, {
    hint: 'Publish the .tar that `llama package` wrote, or the package directory (--format dir).',
    details: { path },
  });
}

async function directoryFiles(root: string): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      // Bookkeeping folders of git and of `llama pull --local-dir` are not part of a model.
      if (entry.isDirectory()) {
        if (entry.name !== '.git' && !(dir === root && entry.name === '.cache')) await walk(full);
      } else if (entry.isFile()) {
        const info = await stat(full);
        files.push({ path: relative(root, full).split(sep).join('/'), size: info.size, mode: info.mode & 0o111 ? 0o755 : 0o644, diskPath: full, offset: 0 });
      } else if (entry.isSymbolicLink()) {
        throw new UsageError('PUBLISH_SYMLINK', `${full} is a symbolic link; publish uploads regular files only.`, {
          hint: 'Replace the link with the file it points to, or package the folder with `llama package` first.',
          details: { path: full },
        });
      }
    }
  };
  await walk(root);
  return files;
}

/** Read a package (tar or directory) or a plain directory. */
export async function readPublishSource(input: string, cwd: string): Promise<PublishSource> {
  const path = resolve(cwd, input);
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    throw new UsageError('PUBLISH_SOURCE_MISSING', `${path} does not exist.`, {
      hint: 'Give the .tar or directory that `llama package` wrote (packages/NAME-VERSION.tar by default).',
      details: { path },
    });
  }
  const kind = info.isDirectory() ? 'dir' : 'tar';
  const files = (kind === 'tar' ? await tarMembers(path) : await directoryFiles(path)).sort((a, b) => compareBytes(a.path, b.path));
  if (files.length === 0) {
    throw new UsageError('PUBLISH_EMPTY', `${path} holds no files to publish.`, { hint: 'Check the path.', details: { path } });
  }
  const manifestFile = files.find((f) => f.path === 'manifest.json');
  let manifest: PackageManifest | undefined;
  if (manifestFile && manifestFile.size < 64 << 20) {
    try {
      const parsed = JSON.parse((await readRange(manifestFile)).toString('utf8')) as PackageManifest;
      if (parsed.manifestVersion === 1 && Array.isArray(parsed.files)) manifest = parsed;
    } catch {
      manifest = undefined;
    }
  }
  if (manifest) {
    const digests = new Map(manifest.files.map((f) => [f.path, f] as const));
    for (const file of files) {
      const known = digests.get(file.path);
      if (known && known.size === file.size) file.manifestSha256 = known.sha256;
    }
  }
  const fallbackName = basename(path).replace(/\.tar$/, '');
  return {
    path,
    kind,
    name: manifest?.name ?? fallbackName,
    version: manifest?.version,
    sourceDateEpoch: manifest?.sourceDateEpoch,
    manifest,
    files,
  };
}

/** The bytes of a (small) file, whole. */
export async function readRange(file: SourceFile): Promise<Buffer> {
  const handle = await open(file.diskPath, 'r');
  try {
    const data = Buffer.alloc(file.size);
    let done = 0;
    while (done < file.size) {
      const { bytesRead } = await handle.read(data, done, file.size - done, file.offset + done);
      if (bytesRead === 0) throw new Error(`unexpected end of ${file.diskPath}`);
      done += bytesRead;
    }
    return data;
  } finally {
    await handle.close();
  }
}

/** A Blob backed by the file on disk (read lazily, slice by slice), for `@huggingface/hub` and fetch bodies. */
export async function fileBlob(file: SourceFile): Promise<Blob> {
  const whole = await openAsBlob(file.diskPath);
  return file.offset === 0 && whole.size === file.size ? whole : whole.slice(file.offset, file.offset + file.size);
}

/** Files from this size are hashed on a worker thread, beside the uploads of the main thread. */
const WORKER_HASH_FROM = 16 << 20;

/** sha256 (and the git blob sha1 when asked) of a source file, streaming. */
export async function digestOf(file: SourceFile, gitSha1 = false): Promise<Digests> {
  const options = gitSha1 ? { gitSha1ForSize: file.size } : {};
  if (file.size < WORKER_HASH_FROM) {
    const hasher = new StreamingHasher(options);
    await hashRange(file.diskPath, file.offset, file.size, hasher);
    return hasher.digest();
  }
  const hasher = new WorkerHasher(options);
  try {
    await hashRange(file.diskPath, file.offset, file.size, hasher);
    return await hasher.digest();
  } finally {
    await hasher.close();
  }
}
