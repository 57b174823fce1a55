/** The options and the result of `pull()` (pull.ts), shared by the online and the offline path. */
import type { ProgressSink } from '../progress/events.ts';
import type { RetryPolicy } from '../util/retry.ts';
import type { LockMove } from '../integrity/lock-update.ts';
import type { HttpGet } from './http-types.ts';

export interface PullOptions {
  repo: string;
  /** Branch, tag or 40-hex commit. Default "main". */
  revision?: string;
  /** Files or folders (`dir/`) to fetch; default the whole repo. */
  paths?: string[];
  include?: string[];
  exclude?: string[];
  /** Plain files in this folder instead of the cache. */
  localDir?: string;
  cacheDir?: string;
  token?: string;
  endpoint?: string;
  /** Lockfile to create or update; default llama.lock.json in the cwd; false for none. */
  lockfile?: string | false;
  frozen?: boolean;
  /** Fetch every file again even when a verified copy is here (as `hf download --force-download`). */
  forceDownload?: boolean;
  /** Connections in all. Default 8. */
  concurrency?: number;
  /** Default: HF_HUB_OFFLINE. */
  offline?: boolean;
  onProgress?: ProgressSink;
  signal?: AbortSignal;
  /** Environment to read HF_* from. Default process.env. */
  env?: Record<string, string | undefined>;
  /** Folder that relative paths (lockfile, localDir, cacheDir) are resolved from. Default process.cwd(). */
  cwd?: string;
  /** Tuning (tests, benchmarks). `get`: the HTTP client for file bytes; default the own client (http.ts). */
  get?: HttpGet;
  retry?: RetryPolicy;
  pieceSize?: number;
  idleTimeoutMs?: number;
}

/** `replaced`: a copy was here but failed its hash; it was removed and the file downloaded again. */
export type PulledStatus = 'downloaded' | 'resumed' | 'present' | 'replaced';
/**
 * How the file's bytes were checked: `hashed` in this run (every downloaded file, and present files without a
 * matching record), or `record`: unchanged since a verification record was written when it was last hashed.
 */
export type CheckedBy = 'hashed' | 'record';

export interface PulledFile {
  path: string;
  size: number;
  sha256: string;
  gitSha1?: string;
  status: PulledStatus;
  checked: CheckedBy;
  /** Where the file is now. */
  location: string;
}

export interface PullResult {
  repo: string;
  revision: string;
  commit: string;
  /** Folder holding the files (the snapshot folder in the cache, or the local dir). */
  root: string;
  files: PulledFile[];
  /** Left out by the default rule (duplicate weight formats next to safetensors). */
  skipped: string[];
  /** Bytes that came over the network. */
  bytesDownloaded: number;
  offline: boolean;
  lockfile?: { path: string; updated: boolean; moved?: LockMove };
}
