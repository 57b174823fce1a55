/**
 * Publishing as a library: `publish` reads the package and sends it to the target `--to` names (hf:// or oci://);
 * the pieces are exported for programs that drive one side directly.
 */
import { resolve } from 'node:path';
import type { ProgressSink } from '../progress/events.ts';
import type { RetryPolicy } from '../util/retry.ts';
import { publishToHub, type HubPublishResult } from './hub.ts';
import { pushToRegistry, type OciFormat, type OciPushResult } from './oci-push.ts';
import { readPublishSource } from './source.ts';
import { parsePublishTarget } from './target.ts';

export interface PublishOptions {
  /** The package .tar or directory (or any model folder). */
  source: string;
  /** hf://ORG/NAME[@BRANCH] or oci://REGISTRY/REPO:TAG. */
  to: string;
  dryRun?: boolean;
  // hf
  private?: boolean;
  createPr?: boolean;
  tag?: string;
  endpoint?: string;
  token?: string;
  filesPerCommit?: number;
  maxFileBytes?: number;
  commitTimeoutMs?: number;
  // oci
  ociFormat?: OciFormat;
  plainHttp?: boolean;
  username?: string;
  password?: string;
  /** Repositories on the same registry to mount blobs from instead of uploading them. */
  mountFrom?: string[];
  chunkBytes?: number;
  retry?: RetryPolicy;
  cwd?: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

export type PublishResult = { kind: 'hf'; hub: HubPublishResult } | { kind: 'oci'; oci: OciPushResult };

export async function publish(options: PublishOptions): Promise<PublishResult> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const target = parsePublishTarget(options.to);
  const source = await readPublishSource(options.source, cwd);
  const common = {
    ...(options.dryRun !== undefined ? { dryRun: options.dryRun } : {}),
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    env,
  };
  if (target.kind === 'hf') {
    const hub = await publishToHub({
      source,
      target,
      ...common,
      ...(options.private !== undefined ? { private: options.private } : {}),
      ...(options.createPr !== undefined ? { createPr: options.createPr } : {}),
      ...(options.tag !== undefined ? { tag: options.tag } : {}),
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.filesPerCommit !== undefined ? { filesPerCommit: options.filesPerCommit } : {}),
      ...(options.maxFileBytes !== undefined ? { maxFileBytes: options.maxFileBytes } : {}),
      ...(options.commitTimeoutMs !== undefined ? { commitTimeoutMs: options.commitTimeoutMs } : {}),
    });
    return { kind: 'hf', hub };
  }
  const oci = await pushToRegistry({
    source,
    target,
    ...common,
    format: options.ociFormat ?? 'modelpack',
    ...(options.plainHttp !== undefined ? { plainHttp: options.plainHttp } : {}),
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.mountFrom !== undefined ? { mountFrom: options.mountFrom } : {}),
    ...(options.chunkBytes !== undefined ? { chunkBytes: options.chunkBytes } : {}),
  });
  return { kind: 'oci', oci };
}

export { publishToHub, checkHubLimits, HUB_MAX_FILE_BYTES, DEFAULT_FILES_PER_COMMIT, type HubPublishOptions, type HubPublishResult } from './hub.ts';
export { pushToRegistry, type OciPushOptions, type OciPushResult, type OciFormat } from './oci-push.ts';
export { pullFromRegistry, type OciPullOptions, type OciPullResult } from './oci-pull.ts';
export { buildArtifact, type BuiltArtifact } from './oci-artifact.ts';
export { readPublishSource, type PublishSource, type SourceFile } from './source.ts';
export { parsePublishTarget, parseOciReference, parseHubTarget, type PublishTarget, type OciTarget, type HubTarget } from './target.ts';
