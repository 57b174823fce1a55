/**
 * Where to talk to and as whom: token, endpoint, cache directory and offline mode, resolved from flags first, then
 * the environment variables and files that the Hugging Face tools use, so `llama pull` shares them with `hf` and
 * transformers (names from huggingface_hub's constants.py, ../shared/research/hub-protocol.md §3).
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { registerSecret } from '../redact.ts';
import { UsageError } from '../errors.ts';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

type Env = Record<string, string | undefined>;

function hfHome(env: Env): string {
  return env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
}

/**
 * The token from `--token`, else HF_TOKEN, else the token file `hf auth login` writes (HF_TOKEN_PATH, HF_HOME/token,
 * ~/.cache/huggingface/token). Registered with the redactor so it can never be printed.
 */
export async function resolveToken(flag: string | undefined, env: Env = process.env): Promise<string | undefined> {
  let token = flag?.trim() || env.HF_TOKEN?.trim() || undefined;
  if (!token) {
    const candidates = [env.HF_TOKEN_PATH, join(hfHome(env), 'token'), join(homedir(), '.cache', 'huggingface', 'token')];
    for (const file of candidates) {
      if (!file) continue;
      try {
        token = (await readFile(file, 'utf8')).trim() || undefined;
      } catch {
        continue;
      }
      if (token) break;
    }
  }
  registerSecret(token);
  return token;
}

/** `--endpoint`, else HF_ENDPOINT, else https://huggingface.co; no trailing slash. */
export function resolveEndpoint(flag: string | undefined, env: Env = process.env): string {
  const raw = flag || env.HF_ENDPOINT || DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError('ENDPOINT_INVALID', `The hub endpoint "${raw}" is not a URL.`, {
      hint: 'Pass --endpoint https://host[:port] (or set HF_ENDPOINT), or leave it unset for https://huggingface.co.',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError('ENDPOINT_INVALID', `The hub endpoint "${raw}" must be http or https.`, {
      hint: 'Pass --endpoint https://host[:port] (or set HF_ENDPOINT).',
    });
  }
  return raw.replace(/\/+$/, '');
}

/** `--cache-dir`, else HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub. */
export function resolveCacheDir(flag: string | undefined, env: Env = process.env): string {
  return flag || env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || join(hfHome(env), 'hub');
}

/** HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) set to 1/true/yes/on. */
export function offlineFromEnv(env: Env = process.env): boolean {
  return [env.HF_HUB_OFFLINE, env.TRANSFORMERS_OFFLINE].some((v) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim()));
}

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

/** A model repo id, `org/name` (or a canonical `name`). */
export function checkRepoId(repo: string): string {
  if (!REPO_ID.test(repo) || repo.includes('..') || repo.includes('--')) {
    throw new UsageError('REPO_INVALID', `"${repo}" is not a model repo id.`, {
      hint: 'Name the repo as org/name, for example meta-llama/Llama-3.2-1B.',
    });
  }
  return repo;
}
