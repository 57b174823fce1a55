/**
 * Inputs that must be regular files. A FIFO given as config.json, a shard or a tokenizer file would block the read
 * forever (opening a FIFO for reading waits for a writer), a device such as /dev/zero would never end: they are
 * refused at once. The check is made on the opened descriptor, and the open does not wait on a FIFO (O_NONBLOCK).
 */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { UsageError } from '../errors.ts';

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** The error for an input path that exists but is not a regular file (exit 2). */
export function notRegularFileError(path: string, stats: Stats): UsageError {
  const kind = kindOf(stats);
  return new UsageError('INPUT_NOT_REGULAR_FILE', `${path} is ${kind}, not a regular file`, {
    hint: 'Inputs are read as files: point at a regular file (a symbolic link to one is fine), not a pipe or a device.',
    details: { file: path, kind },
  });
}

/** `path` opened for reading, if it is a regular file; else INPUT_NOT_REGULAR_FILE (and ENOENT etc. as they are). */
export async function openRegularFile(path: string): Promise<FileHandle> {
  const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notRegularFileError(path, stats);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The whole content of a regular file (see openRegularFile). */
export async function readRegularFile(path: string): Promise<Buffer> {
  const handle = await openRegularFile(path);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** readRegularFile for an optional input: undefined when nothing is at `path`; a FIFO or device is still refused. */
export async function readOptionalRegularFile(path: string): Promise<Buffer | undefined> {
  try {
    return await readRegularFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
