import type { FileHandle } from 'node:fs/promises';

/**
 * Write all of `data` at `position`: `FileHandle.write` may write less than asked (a signal, a full pipe, some
 * network file systems), so loop until done; a write that makes no progress is an I/O error, not a spin.
 */
export async function writeAll(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let offset = 0; offset < data.byteLength; ) {
    const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset, position + offset);
    if (bytesWritten === 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    offset += bytesWritten;
  }
}
