/**
 * `llama pull oci://REGISTRY/REPO:TAG [--local-dir DIR]`: fetch a model artifact back and lay its files out as the
 * package had them. Every digest is checked: the manifest's bytes against the digest asked for (or the registry's
 * Docker-Content-Digest for a tag), the config and each layer while they stream to disk, the ModelPack diffIds
 * against the layers. Files land under temporary names and are renamed into place only once verified; the layer's
 * `org.cncf.model.filepath` must be a relative path inside DIR. A signature referrer (referrers API, else the
 * `sha256-<hex>` tag) comes back as model.sig.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { IntegrityError, UsageError } from '../errors.ts';
import { writeFileAtomic } from '../fs/atomic.ts';
import { noProgress, type ProgressSink } from '../progress/events.ts';
import type { RetryPolicy } from '../util/retry.ts';
import { resolveRegistryCredentials } from './oci-auth.ts';
import { FILEPATH_ANNOTATION, FILE_METADATA_ANNOTATION, MODELPACK_CONFIG, OCI_INDEX, SIGNATURE_FILE, SIGSTORE_BUNDLE, sha256Digest, type Descriptor } from './oci-artifact.ts';
import { MANIFEST_ACCEPT, pullScope, RegistryClient } from './oci-registry.ts';
import { parseOciReference } from './target.ts';

export interface OciPullOptions {
  reference: string;
  localDir?: string;
  plainHttp?: boolean;
  username?: string;
  password?: string;
  retry?: RetryPolicy;
  cwd?: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

export interface OciPullResult {
  reference: string;
  manifestDigest: string;
  artifactType: string | undefined;
  dir: string;
  files: { path: string; size: number; digest: string }[];
  bytesDownloaded: number;
  signature?: { digest: string; path: string };
}

interface Manifest {
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

function safeRelative(path: string | undefined, layer: string): string {
  if (!path || path.startsWith('/') || path.includes('\\') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new IntegrityError('OCI_UNSAFE_PATH', `Layer ${layer} names the file path ${JSON.stringify(path ?? '')}, which is not a plain relative path.`, {
      hint: 'The artifact was not made by llama publish, or it was tampered with; nothing was written.',
      details: { layer, path },
    });
  }
  return path;
}

export async function pullFromRegistry(options: OciPullOptions): Promise<OciPullResult> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const onProgress = options.onProgress ?? noProgress;
  const target = parseOciReference(options.reference);
  const ref = target.digest ?? target.tag ?? 'latest';
  const dir = resolve(cwd, options.localDir ?? target.repository.split('/').pop() ?? 'model');
  const credentials = await resolveRegistryCredentials(target.registry, {
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    env,
  });
  const client = new RegistryClient({
    registry: target.registry,
    ...(options.plainHttp !== undefined ? { plainHttp: options.plainHttp } : {}),
    credentials,
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    onProgress,
  });
  const scopes = [pullScope(target.repository)];

  const response = await client.request('GET', `/v2/${target.repository}/manifests/${ref}`, { scopes, headers: { accept: MANIFEST_ACCEPT } });
  const manifestBytes = Buffer.from(await response.arrayBuffer());
  const manifestDigest = sha256Digest(manifestBytes);
  const expected = target.digest ?? response.headers.get('docker-content-digest') ?? undefined;
  if (expected !== undefined && expected !== manifestDigest) {
    throw new IntegrityError('OCI_MANIFEST_MISMATCH', `The manifest ${options.reference} hashes to ${manifestDigest}, not ${expected}.`, {
      hint: 'The registry or a proxy changed it in transit; nothing was written.',
      details: { expected, actual: manifestDigest },
    });
  }
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
  if (manifest.mediaType === OCI_INDEX || !Array.isArray(manifest.layers)) {
    throw new UsageError('OCI_NOT_A_MODEL', `${options.reference} is an index or not an image manifest; llama pull takes one model artifact.`, {
      hint: 'Name the model artifact itself (its tag or its digest).',
    });
  }
  const paths = manifest.layers.map((l) => safeRelative(l.annotations?.[FILEPATH_ANNOTATION] ?? l.annotations?.['org.opencontainers.image.title'], l.digest));
  if (new Set(paths).size !== paths.length) {
    throw new IntegrityError('OCI_DUPLICATE_PATH', `${options.reference} has two layers for the same file path.`, { hint: 'The artifact is malformed; nothing was written.' });
  }

  // The config first: small, and (ModelPack) its diffIds must name exactly the layers.
  const config = await fetchBlob(client, target.repository, manifest.config, scopes);
  if (manifest.config.mediaType === MODELPACK_CONFIG) {
    const diffIds = (JSON.parse(config.toString('utf8')) as { modelfs?: { diffIds?: string[] } }).modelfs?.diffIds ?? [];
    const digests = manifest.layers.map((l) => l.digest);
    if (JSON.stringify(diffIds) !== JSON.stringify(digests)) {
      throw new IntegrityError('OCI_DIFFIDS_MISMATCH', `${options.reference}: the config's modelfs.diffIds do not name the manifest's layers.`, {
        hint: 'The artifact is malformed or was altered; nothing was written.',
        details: { diffIds, layers: digests },
      });
    }
  }

  await mkdir(dir, { recursive: true });
  const total = manifest.layers.reduce((sum, l) => sum + l.size, 0);
  const task = 'pull';
  onProgress({ type: 'start', task, label: options.reference, unit: 'bytes', total });
  const result: OciPullResult = { reference: options.reference, manifestDigest, artifactType: manifest.artifactType, dir, files: [], bytesDownloaded: 0 };
  const staged: { tmp: string; final: string; mode: number | undefined }[] = [];
  try {
    for (const [i, layer] of manifest.layers.entries()) {
      const path = paths[i]!;
      const final = join(dir, ...path.split('/'));
      if (!final.startsWith(dir + sep)) throw new IntegrityError('OCI_UNSAFE_PATH', `Layer path ${path} leaves ${dir}.`, { hint: 'Nothing was written.' });
      await mkdir(dirname(final), { recursive: true });
      const tmp = `${final}.llama-partial`;
      const before = result.bytesDownloaded;
      await streamBlob(client, target.repository, layer, scopes, tmp, (n) => {
        result.bytesDownloaded = before + n;
        onProgress({ type: 'advance', task, done: result.bytesDownloaded, total });
      });
      let mode: number | undefined;
      try {
        const meta = JSON.parse(layer.annotations?.[FILE_METADATA_ANNOTATION] ?? '{}') as { mode?: unknown };
        if (typeof meta.mode === 'number') mode = meta.mode & 0o777;
      } catch {
        mode = undefined;
      }
      staged.push({ tmp, final, mode });
      result.files.push({ path, size: layer.size, digest: layer.digest });
    }
    for (const s of staged) {
      if (s.mode !== undefined) await chmod(s.tmp, s.mode);
      await rename(s.tmp, s.final);
    }
  } catch (error) {
    for (const s of staged) await rm(s.tmp, { force: true });
    onProgress({ type: 'end', task, ok: false });
    throw error;
  }
  onProgress({ type: 'end', task, ok: true });

  const signature = await findSignature(client, target.repository, manifestDigest, scopes);
  if (signature) {
    const bytes = await fetchBlob(client, target.repository, signature, scopes);
    const path = join(dir, SIGNATURE_FILE);
    await rm(`${path}.llama-partial`, { force: true });
    await writeFileAtomic(path, bytes);
    result.signature = { digest: signature.digest, path };
  }
  return result;
}

/** The signature bundle attached to `subject`: referrers API first, then the `sha256-<hex>` tag. */
async function findSignature(client: RegistryClient, repository: string, subject: string, scopes: string[]): Promise<Descriptor | undefined> {
  let index = await client.request('GET', `/v2/${repository}/referrers/${subject}`, { scopes, headers: { accept: OCI_INDEX }, accept: [404, 400] });
  if (index.status !== 200) {
    await index.body?.cancel();
    index = await client.request('GET', `/v2/${repository}/manifests/sha256-${subject.slice('sha256:'.length)}`, { scopes, headers: { accept: OCI_INDEX }, accept: [404] });
    if (index.status !== 200) {
      await index.body?.cancel();
      return undefined;
    }
  }
  const entries = ((await index.json()) as { manifests?: Descriptor[] }).manifests ?? [];
  const entry = entries.find((m) => m.artifactType === SIGSTORE_BUNDLE);
  if (!entry) return undefined;
  const bytes = await fetchManifest(client, repository, entry.digest, scopes);
  const referrer = JSON.parse(bytes.toString('utf8')) as Manifest & { subject?: Descriptor };
  if (referrer.subject?.digest !== subject) return undefined;
  return referrer.layers.find((l) => l.mediaType === SIGSTORE_BUNDLE);
}

async function fetchManifest(client: RegistryClient, repository: string, digest: string, scopes: string[]): Promise<Buffer> {
  const response = await client.request('GET', `/v2/${repository}/manifests/${digest}`, { scopes, headers: { accept: MANIFEST_ACCEPT } });
  const bytes = Buffer.from(await response.arrayBuffer());
  if (sha256Digest(bytes) !== digest) {
    throw new IntegrityError('OCI_MANIFEST_MISMATCH', `The manifest ${digest} arrived with other bytes (${sha256Digest(bytes)}).`, { hint: 'Nothing was written.' });
  }
  return bytes;
}

async function fetchBlob(client: RegistryClient, repository: string, descriptor: Descriptor, scopes: string[]): Promise<Buffer> {
  const response = await client.request('GET', `/v2/${repository}/blobs/${descriptor.digest}`, { scopes });
  const bytes = Buffer.from(await response.arrayBuffer());
  const actual = sha256Digest(bytes);
  if (actual !== descriptor.digest || bytes.byteLength !== descriptor.size) throw blobMismatch(descriptor, actual, bytes.byteLength);
  return bytes;
}

async function streamBlob(client: RegistryClient, repository: string, descriptor: Descriptor, scopes: string[], path: string, onBytes: (n: number) => void): Promise<void> {
  const response = await client.request('GET', `/v2/${repository}/blobs/${descriptor.digest}`, { scopes });
  const hash = createHash('sha256');
  let size = 0;
  const out = createWriteStream(path);
  try {
    const body = response.body ? Readable.fromWeb(response.body as WebReadableStream<Uint8Array>) : Readable.from([]);
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      hash.update(bytes);
      size += bytes.byteLength;
      if (size > descriptor.size) break;
      if (!out.write(bytes)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      onBytes(size);
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  } catch (error) {
    out.destroy();
    await rm(path, { force: true });
    throw error;
  }
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== descriptor.digest || size !== descriptor.size) {
    await rm(path, { force: true });
    throw blobMismatch(descriptor, actual, size);
  }
}

function blobMismatch(descriptor: Descriptor, actual: string, size: number): IntegrityError {
  return new IntegrityError('OCI_BLOB_MISMATCH', `Blob ${descriptor.digest} arrived as ${size} bytes hashing to ${actual} (expected ${descriptor.size} bytes).`, {
    hint: 'The registry or a proxy corrupted it; pull again. Nothing was put in place.',
    details: { expected: descriptor.digest, actual, size, expectedSize: descriptor.size },
  });
}
