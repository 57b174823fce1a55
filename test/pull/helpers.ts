/** Shared set-up for the pull tests: a local hub, temp folders, deterministic content, fast retries. */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgressEvent } from '../../src/progress/events.ts';
import type { RetryPolicy } from '../../src/util/retry.ts';

/** Retries that keep tests quick while still exercising the backoff path. Retry-After is still honoured. */
export const FAST_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 5, maxDelayMs: 40, maxRetryAfterMs: 3000 };

/** Tokens the fake hub knows (they must start with hf_). */
export const TOKENS = {
  alice: 'hf_aliceGranted000000000001',
  bob: 'hf_bobNoAccess0000000000002',
  carol: 'hf_carolPending00000000003',
  dave: 'hf_daveFineGrained000000004',
  owner: 'hf_ownerOfTheRepo000000005',
  eve: 'hf_eveWasRejected000000006',
} as const;

/** Bytes that differ at every offset (a flipped byte or a shifted range would change the hash). */
export function pattern(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function tempDir(t: { after(fn: () => Promise<void>): void }, prefix = 'llama-pull-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function collect(): { events: ProgressEvent[]; sink: (e: ProgressEvent) => void; messages(): string[] } {
  const events: ProgressEvent[] = [];
  return {
    events,
    sink: (e) => events.push(e),
    messages: () => events.flatMap((e) => (e.type === 'message' ? [e.text] : [])),
  };
}
