/**
 * From what a user gives (flags, the configuration's `pull` section) to the options of `pull()`, so a program that
 * imports llama-dist gets what the CLI does: flags win over the configuration; the configuration's paths are
 * relative to the configuration file; the rest to `cwd`. Also the one-line summary of a result, shared by the CLI
 * and anything else that reports a pull.
 */
import { resolve } from 'node:path';
import type { LlamaConfig } from '../config/schema.ts';
import { DEFAULT_LOCKFILE } from '../integrity/lockfile.ts';
import { formatBytes } from '../util/bytes.ts';
import { DEFAULT_CONCURRENCY } from './engine.ts';
import type { PullOptions, PullResult } from './pull.ts';

/** The configuration file's `pull` section. */
export type PullSettings = NonNullable<LlamaConfig['pull']>;

export interface PullRequest {
  repo: string;
  paths?: string[];
  revision?: string;
  include?: string[];
  exclude?: string[];
  localDir?: string;
  cacheDir?: string;
  token?: string;
  endpoint?: string;
  lock?: string;
  frozen?: boolean;
  forceDownload?: boolean;
  concurrency?: number;
  offline?: boolean;
}

export interface ResolveContext {
  /** The configuration's `pull` section and the folder of the file it came from. */
  settings?: PullSettings | undefined;
  baseDir?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
}


export function resolvePullOptions(request: PullRequest, context: ResolveContext = {}): PullOptions {
  const settings = context.settings ?? {};
  const cwd = context.cwd ?? process.cwd();
  const baseDir = context.baseDir ?? cwd;
  const endpoint = request.endpoint ?? settings.endpoint;
  const cacheDir = request.cacheDir ?? (settings.cacheDir !== undefined ? resolve(baseDir, settings.cacheDir) : undefined);
  const lockfile = request.lock ?? (settings.lock !== undefined ? resolve(baseDir, settings.lock) : DEFAULT_LOCKFILE);
  return {
    repo: request.repo,
    ...(request.revision ? { revision: request.revision } : {}),
    paths: request.paths ?? [],
    include: request.include ?? [],
    exclude: request.exclude ?? [],
    ...(request.localDir ? { localDir: request.localDir } : {}),
    ...(cacheDir ? { cacheDir } : {}),
    ...(request.token ? { token: request.token } : {}),
    ...(endpoint ? { endpoint } : {}),
    lockfile,
    frozen: request.frozen ?? false,
    ...(request.forceDownload ? { forceDownload: true } : {}),
    concurrency: request.concurrency ?? settings.concurrency ?? DEFAULT_CONCURRENCY,
    ...(request.offline ? { offline: true } : {}),
    cwd,
    ...(context.env ? { env: context.env } : {}),
  };
}

/** The lines a pull reports: what was verified and how, what was skipped, where the files and the lockfile are. */
export function describePull(result: PullResult): string[] {
  const count = (status: string): number => result.files.filter((f) => f.status === status).length;
  const checked = (by: string): number => result.files.filter((f) => f.checked === by).length;
  const replaced = count('replaced');
  const lines = [
    `${result.repo}@${result.commit}${result.offline ? ' (offline)' : ''}: ${result.files.length} file(s) verified — ` +
      `${count('downloaded')} downloaded, ${count('resumed')} resumed, ${count('present')} already here` +
      `${replaced > 0 ? `, ${replaced} replaced (the copy here failed its hash)` : ''}; ` +
      `${checked('hashed')} hashed now, ${checked('record')} unchanged since verified; ${formatBytes(result.bytesDownloaded)} transferred`,
  ];
  if (result.skipped.length > 0) lines.push(`skipped (duplicate weight formats; name them or use --include): ${result.skipped.join(', ')}`);
  lines.push(`files: ${result.root}`);
  if (result.lockfile) {
    const { path, updated, moved } = result.lockfile;
    lines.push(`lockfile: ${path} (${moved ? `updated: ${result.repo} ${moved.from} → ${moved.to}` : updated ? 'updated' : 'unchanged'})`);
    if (moved) {
      for (const [what, list] of [['changed', moved.changed], ['added', moved.added], ['removed', moved.removed]] as const) {
        if (list.length > 0) lines.push(`  ${what}: ${list.join(', ')}`);
      }
    }
  }
  return lines;
}
