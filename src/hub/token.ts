/**
 * Everything the tool knows about Hugging Face tokens, in one place: where the hf tools keep them (huggingface_hub
 * `constants.py`: HF_TOKEN, HF_TOKEN_PATH, $HF_HOME/token, $HF_HOME/stored_tokens; ../shared/research/hub-protocol.md
 * §3), which one a command uses and where it came from, and what a token looks like in text.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { registerSecret } from '../redact.ts';

type Env = Record<string, string | undefined>;

/**
 * A user access token as the hub issues them: `hf_` then 30+ letters and digits
 * (https://huggingface.co/docs/hub/security-tokens). Used to find tokens in files; redaction (`redact.ts`) masks
 * shorter `hf_…` words too, since hiding a word too many in a log costs nothing.
 */
export const TOKEN_SHAPE = /\bhf_[A-Za-z0-9]{30,}\b/;

/** $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface. */
export function hfHome(env: Env = process.env): string {
  return env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
}

/** Where a token is read from, for messages (never the value). */
export type TokenSource = '--token' | 'HF_TOKEN' | 'HF_TOKEN_PATH' | '$HF_HOME/token' | '~/.cache/huggingface/token';

export interface ResolvedToken {
  token: string;
  source: TokenSource;
  /** The file it was read from, for the file sources. */
  file?: string;
}

/** The token files in the order the hf tools read them. */
function tokenFiles(env: Env): { source: TokenSource; file: string }[] {
  const files: { source: TokenSource; file: string }[] = [];
  if (env.HF_TOKEN_PATH) files.push({ source: 'HF_TOKEN_PATH', file: env.HF_TOKEN_PATH });
  files.push({ source: '$HF_HOME/token', file: join(hfHome(env), 'token') });
  files.push({ source: '~/.cache/huggingface/token', file: join(homedir(), '.cache', 'huggingface', 'token') });
  return files;
}

function readTrimmed(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The token a command uses: `--token`, else HF_TOKEN, else the token file `hf auth login` writes. Registered with
 * the redactor, so it can never be printed. Any string is accepted: a mirror's token need not start with `hf_`.
 */
export function resolveTokenWithSource(flag: string | undefined, env: Env = process.env): ResolvedToken | undefined {
  let found: ResolvedToken | undefined;
  if (flag?.trim()) found = { token: flag.trim(), source: '--token' };
  else if (env.HF_TOKEN?.trim()) found = { token: env.HF_TOKEN.trim(), source: 'HF_TOKEN' };
  else {
    for (const { source, file } of tokenFiles(env)) {
      const token = readTrimmed(file);
      if (token) {
        found = { token, source, file };
        break;
      }
    }
  }
  registerSecret(found?.token);
  return found;
}

export async function resolveToken(flag: string | undefined, env: Env = process.env): Promise<string | undefined> {
  return resolveTokenWithSource(flag, env)?.token;
}

/** "--token", "HF_TOKEN", "the token file /path (HF_TOKEN_PATH)": where a token came from, for an error message. */
export function describeTokenSource(resolved: Pick<ResolvedToken, 'source' | 'file'>): string {
  if (resolved.source === '--token' || resolved.source === 'HF_TOKEN') return resolved.source;
  return `the token file ${resolved.file ?? resolved.source} (${resolved.source})`;
}

/** Every file that holds a token: the token files and `stored_tokens` (`hf auth login` keeps every token there). */
export function tokenFilePaths(env: Env = process.env): string[] {
  const paths = new Set(tokenFiles(env).map(({ file }) => resolve(file)));
  paths.add(resolve(hfHome(env), 'stored_tokens'));
  paths.add(resolve(homedir(), '.huggingface', 'token'));
  return [...paths];
}

/**
 * Every token value this environment knows: the flag, the token variables, the token files, and each entry of
 * `stored_tokens` (an INI file, `hf_token = …` under each token's name). A package must contain none of them,
 * whatever their format.
 */
export function knownTokens(flag: string | undefined, env: Env = process.env): string[] {
  const values = new Set<string>();
  const add = (value: string | undefined): void => {
    const v = value?.trim();
    if (v && v.length >= 8) values.add(v);
  };
  add(flag);
  add(env.HF_TOKEN);
  add(env.HUGGING_FACE_HUB_TOKEN);
  add(env.HUGGINGFACE_TOKEN);
  for (const file of tokenFilePaths(env)) {
    const text = readTrimmed(file);
    if (text === undefined) continue;
    if (file.endsWith('stored_tokens')) {
      for (const m of text.matchAll(/^\s*hf_token\s*=\s*(\S+)\s*$/gm)) add(m[1]);
    } else add(text);
  }
  for (const v of values) registerSecret(v);
  return [...values];
}
