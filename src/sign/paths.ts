/**
 * Resource names and ignore rules of OpenSSF Model Signing (OMS) v1.0 as the reference implementation applies them
 * (../shared/reference/model-signing/: oms-spec/spec/v1.0.md §6.1.2, §6.2; model_signing 1.1.1
 * `hashing.py` Config.hash, `_serialization/serialization.py` should_ignore, `manifest.py` _File/_Shard):
 * - names are `/`-separated paths relative to the model root, without `.` or empty components;
 * - an ignore path is an exact path from the model root and also covers everything below it;
 * - `.git`, `.gitattributes`, `.github`, `.gitignore` at the model root are always ignored;
 * - resources are ordered as model_signing orders them (a PurePosixPath compares its components one by one, each by
 *   code points; shards then by start and end offsets), which is what the root digest is computed over.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';

export const DEFAULT_IGNORED_PATHS = ['.git', '.gitattributes', '.github', '.gitignore'] as const;

/** Collapse `.` and empty components; `undefined` when the path is absolute, climbs out with `..`, or is empty. */
export function canonicalResourcePath(path: string): string | undefined {
  if (path.startsWith('/')) return undefined;
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.length === 0 || parts.includes('..')) return undefined;
  return parts.join('/');
}

/** True when `path` is `ignored` or lies below it (both canonical, relative to the model root). */
export function isIgnored(path: string, ignored: Iterable<string>): boolean {
  for (const entry of ignored) {
    if (path === entry || path.startsWith(`${entry}/`)) return true;
  }
  return false;
}

/**
 * An ignore path given by a user: relative to the model root (as recorded in the signature), or absolute inside it.
 * `undefined` for a path outside the model, which cannot match anything in it.
 */
export function ignorePathInModel(path: string, modelRoot: string): string | undefined {
  const relativePath = isAbsolute(path) ? relative(resolve(modelRoot), resolve(path)) : path;
  return canonicalResourcePath(relativePath.split(sep).join('/'));
}

/** The canonical path of `file` inside the folder `root`, or undefined when it is not inside (or is `root`). */
export function pathInside(file: string, root: string): string | undefined {
  const rel = relative(resolve(root), resolve(file));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return canonicalResourcePath(rel.split(sep).join('/'));
}

/** Compare two strings by Unicode code points (JavaScript's `<` compares UTF-16 code units). */
export function compareCodePoints(a: string, b: string): number {
  const left = Array.from(a);
  const right = Array.from(b);
  const n = Math.min(left.length, right.length);
  for (let i = 0; i < n; i++) {
    const x = left[i]!.codePointAt(0)!;
    const y = right[i]!.codePointAt(0)!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return left.length - right.length;
}

/** Order of two file paths as Python compares PurePosixPath objects: component lists, each by code points. */
export function comparePaths(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  const n = Math.min(left.length, right.length);
  for (let i = 0; i < n; i++) {
    const order = compareCodePoints(left[i]!, right[i]!);
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

export interface ShardName {
  path: string;
  start: number;
  end: number;
}

/** `path:start:end`, the name of a shard resource; the offsets are the last two `:` fields (OMS §6.3.2). */
export function parseShardName(name: string): ShardName | undefined {
  const match = /^(.+):(\d+):(\d+)$/.exec(name);
  if (!match) return undefined;
  const start = Number(match[2]);
  const end = Number(match[3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end <= start) return undefined;
  return { path: match[1]!, start, end };
}

export function shardName(shard: ShardName): string {
  return `${shard.path}:${shard.start}:${shard.end}`;
}

/** Resource order: by path (as above), shards of one file by their offsets. */
export function compareResourceNames(a: string, b: string, shards: boolean): number {
  if (!shards) return comparePaths(a, b);
  const left = parseShardName(a);
  const right = parseShardName(b);
  if (!left || !right) return comparePaths(a, b);
  return comparePaths(left.path, right.path) || left.start - right.start || left.end - right.end;
}
