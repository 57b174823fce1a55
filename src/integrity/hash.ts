/**
 * Content hashes the hub publishes: sha256 for LFS files (`lfs.oid` in the tree) and the git blob sha1 for small
 * files (`oid` in the tree). A git blob sha1 is sha1("blob <size>\0" + bytes) (git's object format; the hub's `oid`
 * for a non-LFS file is that value, ../shared/research/hub-protocol.md §2.2), so it can be computed while streaming as
 * long as the size is known up front, which the tree gives us.
 */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';

export interface Digests {
  sha256: string;
  /** Git blob sha1; present only when asked for (non-LFS files). */
  gitSha1?: string;
  size: number;
}

/** Incremental hasher: feed bytes in file order, then `digest()`. */
export class StreamingHasher {
  readonly #sha256: Hash = createHash('sha256');
  readonly #gitSha1: Hash | undefined;
  #size = 0;

  constructor(options: { gitSha1ForSize?: number } = {}) {
    if (options.gitSha1ForSize !== undefined) {
      this.#gitSha1 = createHash('sha1');
      this.#gitSha1.update(`blob ${options.gitSha1ForSize}\0`);
    }
  }

  update(chunk: Uint8Array): void {
    this.#sha256.update(chunk);
    this.#gitSha1?.update(chunk);
    this.#size += chunk.byteLength;
  }

  get size(): number {
    return this.#size;
  }

  digest(): Digests {
    const out: Digests = { sha256: this.#sha256.digest('hex'), size: this.#size };
    if (this.#gitSha1) out.gitSha1 = this.#gitSha1.digest('hex');
    return out;
  }
}

const READ_CHUNK = 4 * 1024 * 1024;

/** Hash `length` bytes of an open file starting at `start` into `hasher` (used to re-hash a resumed prefix). */
export async function hashRange(path: string, start: number, length: number, hasher: StreamingHasher): Promise<void> {
  if (length <= 0) return;
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, length));
    let position = start;
    let left = length;
    while (left > 0) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, left), position);
      if (bytesRead === 0) throw new Error(`unexpected end of ${path} at byte ${position}`);
      hasher.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
      left -= bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** Hash a whole file in one read pass: sha256, and the git blob sha1 too when `gitSha1` is set. */
export async function hashFile(path: string, options: { gitSha1?: boolean } = {}): Promise<Digests> {
  const handle = await open(path, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } finally {
    await handle.close();
  }
  const hasher = new StreamingHasher(options.gitSha1 ? { gitSha1ForSize: size } : {});
  await hashRange(path, 0, size, hasher);
  return hasher.digest();
}
