/**
 * The few GGUF facts an OCI config carries: architecture, parameter count, context length and (Docker's format)
 * every key. Read with the project's GGUF reader (src/formats/gguf.ts), which takes a file path: a GGUF inside a
 * package tar is given to it as a sparse copy (its first bytes, where the header is, then a hole up to its size), so
 * nothing near the size of the weights is written.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGguf } from '../formats/gguf.ts';
import type { SourceFile } from './source.ts';

export interface GgufSummary {
  architecture: string | undefined;
  parameterCount: number | undefined;
  kvs: Map<string, unknown>;
}

/** Header bytes copied for a GGUF inside a tar (KVs and tensor infos; a vocabulary of 256k tokens is a few MB). */
const HEADER_BYTES = 64 << 20;

export async function ggufSummary(file: SourceFile): Promise<GgufSummary | undefined> {
  let dir: string | undefined;
  let path = file.diskPath;
  try {
    if (file.offset !== 0) {
      dir = await mkdtemp(join(tmpdir(), 'llama-gguf-'));
      path = join(dir, 'header.gguf');
      const source = await open(file.diskPath, 'r');
      const target = await open(path, 'w');
      try {
        const length = Math.min(file.size, HEADER_BYTES);
        const buffer = Buffer.alloc(length);
        await source.read(buffer, 0, length, file.offset);
        await target.write(buffer, 0, length, 0);
        await target.truncate(file.size);
      } finally {
        await source.close();
        await target.close();
      }
    }
    const gguf = await readGguf(path);
    const kvs = new Map<string, unknown>(gguf.kvs.map((k) => [k.key, k.value.value] as const));
    const architecture = kvs.get('general.architecture');
    let parameterCount = 0;
    for (const t of gguf.tensors) parameterCount += t.ne.reduce((a, b) => a * b, 1);
    return { architecture: typeof architecture === 'string' ? architecture : undefined, parameterCount: parameterCount || undefined, kvs };
  } catch {
    // Not a GGUF the reader takes (or a header past 64 MiB): the config goes without these facts.
    return undefined;
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
