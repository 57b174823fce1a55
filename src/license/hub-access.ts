/**
 * Hub access for the license commands (and `llama package`): the ModelCardSource built from the hub flags, on
 * HubClient (auth only for the hub's own origin, retries, typed errors), or none when offline.
 */
import { connectHub } from '../hub/client.ts';
import { offlineFromEnv, resolveCacheDir } from '../hub/config.ts';
import { hubCardSource } from './hub-cards.ts';
import type { ModelCardSource } from './lineage.ts';
import type { ProgressSink } from '../progress/events.ts';

export interface HubAccess {
  offline: boolean;
  hub?: ModelCardSource;
  cacheDir: string;
}

export interface HubFlagValues {
  offline: boolean;
  endpoint?: string | undefined;
  token?: string | undefined;
  'cache-dir'?: string | undefined;
}

export async function hubAccess(
  flags: HubFlagValues,
  onProgress: ProgressSink,
  options: { env?: Record<string, string | undefined>; signal?: AbortSignal } = {},
): Promise<HubAccess> {
  const env = options.env ?? process.env;
  const offline = flags.offline || offlineFromEnv(env);
  const cacheDir = resolveCacheDir(flags['cache-dir'], env);
  if (offline) return { offline, cacheDir };
  const client = connectHub({
    endpoint: flags.endpoint,
    token: flags.token,
    env,
    onProgress,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  return { offline, cacheDir, hub: hubCardSource(client) };
}

/** The hub flag values out of a command's parsed flags (typed loosely by LlamaCommand.parseInput). */
export function hubFlagValues(flags: Record<string, unknown>): HubFlagValues {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { offline: flags.offline === true, endpoint: str(flags.endpoint), token: str(flags.token), 'cache-dir': str(flags['cache-dir']) };
}
