/**
 * Break a generated checkpoint in one precise way, for the corrupt-input tests of the commands that read
 * checkpoints (quantize, verify, package). Each kind changes one thing and says what, so a test that sees the
 * command accept the result knows exactly which check is missing.
 */
import { Buffer } from 'node:buffer';
import { open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { UsageError } from '../../../src/errors.ts';
import type { CheckpointDescription, GeneratedTensor } from './generate.ts';

export const CHECKPOINT_CORRUPTIONS = [
  /** The last weight file loses its final 64 bytes. */
  'truncated-shard',
  /** One byte inside a tensor's data flips (file still parses; only hashes notice). */
  'flipped-byte',
  /** The first weight of a layer becomes NaN (file still parses; value checks notice). */
  'nan-weight',
  /** The first weight of a layer becomes +Inf. */
  'inf-weight',
  /** A tensor's dtype in a header becomes an unknown name of the same length (offsets unchanged). */
  'unknown-dtype',
  /** config.json's vocab_size no longer matches the embedding rows. */
  'config-vocab-mismatch',
  /** config.json's hidden_size no longer matches the tensors. */
  'config-hidden-mismatch',
  /** config.json is gone. */
  'missing-config',
  /** Sharded only: a shard named in the index is gone. */
  'missing-shard',
  /** Sharded only: the index forgets one tensor. */
  'index-missing-tensor',
  /** Sharded only: the index names a tensor no shard holds. */
  'index-extra-tensor',
  /** Sharded only: the index maps a tensor to a shard that does not hold it. */
  'index-wrong-shard',
] as const;
export type CheckpointCorruption = (typeof CHECKPOINT_CORRUPTIONS)[number];

export interface CorruptionResult {
  kind: CheckpointCorruption;
  /** Relative path of the file changed or removed. */
  file: string;
  /** The tensor concerned, where there is one. */
  tensor?: string;
  description: string;
}

const SHARDED_ONLY: ReadonlySet<CheckpointCorruption> = new Set(['missing-shard', 'index-missing-tensor', 'index-extra-tensor', 'index-wrong-shard']);

/** Bit patterns of NaN / +Inf in each weight dtype (little-endian bytes). */
const SPECIAL_BYTES: Record<'nan' | 'inf', Record<string, number[]>> = {
  nan: { F32: [0x00, 0x00, 0xc0, 0x7f], F16: [0x00, 0x7e], BF16: [0xc0, 0x7f] },
  inf: { F32: [0x00, 0x00, 0x80, 0x7f], F16: [0x00, 0x7c], BF16: [0x80, 0x7f] },
};

function layerTensor(d: CheckpointDescription): GeneratedTensor {
  const t = d.tensors.find((x) => x.name.endsWith('.self_attn.q_proj.weight')) ?? d.tensors[0];
  if (t === undefined) throw new UsageError('CHECKPOINT_NOTHING_TO_CORRUPT', 'the checkpoint has no tensors', { hint: 'Generate one with at least one layer.' });
  return t;
}

async function patchBytes(path: string, position: number, bytes: number[]): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.write(Buffer.from(bytes), 0, bytes.length, position);
  } finally {
    await handle.close();
  }
}

async function editJson(path: string, edit: (value: Record<string, unknown>) => void): Promise<void> {
  const value = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(value);
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Apply one corruption to the checkpoint `d` describes (in place). */
export async function corruptCheckpoint(d: CheckpointDescription, kind: CheckpointCorruption): Promise<CorruptionResult> {
  const sharded = d.weightFiles.length > 1;
  if (SHARDED_ONLY.has(kind) && !sharded) {
    throw new UsageError('CHECKPOINT_NOT_SHARDED', `corruption ${kind} needs a sharded checkpoint`, { hint: 'Generate it with shards: 2 or more.' });
  }
  const indexPath = join(d.dir, 'model.safetensors.index.json');
  switch (kind) {
    case 'truncated-shard': {
      const file = d.weightFiles.at(-1) as string;
      const size = d.files.find((f) => f.path === file)?.size ?? 0;
      await truncate(join(d.dir, file), size - 64);
      return { kind, file, description: `${file} lost its last 64 bytes` };
    }
    case 'flipped-byte': {
      const t = layerTensor(d);
      const position = t.fileOffset + Math.floor((t.dataOffsets[1] - t.dataOffsets[0]) / 2);
      const handle = await open(join(d.dir, t.file), 'r+');
      try {
        const one = Buffer.alloc(1);
        await handle.read(one, 0, 1, position);
        one[0] = (one[0] as number) ^ 0x01;
        await handle.write(one, 0, 1, position);
      } finally {
        await handle.close();
      }
      return { kind, file: t.file, tensor: t.name, description: `one bit of ${t.name}'s data at file offset ${position} flipped` };
    }
    case 'nan-weight':
    case 'inf-weight': {
      const t = layerTensor(d);
      const which = kind === 'nan-weight' ? 'nan' : 'inf';
      const bytes = SPECIAL_BYTES[which][t.dtype];
      if (bytes === undefined) throw new Error(`no ${which} pattern for ${t.dtype}`);
      await patchBytes(join(d.dir, t.file), t.fileOffset, bytes);
      return { kind, file: t.file, tensor: t.name, description: `the first element of ${t.name} is ${which === 'nan' ? 'NaN' : '+Inf'}` };
    }
    case 'unknown-dtype': {
      const t = layerTensor(d);
      const path = join(d.dir, t.file);
      const data = await readFile(path);
      const headerLength = Number(data.readBigUInt64LE(0));
      const header = data.subarray(8, 8 + headerLength).toString('utf8');
      const needle = `"${t.name}":{"dtype":"${t.dtype}"`;
      const at = header.indexOf(needle);
      if (at < 0) throw new Error(`header of ${t.file} does not hold ${needle}`);
      const replacement = t.dtype === 'BF16' ? 'BX16' : 'F99';
      const patched = header.slice(0, at) + needle.replace(`"${t.dtype}"`, `"${replacement}"`) + header.slice(at + needle.length);
      await patchBytes(path, 8, [...Buffer.from(patched, 'utf8')]);
      return { kind, file: t.file, tensor: t.name, description: `${t.name} has dtype ${replacement} in the header` };
    }
    case 'config-vocab-mismatch': {
      await editJson(join(d.dir, 'config.json'), (c) => {
        c.vocab_size = d.vocabSize + 8;
      });
      return { kind, file: 'config.json', description: `vocab_size is ${d.vocabSize + 8}, the embedding has ${d.vocabSize} rows` };
    }
    case 'config-hidden-mismatch': {
      await editJson(join(d.dir, 'config.json'), (c) => {
        c.hidden_size = d.shape.hidden * 2;
      });
      return { kind, file: 'config.json', description: `hidden_size is ${d.shape.hidden * 2}, the tensors have ${d.shape.hidden}` };
    }
    case 'missing-config': {
      await rm(join(d.dir, 'config.json'));
      return { kind, file: 'config.json', description: 'config.json was removed' };
    }
    case 'missing-shard': {
      const file = d.weightFiles.at(-1) as string;
      await rm(join(d.dir, file));
      return { kind, file, description: `${file}, named in the index, was removed` };
    }
    case 'index-missing-tensor': {
      const t = layerTensor(d);
      await editJson(indexPath, (index) => {
        delete (index.weight_map as Record<string, string>)[t.name];
      });
      return { kind, file: 'model.safetensors.index.json', tensor: t.name, description: `the index no longer lists ${t.name}` };
    }
    case 'index-extra-tensor': {
      const name = 'model.layers.999.self_attn.q_proj.weight';
      await editJson(indexPath, (index) => {
        (index.weight_map as Record<string, string>)[name] = d.weightFiles[0] as string;
      });
      return { kind, file: 'model.safetensors.index.json', tensor: name, description: `the index lists ${name}, which no shard holds` };
    }
    case 'index-wrong-shard': {
      const t = layerTensor(d);
      const other = d.weightFiles.find((f) => f !== t.file) as string;
      await editJson(indexPath, (index) => {
        (index.weight_map as Record<string, string>)[t.name] = other;
      });
      return { kind, file: 'model.safetensors.index.json', tensor: t.name, description: `the index maps ${t.name} to ${other}; it is in ${t.file}` };
    }
  }
}
