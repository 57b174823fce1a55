/**
 * A package as an OCI artifact: one raw layer per file (lexicographic order), a config, and the manifest.
 *
 * CNCF ModelPack (modelpack/model-spec@d78bf32 docs/spec.md, config.md, annotations.md; facts in
 * ../shared/research/publish-sign-quant2.md §2 and distribution.md §A1.1): manifest `artifactType`
 * `application/vnd.cncf.model.manifest.v1+json`, config `application/vnd.cncf.model.config.v1+json` with
 * `descriptor` (createdAt, name, version, licenses as SPDX ids or `LicenseRef-…`), `config` (format, quantization,
 * architecture, paramSize) and `modelfs {type: "layers", diffIds}` (a raw layer's diffId is its digest); layers
 * `application/vnd.cncf.model.{weight|weight.config|doc|code}.v1.raw`.
 *
 * Docker Model Runner (docker/model-runner@642c721 pkg/distribution/types/config.go, format/gguf.go): no
 * artifactType; config `application/vnd.docker.ai.model.config.v0.2+json` = `{config:{format, quantization,
 * parameters, architecture, size, gguf:{…}, context_size?}, descriptor:{created}, rootfs:{type:"rootfs",
 * diff_ids}}` where `gguf` is every GGUF key turned into a string (arrays over 50 items left out, floats as %f,
 * arrays joined with ", "); layers `application/vnd.docker.ai.gguf.v3`, `…safetensors`, `…license`,
 * `…chat.template.jinja`, `…mmproj`, `…model.file`.
 *
 * Both formats put on every layer `org.cncf.model.filepath`, `org.cncf.model.file.metadata+json`
 * (`{name, mode, uid, gid, size, mtime, typeflag}` as Go's FileMetadata marshals it: mode a number, mtime RFC 3339,
 * typeflag the byte '0' = 48) and `org.cncf.model.file.mediatype.untested` ("true": the kind is inferred from the
 * file name). Reproducible: uid = gid = 0, mode 0644/0755 from the package, mtime and createdAt from the epoch
 * (SOURCE_DATE_EPOCH, else the package's), keys in a fixed order, no whitespace, so the same package gives the same
 * manifest digest on every machine. model.sig is not a layer: it goes up as a referrer of the manifest.
 */
import { createHash } from 'node:crypto';
import { getLicense } from '../license/catalog.ts';
import { DEFAULT_EPOCH_SECONDS } from '../package/archive.ts';
import { formatBytes } from '../util/bytes.ts';
import { ggufSummary, type GgufSummary } from './oci-gguf.ts';
import { digestOf, type PublishSource, type SourceFile } from './source.ts';

export type OciFormat = 'modelpack' | 'docker';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MODELPACK_ARTIFACT = 'application/vnd.cncf.model.manifest.v1+json';
export const MODELPACK_CONFIG = 'application/vnd.cncf.model.config.v1+json';
export const DOCKER_CONFIG = 'application/vnd.docker.ai.model.config.v0.2+json';
export const FILEPATH_ANNOTATION = 'org.cncf.model.filepath';
export const FILE_METADATA_ANNOTATION = 'org.cncf.model.file.metadata+json';
export const UNTESTED_ANNOTATION = 'org.cncf.model.file.mediatype.untested';
export const SIGNATURE_FILE = 'model.sig';
/** Sigstore bundle media type (OMS / model_signing write bundle v0.3). */
export const SIGSTORE_BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

export interface BuiltArtifact {
  format: OciFormat;
  manifest: Buffer;
  manifestDigest: string;
  mediaType: string;
  config: Buffer;
  configDescriptor: Descriptor;
  layers: { file: SourceFile; descriptor: Descriptor }[];
  /** The package's model.sig, pushed as a referrer. */
  signature: SourceFile | undefined;
  epochSeconds: number;
}

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

const WEIGHT = /\.(gguf|safetensors|bin|pt|pth|ckpt|onnx|npz|h5|msgpack)$/i;
const WEIGHT_CONFIG = /(^|\/)(config\.json|generation_config\.json|tokenizer[^/]*|special_tokens_map\.json|vocab\.[^/]+|merges\.txt|added_tokens\.json|preprocessor_config\.json|chat_template[^/]*|[^/]*\.jinja|params\.json)$/i;
const CODE = /\.(py|ipynb|sh|js|ts)$/i;

function modelpackMediaType(path: string): string {
  if (WEIGHT_CONFIG.test(path) || /(^|\/)tokenizer\.model$/.test(path)) return 'application/vnd.cncf.model.weight.config.v1.raw';
  if (WEIGHT.test(path)) return 'application/vnd.cncf.model.weight.v1.raw';
  if (CODE.test(path)) return 'application/vnd.cncf.model.code.v1.raw';
  return 'application/vnd.cncf.model.doc.v1.raw';
}

function dockerMediaType(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (/mmproj/i.test(name) && /\.gguf$/i.test(name)) return 'application/vnd.docker.ai.mmproj';
  if (/\.gguf$/i.test(name)) return 'application/vnd.docker.ai.gguf.v3';
  if (/\.safetensors$/i.test(name)) return 'application/vnd.docker.ai.safetensors';
  if (/^(LICENSE|LICENCE|COPYING)([._-].*)?$/i.test(name) || /^USE_POLICY\.md$/i.test(name)) return 'application/vnd.docker.ai.license';
  if (/\.jinja$/i.test(name)) return 'application/vnd.docker.ai.chat.template.jinja';
  return 'application/vnd.docker.ai.model.file';
}

/** The epoch file metadata and createdAt are pinned to. */
export function artifactEpoch(source: PublishSource, env: Record<string, string | undefined>): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw !== undefined && /^\d+$/.test(raw.trim())) return Number(raw.trim());
  return source.sourceDateEpoch ?? DEFAULT_EPOCH_SECONDS;
}

function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

function fileMetadata(file: SourceFile, epochSeconds: number): string {
  // Field order as Go's FileMetadata struct marshals it.
  const name = file.path.slice(file.path.lastIndexOf('/') + 1);
  return JSON.stringify({ name, mode: file.mode, uid: 0, gid: 0, size: file.size, mtime: rfc3339(epochSeconds), typeflag: 48 });
}

/** SPDX-style ids of the package's licenses: the catalog's SPDX id or LicenseRef, else `LicenseRef-<id>`. */
function licenseIds(source: PublishSource): string[] {
  return (source.manifest?.licenses ?? []).map((l) => getLicense(l.id)?.spdx ?? `LicenseRef-${l.id.replace(/[^A-Za-z0-9.-]/g, '-')}`);
}

/** The quantization label in a GGUF file name (`…-Q4_K_M.gguf`), as Ollama and the Hub read it. */
function quantLabel(path: string): string | undefined {
  return /(?:^|[-_.])((?:I?Q\d(?:_[A-Z0-9]+)*)|BF16|F16|F32)(?=[-_.])/i.exec(path.slice(path.lastIndexOf('/') + 1))?.[1]?.toUpperCase();
}

function paramSize(count: number): string {
  return count >= 1e9 ? `${(count / 1e9).toFixed(count >= 1e10 ? 0 : 1).replace(/\.0$/, '')}b` : `${Math.round(count / 1e6)}m`;
}

function stringValue(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    if (value.length > 50) return undefined;
    return value.map((v) => stringValue(v) ?? '').join(', ');
  }
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(6);
  if (typeof value === 'bigint' || typeof value === 'boolean' || typeof value === 'string') return String(value);
  return undefined;
}

export async function buildArtifact(source: PublishSource, options: { format: OciFormat; env: Record<string, string | undefined> }): Promise<BuiltArtifact> {
  const epochSeconds = artifactEpoch(source, options.env);
  const signature = source.files.find((f) => f.path === SIGNATURE_FILE);
  const files = source.files.filter((f) => f !== signature);
  const layers: BuiltArtifact['layers'] = [];
  for (const file of files) {
    const digest = `sha256:${file.manifestSha256 ?? (await digestOf(file)).sha256}`;
    const mediaType = options.format === 'modelpack' ? modelpackMediaType(file.path) : dockerMediaType(file.path);
    layers.push({
      file,
      descriptor: {
        mediaType, digest, size: file.size,
        annotations: { [FILEPATH_ANNOTATION]: file.path, [FILE_METADATA_ANNOTATION]: fileMetadata(file, epochSeconds), [UNTESTED_ANNOTATION]: 'true' },
      },
    });
  }
  const gguf = files.find((f) => /\.gguf$/i.test(f.path) && !/mmproj/i.test(f.path));
  const summary: GgufSummary | undefined = gguf ? await ggufSummary(gguf) : undefined;
  const safetensors = files.some((f) => /\.safetensors$/i.test(f.path));
  const format = gguf ? 'gguf' : safetensors ? 'safetensors' : undefined;
  const quantization = gguf ? quantLabel(gguf.path) : undefined;
  const diffIds = layers.map((l) => l.descriptor.digest);

  let config: Record<string, unknown>;
  let configType: string;
  if (options.format === 'modelpack') {
    configType = MODELPACK_CONFIG;
    const licenses = licenseIds(source);
    config = {
      descriptor: {
        createdAt: rfc3339(epochSeconds),
        name: source.name,
        ...(source.version ? { version: source.version } : {}),
        ...(licenses.length > 0 ? { licenses } : {}),
        ...(summary?.architecture ? { family: summary.architecture } : {}),
      },
      config: {
        ...(summary?.architecture ? { architecture: summary.architecture } : {}),
        ...(format ? { format } : {}),
        ...(summary?.parameterCount ? { paramSize: paramSize(summary.parameterCount) } : {}),
        ...(quantization ? { quantization } : {}),
      },
      modelfs: { type: 'layers', diffIds },
    };
  } else {
    configType = DOCKER_CONFIG;
    const kvs: Record<string, string> = {};
    for (const [key, value] of summary?.kvs ?? []) {
      const text = stringValue(value);
      if (text !== undefined) kvs[key] = text;
    }
    const contextLength = summary?.architecture ? summary.kvs.get(`${summary.architecture}.context_length`) : undefined;
    config = {
      config: {
        ...(format ? { format } : {}),
        ...(quantization ? { quantization } : {}),
        ...(summary?.parameterCount ? { parameters: `${(summary.parameterCount / 1e9).toFixed(2)} B` } : {}),
        ...(summary?.architecture ? { architecture: summary.architecture } : {}),
        size: formatBytes(files.filter((f) => WEIGHT.test(f.path)).reduce((sum, f) => sum + f.size, 0)),
        ...(gguf ? { gguf: kvs } : {}),
        ...(typeof contextLength === 'number' ? { context_size: contextLength } : {}),
      },
      descriptor: { created: rfc3339(epochSeconds) },
      rootfs: { type: 'rootfs', diff_ids: diffIds },
    };
  }
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDescriptor: Descriptor = { mediaType: configType, digest: sha256Digest(configBytes), size: configBytes.byteLength };
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    ...(options.format === 'modelpack' ? { artifactType: MODELPACK_ARTIFACT } : {}),
    config: configDescriptor,
    layers: layers.map((l) => l.descriptor),
    annotations: {
      'org.opencontainers.image.created': rfc3339(epochSeconds),
      'org.opencontainers.image.title': source.name,
      ...(source.version ? { 'org.opencontainers.image.version': source.version } : {}),
    },
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    format: options.format,
    manifest: manifestBytes,
    manifestDigest: sha256Digest(manifestBytes),
    mediaType: OCI_MANIFEST,
    config: configBytes,
    configDescriptor,
    layers,
    signature,
    epochSeconds,
  };
}
