/**
 * Where to talk to and as whom: token, endpoint, cache directory and offline mode, resolved from flags first, then
 * the environment variables and files that the Hugging Face tools use, so `llama pull` shares them with `hf` and
 * transformers (names from huggingface_hub's constants.py, ../shared/research/hub-protocol.md §3).
 */
import { join } from 'node:path';
import { hfHome } from './token.ts';
import { UsageError } from '../errors.ts';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

type Env = Record<string, string | undefined>;

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
