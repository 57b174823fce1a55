/**
 * Fixtures for the signing tests: the reference signatures and OMS vectors in the team's shared/ folder (beside the
 * checkout; see shared/reference/model-signing/PROVENANCE.md), fresh EC keys per curve, a small model folder, a
 * copy-and-tamper helper, and the reference `model_signing` 1.1.1 (installed offline by the shared install.sh).
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile, chmod, readdir, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED = fileURLToPath(new URL('../../../shared/reference/model-signing', import.meta.url));
export const HAVE_SHARED = existsSync(join(SHARED, 'PROVENANCE.md'));
export const NO_SHARED = !HAVE_SHARED && 'shared/reference/model-signing is not beside the checkout';
export const MT = join(SHARED, 'model-transparency');
export const KEYS = join(MT, 'keys', 'certificate');
export const OMS = join(SHARED, 'oms-spec');

/** The six reference signatures and how upstream verifies each (PROVENANCE.md table). */
export interface ReferenceVector {
  name: string;
  /** The model path, relative to model-transparency/. */
  model: string;
  method: 'key' | 'certificate';
  ignore: string[];
}

export const REFERENCE_VECTORS: ReferenceVector[] = [
  { name: 'v1.0.0-elliptic-key', model: 'v1.0.0-elliptic-key/signme-1', method: 'key', ignore: [] },
  { name: 'v1.0.1-elliptic-key', model: 'v1.0.1-elliptic-key', method: 'key', ignore: ['ignore-me'] },
  { name: 'v1.1.0-elliptic-key', model: 'v1.1.0-elliptic-key', method: 'key', ignore: ['ignore-me'] },
  { name: 'v1.0.0-certificate', model: 'v1.0.0-certificate', method: 'certificate', ignore: [] },
  { name: 'v1.0.1-certificate', model: 'v1.0.1-certificate', method: 'certificate', ignore: ['ignore-me'] },
  { name: 'v1.1.0-certificate', model: 'v1.1.0-certificate', method: 'certificate', ignore: ['ignore-me'] },
];

export const CURVES = [
  { curve: 'P-256', nodeName: 'prime256v1', hash: 'sha256' },
  { curve: 'P-384', nodeName: 'secp384r1', hash: 'sha384' },
  { curve: 'P-521', nodeName: 'secp521r1', hash: 'sha512' },
] as const;

export async function tempDir(prefix = 'llama-sign-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A fresh EC key pair as PEM files: `key.pem` (PKCS#8) and `key.pub.pem` (SPKI). */
export async function makeKeyPair(dir: string, namedCurve: string, name = 'key'): Promise<{ privatePath: string; publicPath: string; privatePem: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const privatePath = join(dir, `${name}.pem`);
  const publicPath = join(dir, `${name}.pub.pem`);
  await writeFile(privatePath, privatePem, { mode: 0o600 });
  await writeFile(publicPath, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privatePath, publicPath, privatePem };
}

/** A small model folder with a nested file, a .git folder and a .gitattributes (ignored by default). */
export async function makeModel(dir: string): Promise<string> {
  await mkdir(join(dir, 'weights'), { recursive: true });
  await mkdir(join(dir, '.git'), { recursive: true });
  await writeFile(join(dir, 'config.json'), '{"architectures":["LlamaForCausalLM"]}\n');
  await writeFile(join(dir, 'weights', 'model-00001-of-00002.safetensors'), Buffer.alloc(70_000, 7));
  await writeFile(join(dir, 'weights', 'model-00002-of-00002.safetensors'), Buffer.alloc(1234, 9));
  await writeFile(join(dir, 'README.md'), '# tiny\n');
  await writeFile(join(dir, 'empty.txt'), '');
  await writeFile(join(dir, '.gitattributes'), '*.safetensors filter=lfs\n');
  await writeFile(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  return dir;
}

/** A writable copy of a folder (the shared reference files are read-only). */
export async function writableCopy(source: string, target: string): Promise<string> {
  await cp(source, target, { recursive: true });
  const fix = async (dir: string): Promise<void> => {
    await chmod(dir, 0o755);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await fix(path);
      else await chmod(path, 0o644);
    }
  };
  if ((await stat(target)).isDirectory()) await fix(target);
  else await chmod(target, 0o644);
  return target;
}

/** Flip the bits of one byte of a file, in place. */
export async function flipByte(path: string, offset = 0): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = bytes[offset]! ^ 0x01;
  await writeFile(path, bytes);
}

/** A bundle with one byte of its DSSE payload (the signed statement) changed, re-encoded as base64. */
export function tamperStatement(bundleText: string): string {
  const bundle = JSON.parse(bundleText) as { dsseEnvelope: { payload: string } };
  const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
  // A hex digit of the first resource digest: still valid JSON and a valid-looking manifest.
  const at = payload.indexOf('"digest": "') >= 0 ? payload.indexOf('"digest": "') + 11 : Math.floor(payload.length / 2);
  payload[at] = payload[at] === 0x30 ? 0x31 : 0x30;
  bundle.dsseEnvelope.payload = payload.toString('base64');
  return JSON.stringify(bundle);
}

/** A bundle with one byte of its signature changed (decoded, changed, re-encoded, so base64 stays valid). */
export function tamperSignature(bundleText: string): string {
  const bundle = JSON.parse(bundleText) as { dsseEnvelope: { signatures: Array<{ sig: string }> } };
  const sig = Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, 'base64');
  // A byte inside r or s, past the DER headers.
  sig[sig.length - 5] = sig[sig.length - 5]! ^ 0x01;
  bundle.dsseEnvelope.signatures[0]!.sig = sig.toString('base64');
  return JSON.stringify(bundle);
}

/** Where the reference model_signing lives: LLAMA_MODEL_SIGNING_VENV, else the CI cache folder. */
export const REFERENCE_VENV = process.env.LLAMA_MODEL_SIGNING_VENV ?? join(homedir(), '.cache', 'llama-dist-ci', 'model-signing');

let referenceState: { python?: string; reason?: string } | undefined;

/**
 * The reference implementation's python, installing it with the shared install.sh when it is not there yet
 * (offline, idempotent, ~30 s). `reason` says why it is unavailable.
 */
export function referenceImplementation(): { python?: string; reason?: string } {
  if (referenceState) return referenceState;
  const python = join(REFERENCE_VENV, 'bin', 'python');
  if (!existsSync(join(REFERENCE_VENV, '.ok'))) {
    const install = join(SHARED, 'implementation', 'install.sh');
    if (!existsSync(install)) return (referenceState = { reason: `the reference model_signing is not installed at ${REFERENCE_VENV} and ${install} is missing` });
    const run = spawnSync('bash', [install, REFERENCE_VENV], { encoding: 'utf8', timeout: 300_000 });
    if (run.status !== 0) return (referenceState = { reason: `install.sh could not install the reference model_signing: ${(run.stdout + run.stderr).trim().split('\n').slice(-2).join(' ')}` });
  }
  return (referenceState = { python });
}

/** Run `python -m model_signing ARGS`. */
export function modelSigning(python: string, args: string[], cwd?: string): { status: number | null; output: string } {
  const run = spawnSync(python, ['-m', 'model_signing', ...args], { encoding: 'utf8', timeout: 120_000, ...(cwd ? { cwd } : {}) });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
