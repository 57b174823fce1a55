/**
 * Git object ids the way the Hub computes them, so the fake hub publishes the same `oid`s a real repository with
 * the same content would have (a client can verify small files by git sha1, big ones by the LFS sha256).
 *
 * Object formats are git's: `"<type> <len>\0" + body`, hashed with sha1 (git-scm.com/book/en/v2/Git-Internals-Git-Objects).
 * The LFS pointer text is the Git LFS spec v1 (github.com/git-lfs/git-lfs/blob/main/docs/spec.md).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Worker } from 'node:worker_threads';

export interface ContentHashes {
  size: number;
  /** sha1 of the git blob object of these bytes (the tree `oid` of a non-LFS file). */
  gitOid: string;
  sha256: string;
}

export function hashBytes(data: Uint8Array): ContentHashes {
  const sha1 = createHash('sha1');
  sha1.update(`blob ${data.byteLength}\0`);
  sha1.update(data);
  return { size: data.byteLength, gitOid: sha1.digest('hex'), sha256: createHash('sha256').update(data).digest('hex') };
}

/** Files at least this big are hashed by two worker threads in parallel; smaller ones in one pass here. */
const PARALLEL_HASH_FROM = 64 << 20;

/** git sha1 and sha256 of a file of known size, streaming; memory stays at a few read buffers. */
export async function hashFile(path: string, size: number): Promise<ContentHashes> {
  let gitOid: string;
  let sha256: string;
  let seen: number;
  if (size >= PARALLEL_HASH_FROM) {
    const [a, b] = await Promise.all([
      hashInWorker(path, 'sha1', `blob ${size}\0`),
      hashInWorker(path, 'sha256', ''),
    ]);
    if (a.size !== b.size) throw new Error(`hub-server: ${path} changed while being hashed`);
    [gitOid, sha256, seen] = [a.digest, b.digest, a.size];
  } else {
    const sha1 = createHash('sha1').update(`blob ${size}\0`);
    const sha = createHash('sha256');
    seen = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      sha1.update(chunk as Buffer);
      sha.update(chunk as Buffer);
      seen += (chunk as Buffer).byteLength;
    }
    [gitOid, sha256] = [sha1.digest('hex'), sha.digest('hex')];
  }
  if (seen !== size) throw new Error(`hub-server: ${path} changed size while being hashed (${size} → ${seen})`);
  return { size, gitOid, sha256 };
}

function hashInWorker(path: string, algorithm: 'sha1' | 'sha256', prefix: string): Promise<{ digest: string; size: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./hash-worker.ts', import.meta.url), { workerData: { path, algorithm, prefix } });
    worker.once('message', (result: { digest: string; size: number }) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`hub-server: hash worker exited with ${code}`));
    });
  });
}

export function lfsPointer(sha256: string, size: number): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`);
}

export function gitBlobOid(data: Uint8Array): string {
  return createHash('sha1').update(`blob ${data.byteLength}\0`).update(data).digest('hex');
}

export interface TreeItem {
  name: string;
  kind: 'file' | 'directory';
  oid: string;
}

/** sha1 of a git tree object; entries are sorted as git does (a directory sorts as if its name ended in '/'). */
export function gitTreeOid(items: readonly TreeItem[]): string {
  const key = (item: TreeItem): string => (item.kind === 'directory' ? `${item.name}/` : item.name);
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const parts: Buffer[] = [];
  for (const item of sorted) {
    parts.push(Buffer.from(`${item.kind === 'directory' ? '40000' : '100644'} ${item.name}\0`));
    parts.push(Buffer.from(item.oid, 'hex'));
  }
  const body = Buffer.concat(parts);
  return createHash('sha1').update(`tree ${body.byteLength}\0`).update(body).digest('hex');
}

export interface CommitFields {
  tree: string;
  parent: string | undefined;
  author: string;
  /** Seconds since the epoch. */
  time: number;
  message: string;
}

export function gitCommitOid(fields: CommitFields): string {
  const who = `${fields.author} <${fields.author}@users.noreply.huggingface.co> ${fields.time} +0000`;
  const body =
    `tree ${fields.tree}\n` +
    (fields.parent ? `parent ${fields.parent}\n` : '') +
    `author ${who}\ncommitter ${who}\n\n${fields.message}\n`;
  return createHash('sha1').update(`commit ${Buffer.byteLength(body)}\0`).update(body).digest('hex');
}
