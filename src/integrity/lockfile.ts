/**
 * The lockfile (`llama.lock.json` by default) pins what `llama pull` fetched so that another machine gets the same
 * bytes (`llama pull --frozen`) and `llama verify` can re-check them offline.
 *
 * Format, version 1 (JSON, two-space indent, keys in the order shown, repos and files sorted by name, trailing newline):
 *
 * ```json
 * {
 *   "lockfileVersion": 1,
 *   "repos": {
 *     "<org>/<name>": {
 *       "revision": "<what was asked for: branch, tag or commit>",
 *       "commit": "<40-hex commit every file came from>",
 *       "localDir": "<the --local-dir the files went to, relative to the lockfile's folder; absent for the cache>",
 *       "selections": [{ "paths": ["…"], "include": ["…"], "exclude": ["…"] }],
 *       "files": {
 *         "<path in repo>": { "size": 123, "sha256": "<64 hex>", "gitSha1": "<40 hex, only for non-LFS files>" }
 *       }
 *     }
 *   }
 * }
 * ```
 *
 * `sha256` is recorded for every file (for LFS files it equals the hub's `lfs.oid`); `gitSha1` is the hub's `oid`
 * for files stored in git itself, the only hash the hub publishes for them. `selections` records which files of the
 * commit were asked for (one object per pull that added files at this commit; `{}` is the whole repo with the default
 * rule), so `pull --frozen` can tell a file the hub has and the lockfile lacks. `localDir` (optional) lets a plain
 * `llama verify` find a local dir. Deliberately absent: tokens, endpoints, absolute paths, timestamps, host names, so
 * the file is byte-identical for identical inputs.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../fs/atomic.ts';
import { UsageError } from '../errors.ts';

export const LOCKFILE_VERSION = 1;
export const DEFAULT_LOCKFILE = 'llama.lock.json';

export interface LockedFile {
  size: number;
  sha256: string;
  gitSha1?: string;
}

/** One pull's choice of files (positional paths, --include, --exclude); empty: the whole repo. */
export interface LockedSelection {
  paths?: readonly string[];
  include?: readonly string[];
  exclude?: readonly string[];
}

export interface LockedRepo {
  revision: string;
  commit: string;
  /** Relative to the lockfile's folder, '/'-separated. */
  localDir?: string;
  /** Absent in lockfiles written before selections were recorded. */
  selections?: LockedSelection[];
  files: Record<string, LockedFile>;
}

/** The canonical form of a selection: only non-empty lists, in a fixed key order. */
export function canonicalSelection(selection: LockedSelection): LockedSelection {
  const out: LockedSelection = {};
  if (selection.paths?.length) out.paths = [...selection.paths];
  if (selection.include?.length) out.include = [...selection.include];
  if (selection.exclude?.length) out.exclude = [...selection.exclude];
  return out;
}

function parseSelections(path: string, name: string, value: unknown): LockedSelection[] | undefined {
  if (value === undefined) return undefined;
  const bad = (): never => fail(path, `repo ${name} has a bad "selections" (a list of {paths, include, exclude} string lists)`);
  if (!Array.isArray(value)) bad();
  return (value as unknown[]).map((entry) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) bad();
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      const list = e[key];
      if (!['paths', 'include', 'exclude'].includes(key) || !Array.isArray(list) || !list.every((x) => typeof x === 'string')) bad();
    }
    return canonicalSelection(e as LockedSelection);
  });
}

/** The repo entry with its keys in the documented order (JSON keeps insertion order). */
function cleanRepo(repo: LockedRepo, files: Record<string, LockedFile>): LockedRepo {
  return {
    revision: repo.revision,
    commit: repo.commit,
    ...(repo.localDir !== undefined ? { localDir: repo.localDir } : {}),
    ...(repo.selections !== undefined ? { selections: repo.selections.map(canonicalSelection) } : {}),
    files,
  };
}

export interface Lockfile {
  lockfileVersion: number;
  repos: Record<string, LockedRepo>;
}

export function emptyLockfile(): Lockfile {
  return { lockfileVersion: LOCKFILE_VERSION, repos: {} };
}

const HEX = (n: number): RegExp => new RegExp(`^[0-9a-f]{${n}}$`);

function fail(path: string, what: string): never {
  throw new UsageError('LOCKFILE_INVALID', `The lockfile ${path} is not valid: ${what}.`, {
    hint: 'Fix or delete the lockfile and run `llama pull` again to recreate it.',
    details: { lockfile: path },
  });
}

/** Parse and validate; throws UsageError LOCKFILE_INVALID with what is wrong. */
export function parseLockfile(text: string, path = 'lockfile'): Lockfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    fail(path, `not JSON (${(error as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null) fail(path, 'not an object');
  const obj = raw as Record<string, unknown>;
  if (obj.lockfileVersion !== LOCKFILE_VERSION) fail(path, `lockfileVersion must be ${LOCKFILE_VERSION}`);
  if (typeof obj.repos !== 'object' || obj.repos === null) fail(path, '"repos" must be an object');
  const repos: Record<string, LockedRepo> = {};
  for (const [name, value] of Object.entries(obj.repos as Record<string, unknown>)) {
    const repo = value as Partial<LockedRepo> | null;
    if (!repo || typeof repo.revision !== 'string' || typeof repo.commit !== 'string' || !HEX(40).test(repo.commit)) {
      fail(path, `repo ${name} needs "revision" and a 40-hex "commit"`);
    }
    if (typeof repo.files !== 'object' || repo.files === null) fail(path, `repo ${name} needs "files"`);
    const files: Record<string, LockedFile> = {};
    for (const [file, entry] of Object.entries(repo.files)) {
      const f = entry as Partial<LockedFile> | null;
      if (!f || !Number.isSafeInteger(f.size) || (f.size as number) < 0 || typeof f.sha256 !== 'string' || !HEX(64).test(f.sha256)) {
        fail(path, `file ${name}/${file} needs "size" and a 64-hex "sha256"`);
      }
      if (f.gitSha1 !== undefined && (typeof f.gitSha1 !== 'string' || !HEX(40).test(f.gitSha1))) {
        fail(path, `file ${name}/${file} has a bad "gitSha1"`);
      }
      files[file] = f.gitSha1 === undefined ? { size: f.size as number, sha256: f.sha256 } : { size: f.size as number, sha256: f.sha256, gitSha1: f.gitSha1 };
    }
    const raw = value as Record<string, unknown>;
    if (raw.localDir !== undefined && (typeof raw.localDir !== 'string' || raw.localDir === '' || raw.localDir.startsWith('/'))) {
      fail(path, `repo ${name} has a bad "localDir" (a path relative to the lockfile)`);
    }
    const selections = parseSelections(path, name, raw.selections);
    repos[name] = cleanRepo({ revision: repo.revision, commit: repo.commit, ...(raw.localDir !== undefined ? { localDir: raw.localDir as string } : {}), ...(selections ? { selections } : {}), files }, files);
  }
  return { lockfileVersion: LOCKFILE_VERSION, repos };
}

/** Read a lockfile; `undefined` when it does not exist. */
export async function readLockfile(path: string): Promise<Lockfile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseLockfile(text, path);
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Canonical text: fixed key order, sorted repos and files, so equal content gives equal bytes. */
export function serializeLockfile(lock: Lockfile): string {
  const repos: Record<string, LockedRepo> = {};
  for (const name of Object.keys(lock.repos).sort(byName)) {
    const repo = lock.repos[name] as LockedRepo;
    const files: Record<string, LockedFile> = {};
    for (const path of Object.keys(repo.files).sort(byName)) {
      const f = repo.files[path] as LockedFile;
      files[path] = f.gitSha1 === undefined ? { size: f.size, sha256: f.sha256 } : { size: f.size, sha256: f.sha256, gitSha1: f.gitSha1 };
    }
    repos[name] = cleanRepo(repo, files);
  }
  return `${JSON.stringify({ lockfileVersion: LOCKFILE_VERSION, repos }, null, 2)}\n`;
}

export async function writeLockfile(path: string, lock: Lockfile): Promise<void> {
  await writeFileAtomic(path, serializeLockfile(lock));
}
