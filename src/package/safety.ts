/**
 * What may go into a package. Three rules:
 * - nothing escapes the package root: a destination path is relative, normalised, without `..`, and a symlink
 *   inside an input directory must resolve inside that directory;
 * - files that look like secrets (token files, `.env`, private keys, credential stores) are refused inside input
 *   directories; naming such a file itself as an INPUT is the explicit opt-in;
 * - the Hugging Face token never reaches the package: the token file (or a hard link to it) is refused even when
 *   named (./stage.ts), and every byte of every file is searched for a token as it is copied (./token-scan.ts).
 */
import { UsageError } from '../errors.ts';

/** Basenames (lower-cased) of files that hold credentials. */
const SECRET_NAMES = new Set([
  '.env',
  'token',
  'stored_tokens',
  'hf_token',
  '.hf_token',
  '.huggingface_token',
  '.netrc',
  '_netrc',
  '.npmrc',
  '.pypirc',
  '.git-credentials',
  'credentials',
  'credentials.json',
  '.htpasswd',
  'id_rsa',
  'id_dsa',
  'id_ecdsa',
  'id_ed25519',
  'id_ecdsa_sk',
  'id_ed25519_sk',
]);

/** Extensions (lower-cased, with the dot) of key and certificate-store files. */
const SECRET_EXTENSIONS = ['.pem', '.key', '.p12', '.pfx', '.jks', '.keystore', '.token', '.secret', '.secrets', '.kdbx', '.ppk'];

/** Directories whose whole content is credentials. */
const SECRET_DIRECTORIES = new Set(['.ssh', '.aws', '.gnupg', '.docker', '.kube', '.azure']);

/** Tool metadata that is never part of a model: skipped (with a note), not refused. */
export const SKIPPED_DIRECTORIES = new Set(['.git', '.hg', '.svn']);

/** Why a basename looks like a secret, or undefined. */
export function secretReason(name: string, isDirectory = false): string | undefined {
  const lower = name.toLowerCase();
  if (isDirectory) return SECRET_DIRECTORIES.has(lower) ? `${name}/ is a credentials directory` : undefined;
  if (SECRET_NAMES.has(lower)) return `${name} is a credentials or token file name`;
  if (lower.startsWith('.env.')) return `${name} is an environment file`;
  if (/^secrets?\.(json|ya?ml|toml|txt|env|ini)$/.test(lower)) return `${name} is a secrets file`;
  const ext = SECRET_EXTENSIONS.find((e) => lower.endsWith(e));
  if (ext) return `${name} has the extension ${ext} of key or credential files`;
  return undefined;
}

/**
 * Validate and normalise a destination path inside the package: posix separators, relative, no `.`/`..`
 * segments, no empty segments, no control characters. Returns the normalised form.
 */
export function checkPackagePath(path: string, what = 'destination path'): string {
  const refuse = (why: string): never => {
    throw new UsageError('PACKAGE_PATH_ESCAPES', `The ${what} "${path}" ${why}.`, {
      hint: 'Give a relative path inside the package, such as weights/model.gguf, without "..", a leading "/" or a drive letter.',
      details: { path },
    });
  };
  if (path.length === 0) refuse('is empty');
  if ([...path].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) refuse('contains control characters');
  if (path.includes('\\')) refuse('contains a backslash (use "/" between directories)');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) refuse('is absolute');
  const segments = path.replace(/\/+$/, '').split('/');
  if (segments.some((s) => s === '..')) refuse('leaves the package root with ".."');
  if (segments.some((s) => s === '')) refuse('has an empty segment');
  const normal = segments.filter((s) => s !== '.');
  if (normal.length === 0) refuse('names the package root itself');
  return normal.join('/');
}
