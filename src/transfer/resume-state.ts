/**
 * What a transfer is about (the target) and the resume record beside its partial file (`<partial>.state.json`): the
 * piece cut, the bytes on disk from each piece's start and the ETag of the first answer, so a later run — even after
 * kill -9 — continues with Range requests instead of starting over. The partial is named by the expected hash, and the
 * record names it too, so a record can never describe other content.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { temporaryPathFor } from '../fs/atomic.ts';
import type { Digests } from '../integrity/hash.ts';

export interface TransferTarget {
  /** Path inside the repo, for messages. */
  repoPath: string;
  size: number;
  /** Expected sha256 (LFS files: the tree's `lfs.oid`). */
  expectedSha256?: string;
  /** Expected git blob sha1 (non-LFS files: the tree's `oid`). */
  expectedGitSha1?: string;
  /** Expected md5 (Meta's checklist.chk); may stand alone or beside a sha256. */
  expectedMd5?: string;
  /** The hub's resolve URL for this file at the pinned commit. */
  url: string;
  /** Where the partial data lives; its state is `<partialPath>.state.json`. */
  partialPath: string;
}

export interface TransferOutcome extends Digests {
  /** Bytes taken from a partial left by an earlier run. */
  resumedBytes: number;
  /** Bytes that came over the network in this call. */
  fetchedBytes: number;
}

export interface SavedState {
  version: 1;
  size: number;
  pieceSize: number;
  expected: string;
  etag?: string;
  received: number[];
}

/** Below this size a file is not worth a resume record: it is fetched again from byte 0. */
export const RESUMABLE_MIN_SIZE = 1024 * 1024;
const STATE_SAVE_INTERVAL_MS = 500;

export function statePath(partialPath: string): string {
  return `${partialPath}.state.json`;
}

export function expectedKey(target: Pick<TransferTarget, 'expectedSha256' | 'expectedGitSha1' | 'expectedMd5'>): string {
  return target.expectedSha256 ?? target.expectedGitSha1 ?? (target.expectedMd5 !== undefined ? `md5:${target.expectedMd5}` : '');
}

/** The record an earlier run left for this target, if it describes this content and size. */
export async function loadState(target: TransferTarget): Promise<SavedState | undefined> {
  try {
    const state = JSON.parse(await readFile(statePath(target.partialPath), 'utf8')) as SavedState;
    if (state.version !== 1 || state.size !== target.size || state.expected !== expectedKey(target) || !Array.isArray(state.received)) return undefined;
    return state;
  } catch {
    return undefined;
  }
}

/** Bytes a partial left by an earlier run already holds (for the free-space check). */
export async function partialBytes(target: TransferTarget): Promise<number> {
  const state = await loadState(target);
  return state ? state.received.reduce((a, b) => a + b, 0) : 0;
}

/** Drop a partial and its resume record (a fresh download from byte 0 follows). */
export async function discardPartial(target: TransferTarget): Promise<void> {
  await rm(target.partialPath, { force: true });
  await rm(statePath(target.partialPath), { force: true });
}

/** Writes the record of one attempt, at most every STATE_SAVE_INTERVAL_MS unless forced, one write at a time. */
export class ResumeRecord {
  readonly #target: TransferTarget;
  readonly #base: SavedState;
  #lastSave = 0;
  /** The write in progress (or the last one); awaited before the partial is closed. */
  saving: Promise<void> = Promise.resolve();

  constructor(target: TransferTarget, base: SavedState) {
    this.#target = target;
    this.#base = base;
  }

  save(force: boolean, received: number[], etag: string | undefined): Promise<void> {
    if (this.#target.size < RESUMABLE_MIN_SIZE) return this.saving;
    const now = Date.now();
    if (!force && now - this.#lastSave < STATE_SAVE_INTERVAL_MS) return this.saving;
    this.#lastSave = now;
    const snapshot: SavedState = { ...this.#base, received };
    if (etag) snapshot.etag = etag;
    // Temp + rename without fsync: the record must survive kill -9 (page cache), not power loss; after a crash the
    // final hash check still catches anything the record claims wrongly.
    const path = statePath(this.#target.partialPath);
    const tmp = temporaryPathFor(path);
    this.saving = this.saving
      .then(async () => {
        await writeFile(tmp, JSON.stringify(snapshot));
        await rename(tmp, path);
      })
      .catch(() => rm(tmp, { force: true }).catch(() => {}));
    return this.saving;
  }

  async remove(): Promise<void> {
    await rm(statePath(this.#target.partialPath), { force: true });
  }
}
