/**
 * Hub access for the license commands (and `llama package`): the ModelCardSource built from the hub flags, on
 * HubClient (auth only for the hub's own origin, retries, typed errors), or none when offline.
 */
import { HubClient } from '../hub/client.ts';
import { offlineFromEnv, resolveCacheDir, resolveEndpoint } from '../hub/config.ts';
import { resolveToken } from '../hub/token.ts';
import { hubCardSource, type ModelCardSource } from './lineage.ts';
import type { ProgressSink } from '../progress/events.ts';
import { registerSecret } from '../redact.ts';

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

export async function hubAccess(flags: HubFlagValues, onProgress: ProgressSink, env: NodeJS.ProcessEnv = process.env): Promise<HubAccess> {
  const offline = flags.offline || offlineFromEnv(env);
  const cacheDir = resolveCacheDir(flags['cache-dir'], env);
  if (offline) return { offline, cacheDir };
  const endpoint = resolveEndpoint(flags.endpoint, env);
  const token = await resolveToken(flags.token, env);
  registerSecret(token);
  const client = new HubClient({ endpoint, token, onProgress });
  return { offline, cacheDir, hub: hubCardSource({ hubUrl: endpoint, fetchForRepo: (repo) => client.fetchFor({ repo }) }) };
}

/** The hub flag values out of a command's parsed flags (typed loosely by LlamaCommand.parseInput). */
export function hubFlagValues(flags: Record<string, unknown>): HubFlagValues {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { offline: flags.offline === true, endpoint: str(flags.endpoint), token: str(flags.token), 'cache-dir': str(flags['cache-dir']) };
}
