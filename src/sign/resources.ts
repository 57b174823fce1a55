/**
 * The resources of a model: every regular file under the model root, minus the ignored paths, each hashed whole
 * ("files") or in fixed-size byte ranges ("shards"), as model_signing 1.1.1 serializes a model
 * (`_serialization/file.py`, `file_shard.py`; OMS v1.0 §6.1, §6.3). Symbolic links are refused unless the signature
 * was made with `allow_symlinks` (deprecated, honoured only when verifying); special files are always refused.
 * Zero-byte files have no shards. sha256 is the default and what `llama sign` writes; blake2b is read for
 * verification; blake3 has no implementation in Node and is refused with that reason.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { hashRange, WorkerHasher } from '../integrity/hash.ts';
import type { ProgressSink } from '../progress/events.ts';
import { compareResourceNames, isIgnored, shardName } from './paths.ts';

export type HashType = 'sha256' | 'blake2b';

/** One entry of the predicate's `resources` (an in-toto ResourceDescriptor with a hex digest). */
export interface Resource {
  name: string;
  algorithm: string;
  digest: string;
}

export interface ModelFile {
  /** Path relative to the model root, `/`-separated. */
  path: string;
  /** Where to read it. */
  file: string;
  size: number;
}

export interface SerializationChoice {
  method: 'files' | 'shards';
  hashType: HashType;
  /** Bytes per shard; only for `shards`. */
  shardSize?: number;
}

/** model_signing's default shard size (hashing.py use_shard_serialization; OMS §6.3.2). */
export const DEFAULT_SHARD_SIZE = 1_000_000_000;

export function checkHashType(hashType: string): HashType {
  if (hashType === 'sha256' || hashType === 'blake2b') return hashType;
  if (hashType === 'blake3') {
    throw new UsageError('SIGN_HASH_UNSUPPORTED', 'The signature hashes files with blake3, which llama cannot compute (Node has no BLAKE3).', {
      hint: 'Verify it with the reference `model_signing verify`, or ask the signer for a sha256 signature (the default).',
    });
  }
  throw new UsageError('SIGN_HASH_UNSUPPORTED', `Unknown file hash "${hashType}" in the signature (OMS v1.0 knows sha256, blake2b, blake3).`, {
    hint: 'The signature was not made by an OMS v1.0 signer.',
  });
}

/**
 * Every regular file under `root` that no ignore path covers, sorted. `root` must be a directory. A symbolic link
 * is refused (or, with `allowSymlinks`, followed), as is anything that is neither a file nor a directory.
 */
export async function listModelFiles(root: string, options: { ignored: Iterable<string>; allowSymlinks?: boolean; signal?: AbortSignal }): Promise<ModelFile[]> {
  const ignored = [...options.ignored];
  const files: ModelFile[] = [];
  const walk = async (dir: string, prefix: string, depth: number): Promise<void> => {
    options.signal?.throwIfAborted();
    if (depth > 64) throw new UsageError('SIGN_TREE_TOO_DEEP', `${dir} is more than 64 directories deep (a symbolic link loop?).`, { hint: 'Sign a model folder without link loops.' });
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (isIgnored(path, ignored)) continue;
      const file = join(dir, entry.name);
      let kind: 'file' | 'dir' | 'other' = entry.isFile() ? 'file' : entry.isDirectory() ? 'dir' : 'other';
      let size: number | undefined;
      if (entry.isSymbolicLink()) {
        if (!options.allowSymlinks) {
          throw new UsageError('SIGN_SYMLINK', `${path} in ${root} is a symbolic link; OMS signatures cover regular files only (allow_symlinks is deprecated).`, {
            hint: 'Replace the link by the file it points to, or --ignore it.',
          });
        }
        const target = await stat(file);
        kind = target.isFile() ? 'file' : target.isDirectory() ? 'dir' : 'other';
        size = target.size;
      }
      if (kind === 'dir') await walk(file, path, depth + 1);
      else if (kind === 'file') files.push({ path, file, size: size ?? (await stat(file)).size });
      else {
        throw new UsageError('SIGN_SPECIAL_FILE', `${path} in ${root} is neither a regular file nor a directory.`, { hint: 'Remove it from the model folder, or --ignore it.' });
      }
    }
  };
  await walk(root, '', 0);
  return files.sort((a, b) => compareResourceNames(a.path, b.path, false));
}

/** The shard ranges of a file of `size` bytes: [start, end) of `shardSize` bytes each, the last one shorter. */
export function shardRanges(size: number, shardSize: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let start = 0; start < size; start += shardSize) ranges.push([start, Math.min(start + shardSize, size)]);
  return ranges;
}

/** Hex digest of bytes [start, end) of a file. sha256 runs on the shared hash workers, so files hash in parallel. */
export async function digestRange(file: string, start: number, end: number, hashType: HashType): Promise<string> {
  if (hashType === 'sha256') {
    const hasher = new WorkerHasher();
    try {
      await hashRange(file, start, end - start, hasher);
    } catch (error) {
      await hasher.close();
      throw error;
    }
    return (await hasher.digest()).sha256;
  }
  const hash = createHash('blake2b512');
  if (end > start) {
    for await (const chunk of createReadStream(file, { start, end: end - 1, highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/** Run `work` over `items` with at most `limit` at a time, keeping the order of results. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The resources of `files` under the chosen serialization, sorted as model_signing sorts them. `name` of a file
 * is its `path` (a caller may rename, e.g. the single-file model's `.`).
 */
export async function hashResources(
  files: readonly ModelFile[],
  choice: SerializationChoice,
  options: { signal?: AbortSignal; onProgress?: ProgressSink; label?: string } = {},
): Promise<Resource[]> {
  const jobs: Array<{ name: string; file: string; start: number; end: number }> = [];
  for (const f of files) {
    if (choice.method === 'files') jobs.push({ name: f.path, file: f.file, start: 0, end: f.size });
    else for (const [start, end] of shardRanges(f.size, choice.shardSize ?? DEFAULT_SHARD_SIZE)) jobs.push({ name: shardName({ path: f.path, start, end }), file: f.file, start, end });
  }
  const total = jobs.reduce((sum, job) => sum + job.end - job.start, 0);
  const task = 'sign-hash';
  options.onProgress?.({ type: 'start', task, label: options.label ?? 'hashing', unit: 'bytes', total });
  let done = 0;
  let ok = false;
  try {
    const resources = await mapLimited(jobs, 4, async (job) => {
      options.signal?.throwIfAborted();
      const digest = await digestRange(job.file, job.start, job.end, choice.hashType);
      done += job.end - job.start;
      options.onProgress?.({ type: 'advance', task, done, total });
      return { name: job.name, algorithm: choice.hashType, digest };
    });
    ok = true;
    return resources.sort((a, b) => compareResourceNames(a.name, b.name, choice.method === 'shards'));
  } finally {
    options.onProgress?.({ type: 'end', task, ok });
  }
}
