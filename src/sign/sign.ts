/**
 * Signing a model as OpenSSF Model Signing v1.0 (the `key` and `certificate` methods): hash the resources, build the
 * in-toto statement, sign its DSSE PAE with the EC key (hash by curve), wrap it in a Sigstore bundle v0.3, and write
 * it atomically. The signature file is excluded from what it signs and recorded among the ignored paths when it lies
 * inside the model, as model_signing 1.1.1 does (`_cli.py` adds `--signature` to the ignore paths).
 *
 * A model is a directory, or a `llama package` tar: then the signature covers the files the tar extracts to, below
 * its single top-level folder (the package's `NAME-VERSION/`), so `llama verify NAME-VERSION --signature …` and
 * `model_signing verify` accept the extracted folder. The tar is read once, streaming.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { list } from 'tar';
import { UsageError } from '../errors.ts';
import { writeFileAtomic } from '../fs/atomic.ts';
import type { ProgressSink } from '../progress/events.ts';
import { buildBundle, type BundleJson } from './bundle.ts';
import { loadCertificates } from './certificates.ts';
import { IN_TOTO_PAYLOAD_TYPE, signPae } from './dsse.ts';
import { loadPrivateKey, publicKeyHint, samePublicKey, type Curve, type SignatureHash } from './keys.ts';
import { canonicalResourcePath, compareCodePoints, compareResourceNames, DEFAULT_IGNORED_PATHS, ignorePathInModel, isIgnored, pathInside } from './paths.ts';
import { hashResources, listModelFiles, type Resource } from './resources.ts';
import { buildStatement, type Statement } from './statement.ts';
import type { KeyObject, X509Certificate } from 'node:crypto';

export const SIGNATURE_FILE = 'model.sig';

export interface Signer {
  key: KeyObject;
  curve: Curve;
  hash: SignatureHash;
  /** Signing certificate first, then its CA chain (the `certificate` method); absent for the `key` method. */
  certificates?: X509Certificate[];
}

/** Load the private key and, when given, the certificate chain, checking that the first certificate is the key's. */
export async function loadSigner(options: { keyPath: string; certChainPath?: string; passphrase?: string }): Promise<Signer> {
  const { key, curve, hash } = await loadPrivateKey(options.keyPath, options.passphrase);
  if (options.certChainPath === undefined) return { key, curve, hash };
  const certificates = await loadCertificates(options.certChainPath, 'the certificate chain');
  if (!samePublicKey(certificates[0]!.publicKey, key)) {
    throw new UsageError('SIGN_CERT_KEY_MISMATCH', `The first certificate in ${options.certChainPath} is not for the key ${options.keyPath}.`, {
      hint: 'Put the signing certificate (the one issued for this key) first in the chain file, then its CA certificates.',
    });
  }
  return { key, curve, hash, certificates };
}

export interface CreatedSignature {
  statement: Statement;
  bundle: BundleJson;
  /** The bundle as written to model.sig. */
  text: string;
}

/**
 * The signature over already-hashed resources. `ignorePaths` are recorded as given (plus the defaults); resources
 * are sorted here. The package sink can call this with the sha256 it computed while writing each file.
 */
export function createSignature(input: { modelName: string; resources: readonly Resource[]; ignorePaths?: readonly string[]; signer: Signer }): CreatedSignature {
  if (input.resources.length === 0) {
    throw new UsageError('SIGN_EMPTY_MODEL', `${input.modelName} has no file to sign (after the ignored paths).`, { hint: 'Sign a folder that holds the model\'s files.' });
  }
  const resources = [...input.resources].sort((a, b) => compareResourceNames(a.name, b.name, false));
  const ignorePaths = [...new Set([...DEFAULT_IGNORED_PATHS, ...(input.ignorePaths ?? [])])].sort(compareCodePoints);
  const statement = buildStatement(input.modelName, resources, { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: ignorePaths });
  const payload = Buffer.from(JSON.stringify(statement, null, 2), 'utf8');
  const signature = signPae(IN_TOTO_PAYLOAD_TYPE, payload, input.signer.key, input.signer.hash);
  const bundle = buildBundle(payload, signature, input.signer.certificates ? { certificates: input.signer.certificates.map((c) => c.raw) } : { keyHint: publicKeyHint(input.signer.key) });
  return { statement, bundle, text: JSON.stringify(bundle) };
}

/** Resources from files whose sha256 is already known (paths relative to the model root). */
export function resourcesFromDigests(files: ReadonlyArray<{ path: string; sha256: string }>): Resource[] {
  return files.map((f) => ({ name: f.path, algorithm: 'sha256', digest: f.sha256 }));
}

export interface SignOptions {
  /** A model directory, or a `llama package` .tar. */
  model: string;
  keyPath: string;
  certChainPath?: string;
  passphrase?: string;
  /** Paths to leave out, relative to the model root (absolute paths inside it are accepted too). */
  ignorePaths?: readonly string[];
  /** Where the signature goes. Default: DIR/model.sig for a directory, PACKAGE.sig beside a tar. */
  out?: string;
  cwd?: string;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

export interface SignResult {
  signaturePath: string;
  model: string;
  kind: 'directory' | 'package';
  modelName: string;
  method: 'key' | 'certificate';
  curve: Curve;
  hash: SignatureHash;
  /** publicKey.hint of the key method. */
  keyHint?: string;
  /** Subject of the signing certificate (certificate method). */
  signer?: string;
  files: number;
  bytes: number;
  rootDigest: string;
  ignorePaths: string[];
}

function userIgnorePaths(paths: readonly string[], modelRoot: string): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const inModel = ignorePathInModel(p, modelRoot);
    if (inModel === undefined) {
      throw new UsageError('SIGN_IGNORE_OUTSIDE', `--ignore ${p} is not a path inside ${modelRoot}.`, { hint: 'Give ignored paths relative to the model folder (as the signature records them), without `..`.' });
    }
    if (/[*?[]/.test(inModel)) throw new UsageError('SIGN_IGNORE_GLOB', `--ignore ${p}: OMS ignore paths are exact paths, not patterns.`, { hint: 'List each path to leave out.' });
    out.push(inModel);
  }
  return out;
}

export async function signModel(options: SignOptions): Promise<SignResult> {
  const cwd = options.cwd ?? process.cwd();
  const model = resolve(cwd, options.model);
  let info;
  try {
    info = await stat(model);
  } catch (error) {
    throw new UsageError('SIGN_MODEL_MISSING', `${options.model} does not exist.`, { hint: 'Pass a model folder or a package .tar.', cause: error });
  }
  const signer = await loadSigner(options);
  const isPackage = info.isFile() && model.endsWith('.tar');
  if (!info.isDirectory() && !isPackage) {
    throw new UsageError('SIGN_MODEL_KIND', `${options.model} is neither a folder nor a package .tar.`, {
      hint: 'Sign the folder that holds the model (a single-file model: put it in a folder), or the .tar `llama package` wrote.',
    });
  }
  const signaturePath = resolve(cwd, options.out ?? (isPackage ? model.replace(/\.tar$/, '.sig') : join(model, SIGNATURE_FILE)));

  let modelName: string;
  let resources: Resource[];
  let bytes: number;
  let ignorePaths: string[];
  if (isPackage) {
    if (options.ignorePaths?.length) {
      throw new UsageError('SIGN_IGNORE_PACKAGE', '--ignore is for model folders; a package is signed whole.', { hint: 'Leave files out when packaging instead.' });
    }
    ({ modelName, resources, bytes } = await hashPackageTar(model, options));
    ignorePaths = [];
  } else {
    ignorePaths = userIgnorePaths(options.ignorePaths ?? [], model);
    const sigInside = pathInside(signaturePath, model);
    if (sigInside !== undefined) ignorePaths.push(sigInside);
    const files = await listModelFiles(model, { ignored: [...DEFAULT_IGNORED_PATHS, ...ignorePaths], ...(options.signal ? { signal: options.signal } : {}) });
    modelName = basename(model);
    resources = await hashResources(files, { method: 'files', hashType: 'sha256' }, { ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}), label: `hashing ${modelName}` });
    bytes = files.reduce((sum, f) => sum + f.size, 0);
  }
  const created = createSignature({ modelName, resources, ignorePaths, signer });
  options.signal?.throwIfAborted();
  await writeFileAtomic(signaturePath, created.text);
  const leaf = signer.certificates?.[0];
  return {
    signaturePath,
    model,
    kind: isPackage ? 'package' : 'directory',
    modelName,
    method: leaf ? 'certificate' : 'key',
    curve: signer.curve,
    hash: signer.hash,
    ...(leaf ? { signer: leaf.subject.replace(/\n/g, ', ') } : { keyHint: publicKeyHint(signer.key) }),
    files: created.statement.predicate.resources.length,
    bytes,
    rootDigest: created.statement.subject[0].digest.sha256,
    ignorePaths: created.statement.predicate.serialization.ignore_paths ?? [],
  };
}

/**
 * Sign a staged package directory and put the signature in it as model.sig (excluded from what it signs):
 * the library side of `llama package --sign KEY`.
 */
export async function signPackageDirectory(dir: string, options: Omit<SignOptions, 'model' | 'out' | 'ignorePaths'>): Promise<SignResult> {
  return signModel({ ...options, model: dir, out: join(dir, SIGNATURE_FILE) });
}

/** sha256 of every file a package tar extracts, relative to its single top-level folder. */
async function hashPackageTar(tarPath: string, options: { signal?: AbortSignal; onProgress?: ProgressSink }): Promise<{ modelName: string; resources: Resource[]; bytes: number }> {
  const resources: Resource[] = [];
  const seen = new Set<string>();
  let root: string | undefined;
  let bytes = 0;
  // Set from the entry callback; the first problem wins.
  const found: { problem?: UsageError } = {};
  const refuse = (message: string): void => {
    found.problem ??= new UsageError('SIGN_PACKAGE_LAYOUT', `${tarPath} is not a package llama can sign: ${message}.`, {
      hint: 'Sign a `llama package` tar (one top-level folder, regular files only), or extract it and sign the folder.',
    });
  };
  const task = 'sign-hash';
  options.onProgress?.({ type: 'start', task, label: `hashing ${basename(tarPath)}`, unit: 'bytes' });
  await list({
    file: tarPath,
    strict: true,
    onReadEntry: (entry) => {
      const path = canonicalResourcePath(entry.path);
      const top = path?.split('/')[0];
      if (path === undefined || top === undefined) return refuse(`entry ${JSON.stringify(entry.path)} is not a relative path`);
      if (root === undefined) root = top;
      if (top !== root) return refuse(`it has more than one top-level folder (${root}, ${top})`);
      if (entry.type === 'Directory') return;
      if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') return refuse(`${entry.path} is a ${entry.type}, not a regular file`);
      const name = path.slice(root.length + 1);
      if (name === '') return refuse(`${entry.path} is a file at the top level`);
      if (seen.has(name)) return refuse(`${name} appears twice`);
      if (isIgnored(name, DEFAULT_IGNORED_PATHS)) return;
      seen.add(name);
      const hash = createHash('sha256');
      entry.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
        options.onProgress?.({ type: 'advance', task, done: bytes });
      });
      entry.on('end', () => resources.push({ name, algorithm: 'sha256', digest: hash.digest('hex') }));
    },
  });
  options.onProgress?.({ type: 'end', task, ok: found.problem === undefined });
  if (root === undefined) refuse('it is empty');
  if (found.problem || root === undefined) throw found.problem;
  return { modelName: root, resources, bytes };
}
