/**
 * `llama pull meta:<model-id> --url '<presigned link>'` (or `--manifest FILE`): what Meta's own tool fetches
 * (checklist.chk, tokenizer.model, params.json, every file the checklist names — consolidated.NN.pth by model-parallel
 * rank, fp8_scales_N.pt —; ../shared/research/publish-sign-quant2.md §6), through the hub's transfer engine (parallel
 * ranges, resume after kill -9, hashing in stream), each file checked against checklist.chk's md5 before it is placed,
 * and its sha256 recorded in the lockfile.
 *
 * Meta's CDN differs from the hub: no listing and no HEAD (CloudFront refuses it), so a file's size comes from a
 * one-byte Range GET; the link dies after 24 h or a number of downloads, answering 403 to everything — that ends the run
 * (exit 5) with the completed files left in place, since a new link continues from them. A 416 (a range past the end:
 * the partial no longer fits the file the CDN has) drops the partial and fetches the file again once.
 *
 * The lockfile entry is `meta:<folder>`; as there is no commit, its "commit" is the git blob sha1 of the checklist.chk
 * that every file was checked against (it names each file's md5, so it identifies the release), its revision
 * "checklist.chk". No URL, host or query is written there.
 */
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { AbortError, AccessError, IntegrityError, LlamaError, NetworkError, UsageError } from '../errors.ts';
import { writeFileAtomic } from '../fs/atomic.ts';
import { hashFile, StreamingHasher } from '../integrity/hash.ts';
import { DEFAULT_LOCKFILE, emptyLockfile, readLockfile, serializeLockfile, writeLockfile } from '../integrity/lockfile.ts';
import { lockedLocalDir, updateLock } from '../integrity/lock-update.ts';
import type { ProgressSink } from '../progress/events.ts';
import { redactSecrets } from '../redact.ts';
import type { RetryPolicy } from '../util/retry.ts';
import { checkSpace, freeBytes } from '../transfer/disk.ts';
import { TransferEngine } from '../transfer/engine.ts';
import { HttpClient, bodyText, type HttpGet } from '../transfer/http.ts';
import { discardPartial, partialBytes, type TransferTarget } from '../transfer/resume-state.ts';
import { CHECKLIST, parseChecklist, safeChecklistPath, type Checklist } from './checklist.ts';
import { linkSource, manifestSource, metaFolder, type FileSource } from './link.ts';

/** Always fetched beside what the checklist names (llama-stack's file list; Llama 2's checklist omits the tokenizer). */
const BASE_FILES = ['tokenizer.model', 'params.json'];
/** Fetched when the CDN has them (Meta's download.sh took them): the license the weights come under. */
export const META_LICENSE_FILES = ['LICENSE', 'USE_POLICY.md'];
const CHECKLIST_LIMIT = 1024 * 1024;

export interface MetaPullOptions {
  /** What follows `meta:`: the folder name Meta uses (Llama-3.2-1B, llama-2-7b) or a llama-stack id (Llama3.2-1B). */
  modelId: string;
  /** The presigned link from Meta's e-mail (with its `*`). */
  url?: string;
  /** llama-stack's manifest file instead of a link. */
  manifest?: string;
  /** Where the files go. Default `$LLAMA_STACK_CONFIG_DIR/checkpoints/<model-id>` (~/.llama), as llama-stack. */
  localDir?: string;
  lockfile?: string | false;
  forceDownload?: boolean;
  concurrency?: number;
  onProgress?: ProgressSink;
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
  cwd?: string;
  get?: HttpGet;
  retry?: RetryPolicy;
  pieceSize?: number;
}

export type MetaFileStatus = 'downloaded' | 'resumed' | 'present';

export interface MetaPulledFile {
  path: string;
  size: number;
  sha256: string;
  /** The checklist's md5 this file matched; absent for a file the checklist does not name (not checked). */
  md5?: string;
  status: MetaFileStatus;
  location: string;
}

export interface MetaPullResult {
  model: string;
  folder: string;
  root: string;
  files: MetaPulledFile[];
  /** Optional files (LICENSE, USE_POLICY.md) the CDN did not serve. */
  unavailable: string[];
  bytesDownloaded: number;
  /** The lockfile's key and "commit" (git blob sha1 of checklist.chk). */
  lockKey: string;
  checklistSha1: string;
  lockfile?: { path: string; updated: boolean };
}

function linkRefused(file: string, completed: number, root: string, cause?: unknown): AccessError {
  return new AccessError('META_LINK_EXPIRED', `Meta's download link was refused (403) for ${file}: it has expired (links last 24 hours) or its number of downloads is used up.`, {
    hint: `Request a new link from Meta (llama.com/llama-downloads) and run the command again with it: the ${completed} file(s) completed so far are kept in ${root} and not fetched again, and a partial file resumes where it stopped.`,
    details: { file, completedFiles: completed },
    cause,
  });
}

function gitBlobSha1(bytes: Buffer): string {
  const h = new StreamingHasher({ gitSha1ForSize: bytes.length });
  h.update(bytes);
  return h.digest().gitSha1 as string;
}

function defaultRoot(env: Record<string, string | undefined>, modelId: string): string {
  const base = env.LLAMA_STACK_CONFIG_DIR ?? join(env.HOME ?? homedir(), '.llama');
  return join(base, 'checkpoints', modelId.replace(/:/g, '-'));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

export async function pullMeta(options: MetaPullOptions): Promise<MetaPullResult> {
  try {
    return await pullMetaModel(options);
  } catch (error) {
    if (options.signal?.aborted) {
      throw new AbortError('pull stopped; completed files and partial downloads are kept and the next run resumes them; the lockfile was not changed', { cause: error });
    }
    throw error;
  }
}

async function pullMetaModel(options: MetaPullOptions): Promise<MetaPullResult> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const onProgress = options.onProgress;
  const say = (level: 'info' | 'warn', text: string): void => onProgress?.({ type: 'message', level, text: redactSecrets(text) });
  if ((options.url === undefined) === (options.manifest === undefined)) {
    throw new UsageError('META_SOURCE_MISSING', `meta:${options.modelId} needs exactly one of --url (the link from Meta's e-mail) or --manifest FILE.`, {
      hint: "Run: llama pull meta:<model> --url '<link from the e-mail>' (single quotes keep the shell off its * and &).",
    });
  }
  const folder = metaFolder(options.modelId);
  const source: FileSource = options.url !== undefined ? linkSource(options.url, folder) : await manifestSource(resolvePath(cwd, options.manifest as string), options.modelId);
  const root = options.localDir ? resolvePath(cwd, options.localDir) : defaultRoot(env, options.modelId);
  const lockPath = options.lockfile === false ? undefined : resolvePath(cwd, options.lockfile ?? DEFAULT_LOCKFILE);
  const get = options.get ?? new HttpClient({ env }).get;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 8));
  const signal = options.signal;
  const completed = new Set<string>();

  const urlFor = (file: string): string => {
    const url = source.urlOf(file);
    if (url === undefined) {
      throw new UsageError('META_MANIFEST_MISSING_FILE', `The manifest has no URL for ${file}, which ${CHECKLIST} names.`, {
        hint: 'Use the link from Meta\'s e-mail (--url) or a complete manifest.',
        details: { file },
      });
    }
    return url;
  };

  // 1. The checklist: a valid copy here (from an earlier run or download.sh) saves one download of the link's budget.
  const checklistPath = join(root, CHECKLIST);
  let checklistBytes: Buffer | undefined;
  let checklist: Checklist | undefined;
  if (!options.forceDownload && (await exists(checklistPath))) {
    const here = await readFile(checklistPath);
    try {
      checklist = parseChecklist(here.toString('utf8'));
      checklistBytes = here;
    } catch {
      say('warn', `${CHECKLIST} here is not a valid checklist (an HTML page saved by an earlier download?); fetching it again`);
    }
  }
  if (!checklist || !checklistBytes) {
    const answer = await get(urlFor(CHECKLIST), { headers: {}, ...(signal ? { signal } : {}) });
    if (answer.status === 403) {
      await bodyText(answer.body);
      throw linkRefused(CHECKLIST, 0, root);
    }
    if (answer.status !== 200) {
      const text = await bodyText(answer.body, 200);
      throw new NetworkError('META_BAD_RESPONSE', `Meta's download host answered ${answer.status} for ${CHECKLIST}${text ? ` (${text.slice(0, 120)})` : ''}.`, {
        hint: 'Try again later; if it persists, request a new link.',
        details: { file: CHECKLIST, status: answer.status },
      });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of answer.body) {
      chunks.push(Buffer.from(chunk));
      size += chunk.length;
      if (size > CHECKLIST_LIMIT) {
        answer.body.destroy();
        throw new IntegrityError('META_CHECKLIST_INVALID', `${CHECKLIST} is over ${CHECKLIST_LIMIT} bytes: not a checklist.`, { hint: 'Request a new link from Meta and run the command again.' });
      }
    }
    checklistBytes = Buffer.concat(chunks);
    checklist = parseChecklist(checklistBytes.toString('utf8'), answer.headers['content-type']);
    await mkdir(root, { recursive: true });
    await writeFileAtomic(checklistPath, checklistBytes);
  }
  const checklistSha1 = gitBlobSha1(checklistBytes);

  // 2. What to fetch: the checklist's files, the tokenizer and params, and (if served) the license files.
  const required = [...new Set([...checklist.keys(), ...BASE_FILES])].filter((f) => f !== CHECKLIST);
  if (source.listed) for (const f of source.listed) if (!required.includes(f) && f !== CHECKLIST && safeChecklistPath(f) && !META_LICENSE_FILES.includes(f)) required.push(f);
  const optional = META_LICENSE_FILES.filter((f) => !required.includes(f) && (source.listed === undefined || source.listed.includes(f)));
  for (const f of required) if (!checklist.has(f)) say('warn', `${f}: not in ${CHECKLIST}, so only its sha256 is recorded (not checked against Meta's md5)`);

  const results = new Map<string, MetaPulledFile>();
  const unavailable: string[] = [];
  const locationOf = (file: string): string => join(root, ...file.split('/'));
  const partialOf = (file: string): string => join(root, '.llama-dist', 'partial', `${file.split('/').join('__')}.incomplete`);

  // 3. Files here already: kept when their md5 matches the checklist (a file the checklist does not name is kept as is).
  const todo: string[] = [];
  for (const file of [...required, ...optional]) {
    signal?.throwIfAborted();
    const location = locationOf(file);
    if (options.forceDownload || !(await exists(location))) {
      todo.push(file);
      continue;
    }
    const expected = checklist.get(file);
    const got = await hashFile(location, { md5: true, signal });
    if (expected === undefined || got.md5 === expected) {
      results.set(file, { path: file, size: got.size, sha256: got.sha256, ...(expected ? { md5: expected } : {}), status: 'present', location });
      completed.add(file);
      continue;
    }
    say('warn', `${file}: the copy here does not match ${CHECKLIST} (md5 ${got.md5}, expected ${expected}); removed, downloading it again`);
    await rm(location, { force: true });
    todo.push(file);
  }

  // 4. Sizes, by a one-byte range (no HEAD on CloudFront); a 403 on an optional file means the CDN does not have it.
  const sizes = new Map<string, number>();
  for (const file of todo) {
    const answer = await get(urlFor(file), { headers: { range: 'bytes=0-0' }, ...(signal ? { signal } : {}) });
    const isOptional = optional.includes(file);
    // 206 "bytes 0-0/N"; 416 "bytes */N" (an empty file has no byte 0); 200 when ranges are ignored.
    const total = /\/(\d+)\s*$/.exec(answer.headers['content-range'] ?? '')?.[1];
    let size: number | undefined;
    if ((answer.status === 206 || answer.status === 416) && total !== undefined) size = Number(total);
    else if (answer.status === 200 && answer.headers['content-length'] !== undefined) size = Number(answer.headers['content-length']);
    await bodyText(answer.body, 1);
    if (answer.status === 403 || answer.status === 404) {
      if (isOptional) {
        unavailable.push(file);
        continue;
      }
      if (answer.status === 403) throw linkRefused(file, completed.size, root);
    }
    if (size === undefined || !Number.isSafeInteger(size) || size < 0) {
      throw new NetworkError('META_BAD_RESPONSE', `Meta's download host gave no size for ${file} (HTTP ${answer.status}).`, {
        hint: 'Try again later; if it persists, request a new link.',
        details: { file, status: answer.status },
      });
    }
    sizes.set(file, size);
  }
  const fetchList = todo.filter((f) => sizes.has(f));

  const targets = new Map<string, TransferTarget>();
  let needed = 0;
  for (const file of fetchList) {
    const t: TransferTarget = { repoPath: file, size: sizes.get(file) as number, url: urlFor(file), partialPath: partialOf(file) };
    const md5 = checklist.get(file);
    if (md5) t.expectedMd5 = md5;
    if (options.forceDownload) await discardPartial(t);
    targets.set(file, t);
    needed += t.size - (await partialBytes(t));
  }
  if (needed > 0) checkSpace(root, needed, await freeBytes(root));

  const engine = new TransferEngine({
    endpoint: new URL(urlFor(fetchList[0] ?? CHECKLIST)).origin,
    get,
    concurrency,
    ...(options.pieceSize ? { pieceSize: options.pieceSize } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(signal ? { signal } : {}),
    // A 403 here is the link's end, not a CDN URL to ask for again.
    maxReResolves: 0,
    repo: `meta:${folder}`,
    tokenGiven: false,
    hashSource: `${CHECKLIST}`,
  });

  const total = fetchList.reduce((a, f) => a + (sizes.get(f) as number), 0);
  onProgress?.({ type: 'start', task: 'pull', label: `meta:${folder}`, unit: 'bytes', total });
  const queue = [...fetchList].sort((a, b) => (sizes.get(b) as number) - (sizes.get(a) as number) || (a < b ? -1 : 1));
  const abort = new AbortController();
  const stop = signal ? AbortSignal.any([signal, abort.signal]) : abort.signal;
  let firstError: unknown;
  const fetchOne = async (file: string): Promise<MetaPulledFile> => {
    const target = targets.get(file) as TransferTarget;
    const task = `pull:${file}`;
    onProgress?.({ type: 'start', task, label: file, unit: 'bytes', total: target.size, parent: 'pull' });
    try {
      let out;
      try {
        out = await engine.transfer(target, (done) => onProgress?.({ type: 'advance', task, done, total: target.size }), stop);
      } catch (error) {
        if (error instanceof LlamaError && error.details?.status === 416) {
          say('warn', `${file}: the download host says the partial file no longer fits (416); fetching it again from the start`);
          await discardPartial(target);
          out = await engine.transfer(target, (done) => onProgress?.({ type: 'advance', task, done, total: target.size }), stop);
        } else throw error;
      }
      const location = locationOf(file);
      await mkdir(dirname(location), { recursive: true });
      await rename(target.partialPath, location);
      completed.add(file);
      onProgress?.({ type: 'end', task, ok: true, ...(out.resumedBytes > 0 ? { note: `resumed at ${out.resumedBytes} bytes` } : {}) });
      return { path: file, size: target.size, sha256: out.sha256, ...(target.expectedMd5 ? { md5: target.expectedMd5 } : {}), status: out.resumedBytes > 0 ? 'resumed' : 'downloaded', location };
    } catch (error) {
      onProgress?.({ type: 'end', task, ok: false, note: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  };
  const worker = async (): Promise<void> => {
    for (;;) {
      const file = queue.shift();
      if (!file || firstError !== undefined) return;
      try {
        results.set(file, await fetchOne(file));
      } catch (error) {
        if (firstError === undefined) firstError = error;
        abort.abort(error);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, queue.length)) }, worker));
  onProgress?.({ type: 'end', task: 'pull', ok: firstError === undefined });
  if (firstError !== undefined) {
    if (firstError instanceof AccessError && !signal?.aborted) {
      throw linkRefused(String(firstError.details?.path ?? 'a file'), completed.size, root, firstError);
    }
    throw firstError;
  }

  const files = [...required, ...optional].flatMap((f) => (results.has(f) ? [results.get(f) as MetaPulledFile] : []));
  const lockKey = `meta:${folder}`;
  const result: MetaPullResult = { model: options.modelId, folder, root, files, unavailable, bytesDownloaded: engine.fetchedBytes, lockKey, checklistSha1 };
  if (lockPath) {
    const lock = await readLockfile(lockPath);
    const checklistFile = { path: CHECKLIST, size: checklistBytes.length, sha256: (await hashFile(checklistPath)).sha256 };
    const next = updateLock(lock ?? emptyLockfile(), lockKey, {
      revision: CHECKLIST,
      commit: checklistSha1,
      files: [checklistFile, ...files],
      selection: {},
      localDir: lockedLocalDir(lockPath, root),
    });
    const updated = !lock || serializeLockfile(next) !== serializeLockfile(lock);
    if (updated) await writeLockfile(lockPath, next);
    result.lockfile = { path: lockPath, updated };
  }
  return result;
}

/** The lines `llama pull meta:…` prints: what was checked and how, where the files and the lockfile are. */
export function describeMetaPull(result: MetaPullResult): string[] {
  const count = (s: MetaFileStatus): number => result.files.filter((f) => f.status === s).length;
  const checked = result.files.filter((f) => f.md5 !== undefined).length;
  const unchecked = result.files.filter((f) => f.md5 === undefined).map((f) => f.path);
  const lines = [
    `meta:${result.folder}: ${result.files.length} file(s) — ${count('downloaded')} downloaded, ${count('resumed')} resumed, ${count('present')} already here; ` +
      `${checked} match ${CHECKLIST} (md5)${unchecked.length > 0 ? `, not in ${CHECKLIST} (sha256 recorded, unchecked): ${unchecked.join(', ')}` : ''}`,
  ];
  if (result.unavailable.length > 0) lines.push(`not on the download host: ${result.unavailable.join(', ')}`);
  lines.push(`files: ${result.root}`);
  if (result.lockfile) lines.push(`lockfile: ${result.lockfile.path} (${result.lockfile.updated ? 'updated' : 'unchanged'}; ${result.lockKey} @ ${result.checklistSha1}, the git sha1 of ${CHECKLIST})`);
  return lines;
}
