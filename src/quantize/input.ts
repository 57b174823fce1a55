/**
 * What `llama quantize INPUT` names: a Hugging Face checkpoint directory, an F32/F16/BF16 GGUF file, or a repo id
 * already pulled into the Hugging Face cache (`org/name[@revision]`), opened as a model source.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isGgufFile, openGgufSource, openHfSource, type ModelSource } from '../convert/source.ts';
import { UsageError } from '../errors.ts';
import { notRegularFileError } from '../fs/regular-file.ts';
import { cachedSnapshot } from '../hub/cache.ts';
import { parseRepoRef } from '../hub/ids.ts';

/** Where a repo id (`org/name[@revision]`) pulled into the HF cache lives: snapshots/<commit of refs/<revision>>. */
function resolveRepoId(input: string, cacheDir: string): { dir: string; name: string } | undefined {
  const ref = parseRepoRef(input);
  if (ref === undefined) return undefined;
  const snapshot = cachedSnapshot(cacheDir, ref.repo, ref.revision);
  return snapshot === undefined ? undefined : { dir: snapshot.dir, name: ref.repo.split('/')[1]! };
}

export async function openModelSource(input: string, cwd: string, cacheDir: string): Promise<ModelSource> {
  const path = resolve(cwd, input);
  let info;
  try {
    info = await stat(path);
  } catch {
    const cached = resolveRepoId(input, cacheDir);
    if (cached !== undefined) return openHfSource(cached.dir, cached.name);
    throw new UsageError('QUANTIZE_INPUT_NOT_FOUND', `${input} is neither a file, a directory nor a repo pulled into the cache`, {
      hint: 'Pass a Hugging Face checkpoint directory, an F32/F16/BF16 .gguf file, or run `llama pull <repo>` first.',
      details: { input },
    });
  }
  if (info.isDirectory()) return openHfSource(path);
  // a FIFO would block the first read forever
  if (!info.isFile()) throw notRegularFileError(input, info);
  if (await isGgufFile(path)) return openGgufSource(path);
  throw new UsageError('QUANTIZE_INPUT_KIND', `${input} is not a GGUF file or a checkpoint directory`, {
    hint: 'Pass a Hugging Face checkpoint directory or an F32/F16/BF16 .gguf file.',
    details: { input: path },
  });
}
