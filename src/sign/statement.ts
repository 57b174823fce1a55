/**
 * The in-toto Statement v1 an OMS signature carries (oms-spec/spec/v1.0.md §5, §6.5, §6.6; model_signing 1.1.1
 * `_signing/signing.py` Payload and dsse_payload_to_manifest): one subject named after the model whose sha256 is the
 * root digest (SHA-256 over the raw bytes of every resource digest, in resource order), predicate type
 * `https://model_signing/signature/v1.0`, and a predicate with the sorted resources and the serialization they were
 * made with (method, hash_type, allow_symlinks, shard_size for shards, ignore_paths).
 * The deprecated `https://model_signing/Digests/v0.1` predicate (model_signing 0.2) is not read.
 */
import { createHash } from 'node:crypto';
import { IntegrityError } from '../errors.ts';
import { parseShardName } from './paths.ts';
import type { Resource } from './resources.ts';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
export const LEGACY_PREDICATE_TYPE = 'https://model_signing/Digests/v0.1';

export interface Serialization {
  method: 'files' | 'shards';
  hash_type: string;
  allow_symlinks: boolean;
  shard_size?: number;
  ignore_paths?: string[];
}

export interface Statement {
  _type: typeof STATEMENT_TYPE;
  subject: [{ name: string; digest: { sha256: string } }];
  predicateType: typeof PREDICATE_TYPE;
  predicate: { resources: Resource[]; serialization: Serialization };
}

/** SHA-256 over the concatenated raw resource digests, in the order given. */
export function rootDigest(resources: readonly Pick<Resource, 'digest'>[]): string {
  const hash = createHash('sha256');
  for (const resource of resources) hash.update(Buffer.from(resource.digest, 'hex'));
  return hash.digest('hex');
}

export function buildStatement(modelName: string, resources: readonly Resource[], serialization: Serialization): Statement {
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: modelName, digest: { sha256: rootDigest(resources) } }],
    predicateType: PREDICATE_TYPE,
    predicate: {
      resources: resources.map((r) => ({ name: r.name, algorithm: r.algorithm, digest: r.digest })),
      serialization,
    },
  };
}

function invalid(message: string): IntegrityError {
  return new IntegrityError('SIGNATURE_STATEMENT_INVALID', `The signed statement is not an OMS v1.0 model signature: ${message}.`, {
    hint: 'The signature verified, but what it signs is not a model manifest: it was not made by an OMS v1.0 signer (model_signing ≥ 0.3, llama sign).',
  });
}

const HEX = /^[0-9a-f]+$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Check a decoded DSSE payload (after its signature verified) and return it typed. Beyond the OMS schemas this
 * checks what verification relies on: one hash type throughout, no duplicate resource names, shard names with
 * offsets, and the root digest matching the resources (as model_signing does).
 */
export function parseStatement(payload: Buffer): Statement {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw invalid('the payload is not JSON');
  }
  if (!isObject(value)) throw invalid('the payload is not a JSON object');
  if (value._type !== STATEMENT_TYPE) throw invalid(`_type is ${JSON.stringify(value._type)}, not ${STATEMENT_TYPE}`);
  if (value.predicateType === LEGACY_PREDICATE_TYPE) throw invalid(`predicate type ${LEGACY_PREDICATE_TYPE} (model_signing 0.2) is deprecated and not read by llama`);
  if (value.predicateType !== PREDICATE_TYPE) throw invalid(`predicateType is ${JSON.stringify(value.predicateType)}, not ${PREDICATE_TYPE}`);
  const subject = value.subject;
  if (!Array.isArray(subject) || subject.length !== 1) throw invalid('there must be exactly one subject');
  const first: unknown = subject[0];
  if (!isObject(first) || typeof first.name !== 'string' || first.name === '' || !isObject(first.digest) || typeof first.digest.sha256 !== 'string' || !HEX.test(first.digest.sha256)) {
    throw invalid('the subject needs a name and a hex sha256 digest');
  }
  const predicate = value.predicate;
  if (!isObject(predicate) || !Array.isArray(predicate.resources) || !isObject(predicate.serialization)) throw invalid('the predicate needs resources and serialization');
  const s = predicate.serialization;
  if (s.method !== 'files' && s.method !== 'shards') throw invalid(`unknown serialization method ${JSON.stringify(s.method)}`);
  if (typeof s.hash_type !== 'string') throw invalid('serialization.hash_type is missing');
  if (typeof s.allow_symlinks !== 'boolean') throw invalid('serialization.allow_symlinks is missing');
  if (s.method === 'shards' && !(Number.isSafeInteger(s.shard_size) && (s.shard_size as number) > 0)) throw invalid('shards need a positive shard_size');
  if (s.ignore_paths !== undefined && !(Array.isArray(s.ignore_paths) && s.ignore_paths.every((p) => typeof p === 'string' && p !== ''))) throw invalid('ignore_paths must be a list of paths');
  if (predicate.resources.length === 0) throw invalid('there are no resources');
  const names = new Set<string>();
  const resources: Resource[] = [];
  for (const r of predicate.resources as unknown[]) {
    if (!isObject(r) || typeof r.name !== 'string' || r.name === '' || typeof r.digest !== 'string' || !HEX.test(r.digest) || r.digest.length % 2 !== 0 || typeof r.algorithm !== 'string') {
      throw invalid('every resource needs a name, an algorithm and a hex digest');
    }
    if (r.algorithm !== s.hash_type) throw invalid(`resource ${r.name} is hashed with ${r.algorithm}, the serialization says ${s.hash_type}`);
    if (s.method === 'shards' && !parseShardName(r.name)) throw invalid(`shard resource ${JSON.stringify(r.name)} is not PATH:START:END`);
    if (names.has(r.name)) throw invalid(`resource ${r.name} is listed twice`);
    names.add(r.name);
    resources.push({ name: r.name, algorithm: r.algorithm, digest: r.digest });
  }
  const root = rootDigest(resources);
  if (root !== first.digest.sha256) throw invalid(`the subject's root digest ${first.digest.sha256} is not the digest of its resources (${root})`);
  const serialization: Serialization = { method: s.method, hash_type: s.hash_type, allow_symlinks: s.allow_symlinks };
  if (s.method === 'shards') serialization.shard_size = s.shard_size as number;
  if (s.ignore_paths !== undefined) serialization.ignore_paths = s.ignore_paths as string[];
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: first.name, digest: { sha256: first.digest.sha256 } }],
    predicateType: PREDICATE_TYPE,
    predicate: { resources, serialization },
  };
}
