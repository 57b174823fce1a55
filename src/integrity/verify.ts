/**
 * `verify`: re-hash a pulled checkout against the lockfile, or (with no lockfile entry) against the hub's tree for
 * the pinned commit, and report every file as ok, mismatch, missing or extra. The report is data; the command decides
 * the exit code (4 on any problem).
 */
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve as resolvePath, sep } from 'node:path';
import { AbortError, IntegrityError, UsageError } from '../errors.ts';
import { connectHub, type HubClient } from '../hub/client.ts';
import { resolveCacheDir } from '../hub/config.ts';
import { checkRepoId, isCommit } from '../hub/ids.ts';
import { parseSnapshotDir } from '../hub/cache.ts';
import type { ProgressSink } from '../progress/events.ts';
import { CacheLayout, LocalDirLayout } from '../transfer/layout.ts';
import { hashFile } from './hash.ts';
import { compareLockToHub, listLockedCommit } from './lock-check.ts';
import { describeDigest } from './record.ts';
import { DEFAULT_LOCKFILE, readLockfile } from './lockfile.ts';

export interface VerifyOptions {
  /** Folder to check: a local dir or a cache snapshot folder. Default: the cache snapshot of the locked commit. */
  dir?: string;
  /** Default llama.lock.json in the cwd (used when it exists). */
  lockfile?: string;
  repo?: string;
  cacheDir?: string;
  endpoint?: string;
  token?: string;
  /** Also compare the lockfile with the hub's listing of the locked commit, as `pull --frozen` does. */
  hub?: boolean;
  env?: Record<string, string | undefined>;
  /** Folder relative paths are resolved from. Default process.cwd(). */
  cwd?: string;
  onProgress?: ProgressSink;
  signal?: AbortSignal;
}

export type VerifyStatus = 'ok' | 'mismatch' | 'missing' | 'extra';

export interface VerifiedFile {
  path: string;
  status: VerifyStatus;
  /** What the file should be (absent for extra files). */
  expected?: { size: number; sha256?: string; gitSha1?: string };
  /** What it is (absent for missing files). */
  actual?: { size: number; sha256: string; gitSha1?: string };
}

export interface VerifyReport {
  repo: string;
  commit: string;
  dir: string;
  /** Where the expected hashes came from. */
  against: 'lockfile' | 'hub';
  ok: boolean;
  counts: Record<VerifyStatus, number>;
  files: VerifiedFile[];
  /** With `hub`: each difference between the lockfile and the hub's listing (empty when they agree). */
  hubProblems?: string[];
}

async function listFilesUnder(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    const rel = relative(root, join(e.parentPath, e.name)).split(sep).join('/');
    // The local dir's own bookkeeping (hf's and ours) is not part of the checkout.
    if (rel.startsWith('.cache/huggingface/')) continue;
    out.push(rel);
  }
  return out.sort();
}

/** One report line: status, path, and for a mismatch what was expected and found, with the algorithm named. */
export function describeVerifiedFile(f: VerifiedFile): string {
  let why = '';
  if (f.status === 'mismatch' && f.expected && f.actual) {
    const algorithm = f.expected.sha256 !== undefined ? 'sha256' : 'git-sha1';
    why = ` (expected ${f.expected.size} bytes ${describeDigest(f.expected, algorithm)}, got ${f.actual.size} bytes ${describeDigest(f.actual, algorithm)})`;
  }
  return `${f.status.padEnd(8)} ${f.path}${why}`;
}

/** The report as lines: one per file, one per lockfile/hub difference, then the counts. */
export function describeVerify(report: VerifyReport): string[] {
  const lines = report.files.map(describeVerifiedFile);
  for (const problem of report.hubProblems ?? []) lines.push(`lockfile ${problem}`);
  const c = report.counts;
  const hubPart = report.hubProblems ? `; lockfile vs hub: ${report.hubProblems.length} difference(s)` : '';
  lines.push(`${report.repo}@${report.commit} against the ${report.against}: ${c.ok} ok, ${c.mismatch} mismatch, ${c.missing} missing, ${c.extra} extra${hubPart} (${report.dir})`);
  return lines;
}

/** The error (exit 4) for a report that is not ok; undefined when it is. */
export function verifyFailure(report: VerifyReport): IntegrityError | undefined {
  if (report.ok) return undefined;
  const c = report.counts;
  const hubText = report.hubProblems?.length ? `; the lockfile differs from the hub in ${report.hubProblems.length} place(s)` : '';
  return new IntegrityError('VERIFY_FAILED', `${report.repo}: ${c.mismatch} mismatched, ${c.missing} missing, ${c.extra} extra file(s) in ${report.dir}${hubText}.`, {
    hint: 'Run `llama pull` again to replace mismatched and missing files; remove extra files or pull them so the lockfile names them.',
    details: { report },
  });
}

/** A folder to check that does not exist is a usage error (exit 2), not a list of missing files. */
async function mustBeDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info?.isDirectory()) return;
  throw new UsageError('NO_SUCH_DIRECTORY', `No such directory: ${dir}${info ? ' (it is a file)' : ''}.`, {
    hint: 'Pass the folder `llama pull` filled (its --local-dir, or the cache snapshot), or run `llama pull` first.',
    details: { dir },
  });
}

/** Verify (see the module comment). When `signal` aborts, it stops between reads and throws an AbortError. */
export async function verify(options: VerifyOptions = {}): Promise<VerifyReport> {
  try {
    return await verifyFiles(options);
  } catch (error) {
    if (options.signal?.aborted) throw new AbortError('verify stopped before every file was checked; nothing was changed', { cause: error });
    throw error;
  }
}

async function verifyFiles(options: VerifyOptions): Promise<VerifyReport> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const lockPath = resolvePath(cwd, options.lockfile ?? DEFAULT_LOCKFILE);
  const lock = await readLockfile(lockPath);
  if (options.lockfile && !lock) {
    throw new UsageError('LOCKFILE_NOT_FOUND', `No lockfile at ${lockPath}.`, { hint: 'Pass the lockfile `llama pull` wrote, or verify against the hub with --repo.' });
  }
  const dir = options.dir ? resolvePath(cwd, options.dir) : undefined;
  if (dir) await mustBeDirectory(dir);
  const snap = dir ? parseSnapshotDir(dir) : undefined;
  const lockedRepos = Object.keys(lock?.repos ?? {});
  const named =
    options.repo ??
      snap?.repo ??
      (lockedRepos.length === 1
        ? (lockedRepos[0] as string)
        : (() => {
            throw new UsageError('VERIFY_REPO_UNKNOWN', lockedRepos.length > 1 ? `The lockfile names several repos (${lockedRepos.join(', ')}).` : 'Which repo to verify is unknown.', {
              hint: 'Pass --repo org/name.',
            });
          })());
  // A Meta download (pull meta:…) is locked under meta:<folder> with its local dir; it has no hub to compare with.
  const metaLocked = named.startsWith('meta:') && lock?.repos[named] !== undefined && !options.hub;
  const repo = metaLocked ? named : checkRepoId(named);
  const locked = lock?.repos[repo];
  let commit: string;
  let against: VerifyReport['against'];
  let hubProblems: string[] | undefined;
  const expected = new Map<string, NonNullable<VerifiedFile['expected']>>();
  const hubClient = (): HubClient => connectHub({ endpoint: options.endpoint, token: options.token, env, ...(options.signal ? { signal: options.signal } : {}) });
  if (locked) {
    commit = locked.commit;
    against = 'lockfile';
    for (const [path, f] of Object.entries(locked.files)) {
      expected.set(path, f.gitSha1 ? { size: f.size, sha256: f.sha256, gitSha1: f.gitSha1 } : { size: f.size, sha256: f.sha256 });
    }
    if (options.hub) {
      // The same judgement as `pull --frozen`: a gone commit throws (exit 4), differences are listed.
      const tree = await listLockedCommit(hubClient(), repo, locked);
      hubProblems = compareLockToHub(repo, locked, tree, {}).problems;
    }
  } else {
    against = 'hub';
    const client = hubClient();
    let pinned = snap?.commit;
    if (!pinned && dir) {
      const local = new LocalDirLayout(dir);
      for (const rel of await listFilesUnder(dir)) {
        const meta = await local.readMetadata(rel);
        if (meta && isCommit(meta.commit)) {
          pinned = meta.commit;
          break;
        }
      }
    }
    commit = pinned ?? (await client.resolveCommit(repo, 'main'));
    for (const f of await client.listFiles(repo, commit)) {
      expected.set(f.path, f.lfsSha256 ? { size: f.size, sha256: f.lfsSha256 } : { size: f.size, gitSha1: f.gitOid });
    }
  }
  // A plain `llama verify` after `pull --local-dir DIR` finds DIR: the lockfile records it relative to itself.
  const root = dir ?? (locked?.localDir !== undefined ? resolvePath(dirname(lockPath), locked.localDir) : new CacheLayout(resolveCacheDir(options.cacheDir, env), repo).filesRoot(commit));
  if (!dir) await mustBeDirectory(root);

  const files: VerifiedFile[] = [];
  const paths = [...expected.keys()].sort();
  options.onProgress?.({ type: 'start', task: 'verify', label: `${repo}@${commit.slice(0, 10)}`, unit: 'items', total: paths.length });
  let n = 0;
  for (const path of paths) {
    options.signal?.throwIfAborted();
    const want = expected.get(path) as NonNullable<VerifiedFile['expected']>;
    let got;
    try {
      got = await hashFile(join(root, ...path.split('/')), { gitSha1: want.gitSha1 !== undefined, signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      files.push({ path, status: 'missing', expected: want });
      continue;
    }
    const actual: NonNullable<VerifiedFile['actual']> = { size: got.size, sha256: got.sha256 };
    if (got.gitSha1) actual.gitSha1 = got.gitSha1;
    const good =
      got.size === want.size && (want.sha256 === undefined || got.sha256 === want.sha256) && (want.gitSha1 === undefined || got.gitSha1 === want.gitSha1);
    files.push({ path, status: good ? 'ok' : 'mismatch', expected: want, actual });
    options.onProgress?.({ type: 'advance', task: 'verify', done: ++n, total: paths.length });
  }
  for (const path of await listFilesUnder(root)) {
    if (!expected.has(path)) files.push({ path, status: 'extra' });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const counts: Record<VerifyStatus, number> = { ok: 0, mismatch: 0, missing: 0, extra: 0 };
  for (const f of files) counts[f.status]++;
  const ok = counts.mismatch === 0 && counts.missing === 0 && counts.extra === 0 && (hubProblems?.length ?? 0) === 0;
  options.onProgress?.({ type: 'end', task: 'verify', ok });
  return { repo, commit, dir: root, against, ok, counts, files, ...(hubProblems ? { hubProblems } : {}) };
}
