/**
 * Verification records: proof that a file was hashed and has not changed since. A record is written right after a
 * file's bytes were hashed and found right; it holds the digests and the file's identity and change stamps (device,
 * inode, size, mtime and ctime in nanoseconds — the evidence git's index trusts). A later run may count the file as
 * verified without reading it only while every one of those still matches: an edit in place changes mtime and ctime,
 * a replaced file changes the inode, and ctime cannot be set back by a user (touch -d does not reset it).
 *
 * Records live in the tool's own bookkeeping, beside what hf tools read and never in their way: in the cache
 * `<repo folder>/.llama-verified/<blob>.json`, in a local dir `.cache/huggingface/download/<path>.llama-verified.json`.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../fs/atomic.ts';

/** What a file must hash to: its size and the sha256 and/or git sha1 it is expected to have. */
export interface ExpectedDigests {
  size: number;
  sha256?: string;
  gitSha1?: string;
}

export interface VerificationRecord {
  version: 1;
  size: number;
  sha256: string;
  gitSha1?: string;
  /** Identity and change stamps from fs.stat with bigint: decimal strings. */
  dev: string;
  ino: string;
  mtimeNs: string;
  ctimeNs: string;
}

async function stamps(path: string): Promise<Pick<VerificationRecord, 'dev' | 'ino' | 'mtimeNs' | 'ctimeNs'> & { size: bigint }> {
  const s = await stat(path, { bigint: true });
  return { dev: String(s.dev), ino: String(s.ino), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs), size: s.size };
}

/** Record that `file` (as it is now) hashed to `digests`. Call it only right after hashing the file's bytes. */
export async function writeVerificationRecord(recordPath: string, file: string, digests: { size: number; sha256: string; gitSha1?: string }): Promise<void> {
  const now = await stamps(file);
  if (now.size !== BigInt(digests.size)) return; // changed since it was hashed: no record
  const record: VerificationRecord = { version: 1, size: digests.size, sha256: digests.sha256, dev: now.dev, ino: now.ino, mtimeNs: now.mtimeNs, ctimeNs: now.ctimeNs };
  if (digests.gitSha1) record.gitSha1 = digests.gitSha1;
  await writeFileAtomic(recordPath, `${JSON.stringify(record)}\n`);
}

/**
 * The record for `file` when it still matches the file exactly and names the expected digests; undefined otherwise
 * (no record, unreadable, another file now, or changed since it was hashed).
 */
export async function matchingRecord(recordPath: string, file: string, expected: ExpectedDigests): Promise<VerificationRecord | undefined> {
  let record: VerificationRecord;
  try {
    record = JSON.parse(await readFile(recordPath, 'utf8')) as VerificationRecord;
  } catch {
    return undefined;
  }
  if (record?.version !== 1 || record.size !== expected.size || typeof record.sha256 !== 'string') return undefined;
  if (expected.sha256 !== undefined && record.sha256 !== expected.sha256) return undefined;
  if (expected.gitSha1 !== undefined && record.gitSha1 !== expected.gitSha1) return undefined;
  let now;
  try {
    now = await stamps(file);
  } catch {
    return undefined;
  }
  const same = now.size === BigInt(record.size) && now.dev === record.dev && now.ino === record.ino && now.mtimeNs === record.mtimeNs && now.ctimeNs === record.ctimeNs;
  return same ? record : undefined;
}

export async function removeVerificationRecord(recordPath: string): Promise<void> {
  await rm(recordPath, { force: true });
}

/** Whether `actual` digests are what `expected` asks for. */
export function digestsMatch(actual: { size: number; sha256: string; gitSha1?: string }, expected: ExpectedDigests): boolean {
  return (
    actual.size === expected.size &&
    (expected.sha256 === undefined || actual.sha256 === expected.sha256) &&
    (expected.gitSha1 === undefined || actual.gitSha1 === expected.gitSha1)
  );
}

/** "sha256 <hex>" or "git-sha1 <hex>": the algorithm named with every hash shown to a user. */
export function describeDigest(digests: { sha256?: string | undefined; gitSha1?: string | undefined }, prefer: 'sha256' | 'git-sha1' = 'sha256'): string {
  if (prefer === 'git-sha1' && digests.gitSha1) return `git-sha1 ${digests.gitSha1}`;
  if (digests.sha256) return `sha256 ${digests.sha256}`;
  return `git-sha1 ${digests.gitSha1 ?? '?'}`;
}
