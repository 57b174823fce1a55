/**
 * The fake hub's upload side, as `@huggingface/hub` 2.17.5 `createRepo`/`commit` speak it
 * (../shared/research/publish-sign-quant2.md §1 "The wire protocol" and "What a local test server must implement"):
 * repo creation, preupload, the LFS batch (basic and multipart; Xet is never offered, so the client falls back),
 * presigned PUTs on the CDN origin (no Authorization, as on S3), part ETags, multipart completion, the NDJSON commit
 * with `parentCommit`, and tags. Every uploaded object is streamed to a file under the upload folder while its
 * sha256 (and git sha1) are computed; an object whose bytes do not hash to its oid is refused and not kept.
 * Uploaded objects are remembered before any commit names them, as the Hub does, so a rerun's batch finds them.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { Blob, BlobStore, FileInput } from './store.ts';
import { isLfsByDefault } from './store.ts';

/** The Hub refuses regular (inline) files above 10 MB; they must go through LFS. */
const MAX_INLINE_FILE = 10 * 1024 * 1024;

export interface UploadOptions {
  /** Objects larger than this get a multipart upload with parts of this size. Default 64 MiB. */
  multipartChunkSize?: number;
  /** Largest object the batch accepts (the Hub: 500 GB). Larger ones get a per-object error. */
  maxFileSize?: number;
  /** Where uploaded objects are kept. Default: a fresh temporary folder, removed on close. */
  uploadDir?: string;
}

interface MultipartSession {
  oid: string;
  size: number;
  chunkSize: number;
  repo: string;
  parts: Map<number, { path: string; etag: string; size: number }>;
}

/** What a finished upload handler tells the server to answer. */
export interface UploadAnswer {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
  /** X-Error-Code, for error answers. */
  code?: string;
}

export class UploadArea {
  dir = '';
  private ownDir = false;
  private readonly key = randomBytes(32);
  private readonly sessions = new Map<string, MultipartSession>();
  private seq = 0;
  readonly options: UploadOptions;

  constructor(options: UploadOptions) {
    this.options = options;
  }

  async open(): Promise<void> {
    if (this.options.uploadDir !== undefined) this.dir = this.options.uploadDir;
    else {
      this.dir = await mkdtemp(join(tmpdir(), 'hub-uploads-'));
      this.ownDir = true;
    }
  }

  async close(): Promise<void> {
    if (this.ownDir) await rm(this.dir, { recursive: true, force: true });
  }

  sign(...fields: string[]): string {
    return createHmac('sha256', this.key).update(fields.join('\n')).digest('hex');
  }

  /** The LFS batch answer for one object: nothing to do when stored, else a basic PUT or a multipart plan. */
  batchObject(store: BlobStore, cdnUrl: string, hubUrl: string, repo: string, oid: string, size: number, repoHas: (oid: string) => boolean): Record<string, unknown> {
    if (!/^[0-9a-f]{64}$/.test(oid) || !Number.isSafeInteger(size) || size < 0) {
      return { oid, size, error: { code: 422, message: 'Invalid oid or size' } };
    }
    const max = this.options.maxFileSize ?? 500e9;
    if (size > max) return { oid, size, error: { code: 422, message: `File of ${size} bytes exceeds the maximum file size (${max} bytes)` } };
    // LFS storage is per repository: an object counts as present only once this repo has it (uploaded or committed).
    const known = store.bySha256.get(oid);
    if (known && known.size === size && repoHas(oid)) return { oid, size, authenticated: true };
    const chunkSize = this.options.multipartChunkSize ?? 64 << 20;
    if (size > chunkSize) {
      const uploadId = `${oid.slice(0, 8)}-${++this.seq}-${randomBytes(4).toString('hex')}`;
      this.sessions.set(uploadId, { oid, size, chunkSize, repo, parts: new Map() });
      const header: Record<string, string> = { chunk_size: String(chunkSize) };
      const count = Math.ceil(size / chunkSize);
      for (let n = 1; n <= count; n++) {
        const q = new URLSearchParams({ repo, uploadId, partNumber: String(n), sig: this.sign('part', uploadId, String(n)) });
        header[String(n).padStart(5, '0')] = `${cdnUrl}/lfs-upload/${oid}?${q.toString()}`;
      }
      const href = `${hubUrl}/api/complete_multipart?${new URLSearchParams({ uploadId, sig: this.sign('complete', uploadId) }).toString()}`;
      return { oid, size, authenticated: true, actions: { upload: { href, header } } };
    }
    const q = new URLSearchParams({ repo, size: String(size), sig: this.sign('basic', repo, oid, String(size)) });
    return { oid, size, authenticated: true, actions: { upload: { href: `${cdnUrl}/lfs-upload/${oid}?${q.toString()}` } } };
  }

  /**
   * A presigned PUT on the CDN origin: a whole object (basic) or one part (multipart). `dropAfter`: stop reading
   * after that many bytes and drop the connection (a fault, as a proxy dying mid-upload).
   */
  async put(req: IncomingMessage, url: URL, store: BlobStore, dropAfter: number | undefined, stored: (repo: string, oid: string) => void): Promise<UploadAnswer> {
    const oid = url.pathname.split('/')[2] ?? '';
    const q = url.searchParams;
    const uploadId = q.get('uploadId');
    if (uploadId !== null) {
      const partNumber = Number(q.get('partNumber'));
      const session = this.sessions.get(uploadId);
      if (!session || session.oid !== oid || q.get('sig') !== this.sign('part', uploadId, String(partNumber))) return s3Error(403, 'AccessDenied', 'Access denied');
      const path = join(this.dir, `${uploadId}.part${partNumber}`);
      const { size, md5 } = await receive(req, path, dropAfter);
      const expected = Math.min(session.chunkSize, session.size - (partNumber - 1) * session.chunkSize);
      if (size !== expected) {
        await rm(path, { force: true });
        return s3Error(400, 'IncompleteBody', `Part ${partNumber} has ${size} bytes, expected ${expected}`);
      }
      const etag = `"${md5}"`;
      session.parts.set(partNumber, { path, etag, size });
      return { status: 200, text: '', headers: { ETag: etag } };
    }
    const size = Number(q.get('size'));
    const repo = q.get('repo') ?? '';
    if (q.get('sig') !== this.sign('basic', repo, oid, String(size))) return s3Error(403, 'AccessDenied', 'Access denied');
    const path = join(this.dir, `${oid}.${++this.seq}`);
    const received = await receive(req, path, dropAfter);
    if (received.size !== size || received.sha256 !== oid) {
      await rm(path, { force: true });
      return s3Error(400, 'BadDigest', `Object has ${received.size} bytes with sha256 ${received.sha256}; expected ${size} bytes with sha256 ${oid}`);
    }
    await store.add({ path, sha256: oid, gitOid: received.gitOid });
    stored(repo, oid);
    return { status: 200, text: '', headers: { ETag: `"${received.md5}"` } };
  }

  /** Multipart completion: every part present with its ETag; the parts joined hash to the oid. */
  async complete(url: URL, body: string, store: BlobStore, stored: (repo: string, oid: string) => void): Promise<UploadAnswer> {
    const uploadId = url.searchParams.get('uploadId') ?? '';
    const session = this.sessions.get(uploadId);
    if (!session || url.searchParams.get('sig') !== this.sign('complete', uploadId)) return { status: 404, json: { error: 'Upload not found' } };
    let request: { oid?: unknown; parts?: { partNumber?: unknown; etag?: unknown }[] };
    try {
      request = JSON.parse(body) as typeof request;
    } catch {
      return { status: 400, json: { error: 'Invalid JSON body' } };
    }
    const count = Math.ceil(session.size / session.chunkSize);
    const parts = Array.isArray(request.parts) ? request.parts : [];
    if (request.oid !== session.oid || parts.length !== count) return { status: 400, json: { error: `Expected oid ${session.oid} and ${count} parts` } };
    for (let n = 1; n <= count; n++) {
      const got = session.parts.get(n);
      const named = parts.find((p) => p.partNumber === n);
      if (!got || !named || named.etag !== got.etag) return { status: 400, json: { error: `Part ${n} is missing or its ETag does not match` } };
    }
    const path = join(this.dir, `${session.oid}.${++this.seq}`);
    const sha = createHash('sha256');
    const sha1 = createHash('sha1').update(`blob ${session.size}\0`);
    const out = createWriteStream(path);
    let size = 0;
    for (let n = 1; n <= count; n++) {
      const part = session.parts.get(n)!;
      for await (const chunk of createReadStream(part.path)) {
        sha.update(chunk as Buffer);
        sha1.update(chunk as Buffer);
        size += (chunk as Buffer).byteLength;
        if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    for (const part of session.parts.values()) await rm(part.path, { force: true });
    this.sessions.delete(uploadId);
    const sha256 = sha.digest('hex');
    if (size !== session.size || sha256 !== session.oid) {
      await rm(path, { force: true });
      return { status: 400, json: { error: `Joined parts have ${size} bytes with sha256 ${sha256}; expected ${session.size} bytes with sha256 ${session.oid}` } };
    }
    await store.add({ path, sha256, gitOid: sha1.digest('hex') });
    stored(session.repo, sha256);
    return { status: 200, json: {} };
  }
}

function s3Error(status: number, code: string, message: string): UploadAnswer {
  return {
    status,
    text: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    headers: { 'Content-Type': 'application/xml' },
  };
}

/** Stream a request body to `path`, hashing it (sha256, git blob sha1, md5 for the ETag). */
async function receive(req: IncomingMessage, path: string, dropAfter: number | undefined): Promise<{ size: number; sha256: string; gitOid: string; md5: string }> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  const chunks: Buffer[] = [];
  let size = 0;
  // git's blob header needs the size first: from Content-Length when sent, else hashed after the fact.
  const sha1 = Number.isSafeInteger(declared) ? createHash('sha1').update(`blob ${declared}\0`) : undefined;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (dropAfter !== undefined && size + chunk.byteLength > dropAfter) {
        req.socket.destroy();
        callback(new Error('upload dropped by fault'));
        return;
      }
      size += chunk.byteLength;
      sha.update(chunk);
      md5.update(chunk);
      if (sha1) sha1.update(chunk);
      else chunks.push(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(req, tap, createWriteStream(path));
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  let gitOid: string;
  if (sha1 && size === declared) gitOid = sha1.digest('hex');
  else {
    const again = createHash('sha1').update(`blob ${size}\0`);
    for await (const chunk of createReadStream(path)) again.update(chunk as Buffer);
    gitOid = again.digest('hex');
  }
  return { size, sha256: sha.digest('hex'), gitOid, md5: md5.digest('hex') };
}

/** The file input that makes a commit point at a stored blob without hashing it again. */
export function inputForBlob(blob: Blob, lfs: boolean): FileInput {
  return blob.source.kind === 'disk'
    ? { path: blob.source.path, sha256: blob.sha256, gitOid: blob.gitOid, lfs }
    : { data: blob.source.data, lfs };
}

/** One parsed NDJSON commit request. */
export interface CommitRequest {
  summary: string;
  description: string;
  parentCommit: string | undefined;
  files: Record<string, FileInput>;
  deletes: string[];
}

/** Parse the NDJSON commit body; LFS entries must name an object the store has with that size. */
export function parseCommit(body: string, store: BlobStore, repoHas: (oid: string) => boolean): CommitRequest | UploadAnswer {
  const out: CommitRequest = { summary: '', description: '', parentCommit: undefined, files: {}, deletes: [] };
  let sawHeader = false;
  for (const line of body.split('\n')) {
    if (line.trim() === '') continue;
    let item: { key?: unknown; value?: Record<string, unknown> };
    try {
      item = JSON.parse(line) as typeof item;
    } catch {
      return { status: 400, json: { error: 'Invalid NDJSON line' } };
    }
    const value = item.value ?? {};
    const path = typeof value.path === 'string' ? value.path : '';
    switch (item.key) {
      case 'header':
        sawHeader = true;
        out.summary = typeof value.summary === 'string' ? value.summary : '';
        out.description = typeof value.description === 'string' ? value.description : '';
        out.parentCommit = typeof value.parentCommit === 'string' ? value.parentCommit : undefined;
        break;
      case 'file': {
        if (value.encoding !== 'base64' || typeof value.content !== 'string') return { status: 400, json: { error: `Unsupported encoding for ${path}` } };
        const data = Buffer.from(value.content, 'base64');
        if (data.byteLength > MAX_INLINE_FILE) {
          return { status: 422, json: { error: `${path} is larger than 10 MB; it must be uploaded through LFS` } };
        }
        out.files[path] = { data, lfs: false };
        break;
      }
      case 'lfsFile': {
        const blob = typeof value.oid === 'string' ? store.bySha256.get(value.oid) : undefined;
        if (!blob || blob.size !== value.size || value.algo !== 'sha256' || !repoHas(blob.sha256)) {
          return { status: 422, json: { error: `Your push was rejected because an LFS pointer pointed to a file that does not exist (${path})` } };
        }
        out.files[path] = inputForBlob(blob, true);
        break;
      }
      case 'deletedFile':
        out.deletes.push(path);
        break;
      default:
        return { status: 400, json: { error: `Unknown commit operation ${String(item.key)}` } };
    }
  }
  if (!sawHeader || out.summary === '') return { status: 400, json: { error: 'The commit needs a header with a summary' } };
  return out;
}

/** Preupload: which files go through LFS (the default .gitattributes patterns, or anything over 10 MB). */
export function preuploadModes(body: string): UploadAnswer {
  let files: { path?: unknown; size?: unknown }[];
  try {
    files = (JSON.parse(body) as { files?: typeof files }).files ?? [];
  } catch {
    return { status: 400, json: { error: 'Invalid JSON body' } };
  }
  return {
    status: 200,
    json: {
      files: files.map((f) => ({
        path: f.path,
        uploadMode: isLfsByDefault(String(f.path), Number(f.size)) ? 'lfs' : 'regular',
        shouldIgnore: false,
      })),
    },
  };
}

/** Whether `user` (by token) may write to repos under `namespace`: its own, or an organization it belongs to. */
export function ownsNamespace(token: { user: string; orgs?: string[] }, namespace: string): boolean {
  return token.user === namespace || (token.orgs ?? []).includes(namespace);
}

