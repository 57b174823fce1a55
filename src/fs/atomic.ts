/**
 * Atomic outputs: every file is written under a temporary name beside its target (same directory, so the rename
 * stays on one file system) and renamed into place only when complete. An interrupted run leaves the old file or
 * the new one, never half of one; the temporary name is removed on failure.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export function temporaryPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Write `data` to `target` atomically (fsync before rename, so a crash cannot expose an empty file). */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await withAtomicPath(target, async (tmp) => {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/**
 * Run `produce(tmp)`, which must create the file at `tmp`; on success rename it to `target`, on failure delete it.
 * Returns what `produce` returned.
 */
export async function withAtomicPath<T>(target: string, produce: (tmp: string) => Promise<T>): Promise<T> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = temporaryPathFor(target);
  try {
    const result = await produce(tmp);
    await rename(tmp, target);
    return result;
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
