/**
 * `llama publish … --to oci://REGISTRY/REPO:TAG`: the package as a ModelPack (or Docker model) artifact. Blobs the
 * repository has are skipped (HEAD), blobs in `mountFrom` repositories are mounted instead of uploaded, the rest
 * stream from disk (chunked above `chunkBytes`). The manifest goes last, so a tag never names an artifact with a
 * missing blob; the registry's Docker-Content-Digest must equal the digest computed here.
 *
 * A model.sig in the package becomes a referrer of the manifest (an artifact manifest with `subject`,
 * artifactType `application/vnd.dev.sigstore.bundle.v0.3+json`, the empty config). Where the registry has no
 * referrers API (distribution 2.8 has none: ../shared/research/publish-sign-quant2.md §2 "Local registry"), the
 * distribution-spec fallback is kept too: an image index tagged `sha256-<hex of the subject digest>` listing it.
 */
import { UsageError, IntegrityError } from '../errors.ts';
import { noProgress, type ProgressSink } from '../progress/events.ts';
import type { RetryPolicy } from '../util/retry.ts';
import { resolveRegistryCredentials } from './oci-auth.ts';
import {
  buildArtifact, EMPTY_CONFIG, OCI_INDEX, OCI_MANIFEST, sha256Digest, SIGNATURE_FILE, SIGSTORE_BUNDLE, type BuiltArtifact, type Descriptor, type OciFormat,
} from './oci-artifact.ts';
import { BlobStore, pushScope, RegistryClient } from './oci-registry.ts';
import { digestOf, fileBlob, readRange, type PublishSource, type SourceFile } from './source.ts';
import type { OciTarget } from './target.ts';

export type { OciFormat } from './oci-artifact.ts';

/** Chunk size for PATCH uploads; blobs up to this size go in one PUT. */
export const DEFAULT_CHUNK_BYTES = 64 << 20;

export interface OciPushOptions {
  source: PublishSource;
  target: OciTarget;
  format: OciFormat;
  dryRun?: boolean;
  plainHttp?: boolean;
  username?: string;
  password?: string;
  mountFrom?: string[];
  chunkBytes?: number;
  retry?: RetryPolicy;
  env: Record<string, string | undefined>;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

export type BlobStatus = 'uploaded' | 'present' | 'mounted' | 'would-push';

export interface OciPushResult {
  reference: string;
  registry: string;
  repository: string;
  tag: string | undefined;
  format: OciFormat;
  dryRun: boolean;
  manifestDigest: string;
  manifestMediaType: string;
  artifactType: string | undefined;
  configDigest: string;
  layers: { path: string; digest: string; size: number; mediaType: string; status: BlobStatus }[];
  blobs: { uploaded: number; present: number; mounted: number };
  bytesUploaded: number;
  /** The epoch file metadata and createdAt are pinned to. */
  epochSeconds: number;
  signature?: { digest: string; via: 'referrers API' | 'tag schema'; tag?: string };
  /** Where the credentials came from (never their value), or undefined for anonymous access. */
  credentials: string | undefined;
}

export async function pushToRegistry(options: OciPushOptions): Promise<OciPushResult> {
  const { source, target } = options;
  const onProgress = options.onProgress ?? noProgress;
  const tag = target.tag ?? (target.digest === undefined ? (source.version ?? 'latest') : undefined);
  const layerFiles = source.files.filter((f) => f.path !== SIGNATURE_FILE);

  // Digests of files without one (a plain directory; a package's manifest has them all): hashed one after another
  // on a worker while the blobs already hashed upload here, so a push takes about max(hash, upload), not the sum.
  const pending = new Map<string, Promise<string>>();
  let chain: Promise<unknown> = Promise.resolve();
  for (const file of layerFiles) {
    if (file.manifestSha256 !== undefined) continue;
    const digest = chain.then(async () => (await digestOf(file)).sha256);
    chain = digest.catch(() => undefined);
    pending.set(file.path, digest);
  }
  const knownDigest = async (file: SourceFile): Promise<string> => {
    file.manifestSha256 ??= await pending.get(file.path);
    return `sha256:${file.manifestSha256 ?? (await digestOf(file)).sha256}`;
  };

  const statuses = new Map<string, BlobStatus>();
  let bytesUploaded = 0;
  let client: RegistryClient | undefined;
  let credentialSource: string | undefined;
  let pushBlob: ((d: Descriptor, body: () => Promise<Blob>) => Promise<BlobStatus>) | undefined;
  if (options.dryRun) {
    for (const file of layerFiles) await knownDigest(file);
  } else {
    const credentials = await resolveRegistryCredentials(target.registry, {
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      env: options.env,
    });
    credentialSource = credentials?.source;
    client = new RegistryClient({
      registry: target.registry,
      ...(options.plainHttp !== undefined ? { plainHttp: options.plainHttp } : {}),
      credentials,
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      onProgress,
    });
    const blobs = new BlobStore(client, target.repository, [pushScope(target.repository)]);
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    const totalBytes = layerFiles.reduce((sum, f) => sum + f.size, 0);
    const task = 'push';
    onProgress({ type: 'start', task, label: `oci://${target.registry}/${target.repository}`, unit: 'bytes', total: totalBytes });
    let doneBefore = 0;
    pushBlob = async (descriptor, body) => {
      if (await blobs.exists(descriptor.digest)) return 'present';
      let opened: string | undefined;
      for (const from of options.mountFrom ?? []) {
        if (from === target.repository) continue;
        const mount = await blobs.mount(descriptor.digest, from);
        if (mount.mounted) return 'mounted';
        opened ??= mount.location;
      }
      const start = doneBefore;
      await blobs.upload(await body(), descriptor.digest, chunkBytes, (done) => onProgress({ type: 'advance', task, done: start + done, total: totalBytes }), opened);
      bytesUploaded += descriptor.size;
      return 'uploaded';
    };
    for (const file of layerFiles) {
      const digest = await knownDigest(file);
      statuses.set(file.path, await pushBlob({ mediaType: 'application/octet-stream', digest, size: file.size }, () => fileBlob(file)));
      doneBefore += file.size;
      onProgress({ type: 'advance', task, done: doneBefore, total: totalBytes });
    }
    onProgress({ type: 'end', task, ok: true });
  }

  const artifact = await buildArtifact(source, { format: options.format, env: options.env });
  if (target.digest !== undefined && target.digest !== artifact.manifestDigest) {
    throw new UsageError('OCI_DIGEST_MISMATCH', `The package's manifest digest is ${artifact.manifestDigest}, not ${target.digest} as --to names.`, {
      hint: 'Push by tag (oci://REGISTRY/REPO:TAG), or name the digest this package has.',
      details: { expected: target.digest, actual: artifact.manifestDigest },
    });
  }
  const reference = `oci://${target.registry}/${target.repository}${tag !== undefined ? `:${tag}` : `@${artifact.manifestDigest}`}`;
  const result: OciPushResult = {
    reference, registry: target.registry, repository: target.repository, tag, format: options.format, dryRun: options.dryRun === true,
    manifestDigest: artifact.manifestDigest, manifestMediaType: OCI_MANIFEST,
    artifactType: options.format === 'modelpack' ? 'application/vnd.cncf.model.manifest.v1+json' : undefined,
    configDigest: artifact.configDescriptor.digest,
    layers: artifact.layers.map((l) => ({ path: l.file.path, digest: l.descriptor.digest, size: l.descriptor.size, mediaType: l.descriptor.mediaType, status: statuses.get(l.file.path) ?? 'would-push' })),
    blobs: { uploaded: 0, present: 0, mounted: 0 }, bytesUploaded, epochSeconds: artifact.epochSeconds, credentials: credentialSource,
  };
  for (const status of statuses.values()) if (status !== 'would-push') result.blobs[status] += 1;
  if (!client || !pushBlob) return result;

  await pushBlob(artifact.configDescriptor, async () => new Blob([artifact.config]));
  await putManifest(client, target.repository, tag ?? artifact.manifestDigest, artifact.manifest, OCI_MANIFEST, artifact.manifestDigest);
  if (artifact.signature) {
    result.signature = await pushSignature(client, target.repository, artifact, pushBlob, [pushScope(target.repository)]);
  }
  result.bytesUploaded = bytesUploaded;
  return result;
}

async function putManifest(client: RegistryClient, repository: string, ref: string, bytes: Buffer, mediaType: string, digest: string): Promise<Response> {
  const response = await client.request('PUT', `/v2/${repository}/manifests/${ref}`, {
    scopes: [pushScope(repository)], body: bytes, headers: { 'content-type': mediaType },
  });
  await response.body?.cancel();
  const answered = response.headers.get('docker-content-digest');
  if (answered && answered !== digest) {
    throw new IntegrityError('OCI_MANIFEST_DIGEST', `${client.registry} stored the manifest as ${answered}, not ${digest}: it changed the bytes.`, {
      hint: 'The registry rewrites manifests (an old registry converting media types?); the pushed artifact is not reproducible there.',
      details: { expected: digest, actual: answered },
    });
  }
  return response;
}

async function pushSignature(
  client: RegistryClient,
  repository: string,
  artifact: BuiltArtifact,
  pushBlob: (d: Descriptor, body: () => Promise<Blob>) => Promise<BlobStatus>,
  scopes: string[],
): Promise<NonNullable<OciPushResult['signature']>> {
  const file = artifact.signature!;
  const bytes = await readRange(file);
  const layer: Descriptor = { mediaType: SIGSTORE_BUNDLE, digest: sha256Digest(bytes), size: bytes.byteLength, annotations: { 'org.opencontainers.image.title': file.path } };
  const empty = Buffer.from('{}');
  const emptyDescriptor: Descriptor = { mediaType: EMPTY_CONFIG, digest: sha256Digest(empty), size: empty.byteLength };
  await pushBlob(layer, async () => new Blob([bytes]));
  await pushBlob(emptyDescriptor, async () => new Blob([empty]));
  const subject: Descriptor = { mediaType: OCI_MANIFEST, digest: artifact.manifestDigest, size: artifact.manifest.byteLength };
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: SIGSTORE_BUNDLE, config: emptyDescriptor, layers: [layer], subject,
    annotations: { 'org.opencontainers.image.created': new Date(artifact.epochSeconds * 1000).toISOString().replace(/\.000Z$/, 'Z') },
  }));
  const digest = sha256Digest(manifest);
  const response = await putManifest(client, repository, digest, manifest, OCI_MANIFEST, digest);
  // A registry with the referrers API says so with OCI-Subject (distribution-spec v1.1 "Pushing Manifests with Subject").
  if (response.headers.get('oci-subject') === artifact.manifestDigest) return { digest, via: 'referrers API' };
  const fallbackTag = `sha256-${artifact.manifestDigest.slice('sha256:'.length)}`;
  const existing = await client.request('GET', `/v2/${repository}/manifests/${fallbackTag}`, { scopes, headers: { accept: OCI_INDEX }, accept: [404] });
  let manifests: Descriptor[] = [];
  if (existing.status === 200) manifests = ((await existing.json()) as { manifests?: Descriptor[] }).manifests ?? [];
  else await existing.body?.cancel();
  if (!manifests.some((m) => m.digest === digest)) manifests.push({ mediaType: OCI_MANIFEST, digest, size: manifest.byteLength, artifactType: SIGSTORE_BUNDLE });
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  await putManifest(client, repository, fallbackTag, index, OCI_INDEX, sha256Digest(index));
  return { digest, via: 'tag schema', tag: fallbackTag };
}
