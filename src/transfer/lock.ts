/**
 * A lock between processes: an exclusively created file holding the owner's pid. Two `llama pull` runs on the same
 * cache take one lock per blob, so one downloads while the other waits and then finds the blob in place. A lock whose
 * owner is gone (kill -9) is taken over. (Same place as huggingface_hub's locks: `<cache>/.locks/<repo folder>/`.)
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sleep } from './retry.ts';

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
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (owner === process.pid) {
      // held by this process for the same blob (two paths with one content): wait for the other task
    } else if (!alive(owner)) {
      // The owner died; an empty file may be a lock being written right now, so give it one more poll first.
      if (owner > 0) {
        await rm(path, { force: true });
        continue;
      }
    } else if (!told) {
      told = true;
      options.onWait?.(owner);
    }
    await sleep(options.pollMs ?? 200, options.signal);
    if (owner === 0) {
      const again = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (again === 0) await rm(path, { force: true });
    }
  }
}
