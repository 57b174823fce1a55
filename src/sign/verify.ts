/**
 * Verifying an OMS v1.0 signature (oms-spec/spec/v1.0.md §8; model_signing 1.1.1 `verifying.py`): parse the bundle,
 * check who signed (the public key's hint, or the certificate chain up to a trusted CA), verify the DSSE signature
 * with the curve's hash, check the statement, then re-hash the model with the serialization the statement records
 * (its hash type, shards, ignored paths, symlink policy) and compare file by file. Files on disk that the signature
 * does not list fail verification unless `ignoreUnsignedFiles`. A single-file model is a file path; its resource is
 * named `.` (what model_signing writes) or its basename (what OMS §6.1.2 says).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { IntegrityError, UsageError } from '../errors.ts';
import type { ProgressSink } from '../progress/events.ts';
import { parseBundle } from './bundle.ts';
import { certificateFromDer, loadCertificates, verifyCertificatePath } from './certificates.ts';
import { verifyPae } from './dsse.ts';
import { ecKeyInfo, loadPublicKey, publicKeyHint, samePublicKey, type Curve } from './keys.ts';
import { canonicalResourcePath, DEFAULT_IGNORED_PATHS, ignorePathInModel, parseShardName, pathInside } from './paths.ts';
import { checkHashType, hashResources, listModelFiles, type ModelFile } from './resources.ts';
import { parseStatement, type Statement } from './statement.ts';

export type FileStatus = 'ok' | 'mismatch' | 'missing' | 'extra';

export interface SignatureFileCheck {
  name: string;
  status: FileStatus;
  expected?: string;
  actual?: string;
}

export interface SignatureVerifyReport {
  /** True only when the signature, the signer and every file checked out in this run. */
  ok: boolean;
  model: string;
  signaturePath: string;
  method: 'key' | 'certificate';
  curve: Curve;
  /** publicKey.hint of the key that verified (key method). */
  keyHint?: string;
  /** Subjects from the signing certificate up to the trusted CA (certificate method). */
  certificatePath?: string[];
  /** subject[0].name of the statement (informational). */
  modelName: string;
  rootDigest: string;
  serialization: Statement['predicate']['serialization'];
  ignoreUnsignedFiles: boolean;
  files: SignatureFileCheck[];
  counts: Record<FileStatus, number>;
}

export interface VerifySignatureOptions {
  /** The model folder (or single model file) to check. */
  model: string;
  signaturePath: string;
  /** The signer's public key (key method). */
  publicKeyPath?: string;
  /** Trusted CA certificates (certificate method). */
  caChainPath?: string;
  /** More paths to leave out, relative to the model root, on top of those the signature records. */
  ignorePaths?: readonly string[];
  ignoreUnsignedFiles?: boolean;
  /** When certificates must be valid. Default: now. */
  now?: Date;
  cwd?: string;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

/** The raw public key of a pre-1.1 bundle: model_signing stored the PEM; DER is accepted too. */
function rawPublicKey(bytes: Buffer): KeyObject {
  try {
    const text = bytes.toString('latin1');
    return text.includes('-----BEGIN') ? createPublicKey({ key: text, format: 'pem' }) : createPublicKey({ key: bytes, format: 'der', type: 'spki' });
  } catch (error) {
    throw new IntegrityError('SIGNATURE_MALFORMED', 'The signature\'s publicKey.rawBytes is not a public key.', { hint: 'The signature file is damaged.', cause: error });
  }
}

async function signingKey(options: VerifySignatureOptions, material: ReturnType<typeof parseBundle>['material'], cwd: string, now: Date) {
  if (material.method === 'key') {
    if (options.publicKeyPath === undefined) {
      throw new UsageError('SIGNATURE_NEEDS_KEY', 'The signature was made with a key (no certificate), so it verifies against a public key.', { hint: 'Pass the signer\'s public key with --key PUB.pem.' });
    }
    const { key, curve, hash } = await loadPublicKey(resolve(cwd, options.publicKeyPath));
    const hint = publicKeyHint(key);
    const mismatch = material.hint !== undefined ? material.hint !== hint : material.rawPublicKey !== undefined && !samePublicKey(rawPublicKey(material.rawPublicKey), key);
    if (mismatch) {
      throw new IntegrityError('SIGNATURE_KEY_MISMATCH', `The signature was not made with the key in ${options.publicKeyPath} (its key hint is ${material.hint ?? 'a different raw key'}, this key's is ${hint}).`, {
        hint: 'Pass the public key of whoever signed the model; a model signed by someone else is not theirs.',
      });
    }
    return { key, curve, hash, keyHint: hint };
  }
  if (options.caChainPath === undefined) {
    throw new UsageError('SIGNATURE_NEEDS_CA', 'The signature carries a certificate chain, so it verifies against the CA certificates you trust.', { hint: 'Pass them with --cert-chain CA.pem.' });
  }
  const trusted = await loadCertificates(resolve(cwd, options.caChainPath), 'the CA certificates');
  const chain = material.certificates.map((der, i) => certificateFromDer(der, i));
  const path = verifyCertificatePath(chain, trusted, now);
  const key = chain[0]!.publicKey;
  return { key, ...ecKeyInfo(key, 'The signing certificate\'s key'), certificatePath: path.map((c) => c.subject.replace(/\n/g, ', ')) };
}

async function readSignature(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError('SIGNATURE_UNREADABLE', `Cannot read the signature ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}.`, { hint: 'Pass the model.sig that came with the model.', cause: error });
  }
}

/** Verify signature and signer, then the model's files. Never throws for a file mismatch: the report says. */
export async function verifyModelSignature(options: VerifySignatureOptions): Promise<SignatureVerifyReport> {
  const cwd = options.cwd ?? process.cwd();
  const model = resolve(cwd, options.model);
  const signaturePath = resolve(cwd, options.signaturePath);
  const now = options.now ?? new Date();

  const bundle = parseBundle(await readSignature(signaturePath));
  const signer = await signingKey(options, bundle.material, cwd, now);
  if (!verifyPae(bundle.payloadType, bundle.payload, bundle.signature, signer.key, signer.hash)) {
    throw new IntegrityError('SIGNATURE_INVALID', `The signature in ${options.signaturePath} does not verify with ${bundle.material.method === 'key' ? 'the key' : 'the signing certificate\'s key'}: the signed statement or the signature was changed.`, {
      hint: 'Do not use this model: get the model and its signature again from the publisher.',
    });
  }
  const statement = parseStatement(bundle.payload);
  const serialization = statement.predicate.serialization;
  const hashType = checkHashType(serialization.hash_type);
  const shards = serialization.method === 'shards';
  const expected = new Map(statement.predicate.resources.map((r) => [r.name, r.digest]));
  const pathOf = (name: string): string => (shards ? parseShardName(name)!.path : name);

  let info;
  try {
    info = await stat(model);
  } catch (error) {
    throw new UsageError('SIGNATURE_MODEL_MISSING', `${options.model} does not exist.`, { hint: 'Pass the model folder the signature is for.', cause: error });
  }

  let files: ModelFile[];
  if (info.isFile()) {
    const listed = new Set(statement.predicate.resources.map((r) => pathOf(r.name)));
    const name = listed.has(basename(model)) ? basename(model) : '.';
    files = [{ path: name, file: model, size: info.size }];
  } else if (info.isDirectory()) {
    const ignored: string[] = [...DEFAULT_IGNORED_PATHS];
    for (const p of serialization.ignore_paths ?? []) {
      const canonical = canonicalResourcePath(p);
      if (canonical !== undefined) ignored.push(canonical);
    }
    for (const p of options.ignorePaths ?? []) {
      const inModel = ignorePathInModel(p, model);
      if (inModel !== undefined) ignored.push(inModel);
    }
    const sigInside = pathInside(signaturePath, model);
    if (sigInside !== undefined) ignored.push(sigInside);
    if (options.ignoreUnsignedFiles) {
      files = [];
      for (const path of [...new Set(statement.predicate.resources.map((r) => pathOf(r.name)))]) {
        const file = resolve(model, path);
        const s = await stat(file).catch(() => undefined);
        // A listed file that is absent is reported missing below.
        if (s?.isFile()) files.push({ path, file, size: s.size });
      }
    } else {
      files = await listModelFiles(model, { ignored, allowSymlinks: serialization.allow_symlinks, ...(options.signal ? { signal: options.signal } : {}) });
    }
  } else {
    throw new UsageError('SIGNATURE_MODEL_KIND', `${options.model} is neither a folder nor a file.`, { hint: 'Pass the model folder the signature is for.' });
  }

  const actual = await hashResources(files, { method: serialization.method, hashType, ...(shards ? { shardSize: serialization.shard_size! } : {}) }, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    label: `hashing ${basename(model)}`,
  });
  const checks: SignatureFileCheck[] = [];
  const seen = new Set<string>();
  for (const r of actual) {
    seen.add(r.name);
    const want = expected.get(r.name);
    if (want === undefined) checks.push({ name: r.name, status: 'extra', actual: r.digest });
    else checks.push({ name: r.name, status: want === r.digest ? 'ok' : 'mismatch', expected: want, actual: r.digest });
  }
  for (const r of statement.predicate.resources) {
    if (!seen.has(r.name)) checks.push({ name: r.name, status: 'missing', expected: r.digest });
  }
  const counts: Record<FileStatus, number> = { ok: 0, mismatch: 0, missing: 0, extra: 0 };
  for (const c of checks) counts[c.status]++;
  return {
    ok: counts.mismatch === 0 && counts.missing === 0 && counts.extra === 0 && counts.ok > 0,
    model,
    signaturePath,
    method: bundle.material.method,
    curve: signer.curve,
    ...('keyHint' in signer ? { keyHint: signer.keyHint } : {}),
    ...('certificatePath' in signer ? { certificatePath: signer.certificatePath } : {}),
    modelName: statement.subject[0].name,
    rootDigest: statement.subject[0].digest.sha256,
    serialization,
    ignoreUnsignedFiles: options.ignoreUnsignedFiles ?? false,
    files: checks,
    counts,
  };
}
