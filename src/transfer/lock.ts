/**
 * A lock between processes: an exclusively created file holding the owner's pid. Two `llama pull` runs on the same
 * cache take one lock per blob, so one downloads while the other waits and then finds the blob in place. A lock whose
 * owner is gone (kill -9) is taken over. (Same place as huggingface_hub's locks: `<cache>/.locks/<repo folder>/`.)
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sleep } from '../util/retry.ts';

/**
 * Locks this process holds, by their nonce. A pid alone cannot tell "held by me" from "left by an earlier process that
 * had my pid" (containers often give a re-run the same small pid), so each lock file carries a random nonce too.
 */
const heldNonces = new Set<string>();

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockOptions {
  signal?: AbortSignal;
  /** Called once if the lock is held by another live process and we wait. */
  onWait?: (ownerPid: number) => void;
  pollMs?: number;
}

/** Take the lock at `path`, waiting while another live process holds it. Returns the release function. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const nonce = randomBytes(8).toString('hex');
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${process.pid} ${nonce}\n`);
      } finally {
        await handle.close();
      }
      heldNonces.add(nonce);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        heldNonces.delete(nonce);
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const [pidText, ownerNonce] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
    const owner = Number(pidText);
    if (ownerNonce !== undefined && heldNonces.has(ownerNonce)) {
      // held by another task of this process (two paths with one content): wait for it
    } else if (owner === process.pid || !alive(owner)) {
      // The owner died (or it is a dead earlier process that had our pid). Remove the lock only if it still holds
      // what we read, to narrow the window in which two processes both take over. An empty file may be a lock being
      // written right now, so it gets one more poll first (below).
      if (owner > 0) {
        const now = (await readFile(path, 'utf8').catch(() => '')).trim();
        if (now === `${pidText ?? ''}${ownerNonce === undefined ? '' : ` ${ownerNonce}`}`) await rm(path, { force: true });
        continue;
      }
    } else if (!told) {
      told = true;
      options.onWait?.(owner);
    }
    await sleep(options.pollMs ?? 200, options.signal);
    if (!(owner > 0)) {
      const again = Number((await readFile(path, 'utf8').catch(() => '')).trim().split(' ')[0]);
      if (!(again > 0)) await rm(path, { force: true });
    }
  }
}
