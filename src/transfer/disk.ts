/** Free space where files will land, to fail before a download that cannot fit (exit 7 with the numbers). */
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvironmentError } from '../errors.ts';
import { formatBytes } from '../util/bytes.ts';

/** Bytes available to this user on the file system holding `path` (or its nearest existing parent). */
export async function freeBytes(path: string): Promise<number> {
  let dir = path;
  for (;;) {
    try {
      const s = await statfs(dir);
      return Number(s.bavail) * Number(s.bsize);
    } catch (error) {
      const parent = dirname(dir);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) throw error;
      dir = parent;
    }
  }
}


/** Throw EnvironmentError DISK_SPACE when `needed` bytes do not fit in `available`. */
export function checkSpace(where: string, needed: number, available: number): void {
  if (needed <= available) return;
  throw new EnvironmentError(
    'DISK_SPACE',
    `Not enough free space in ${where}: the download needs ${formatBytes(needed)} (${needed} bytes) more, only ${formatBytes(available)} (${available} bytes) are free.`,
    {
      hint: 'Free some space or choose another --cache-dir / --local-dir, then run the command again.',
      details: { neededBytes: needed, availableBytes: available },
    },
  );
}
