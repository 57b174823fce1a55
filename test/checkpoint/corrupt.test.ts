import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { isLlamaError } from '../../src/errors.ts';
import {
  CHECKPOINT_CORRUPTIONS,
  corruptCheckpoint,
  generateCheckpoint,
  type CheckpointCorruption,
  type CheckpointDescription,
} from '../support/checkpoint/index.ts';
import { decodeFloats, parseSafetensorsFile, tensorBytes } from './read-safetensors.ts';

let root: string;
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-ckpt-corrupt-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function fresh(shards = 3): Promise<CheckpointDescription> {
  return generateCheckpoint(join(root, `c${counter++}`), { version: '2', dtype: 'F16', shards, seed: 4, card: false, license: { files: 'none' } });
}

const exists = async (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

async function readIndex(d: CheckpointDescription): Promise<Record<string, string>> {
  const index = JSON.parse(await readFile(join(d.dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
  return index.weight_map;
}

/** How the independent reader sees the damage each kind must do. */
const checks: Record<CheckpointCorruption, (d: CheckpointDescription, file: string, tensor: string | undefined, before: Buffer | undefined) => Promise<void>> = {
  'truncated-shard': async (d, file) => {
    const parsed = await parseSafetensorsFile(join(d.dir, file));
    assert.ok(parsed.problems.some((p) => /offsets beyond data/.test(p)), JSON.stringify(parsed.problems));
  },
  'flipped-byte': async (d, file, tensor, before) => {
    const after = await readFile(join(d.dir, file));
    assert.ok(before);
    assert.equal(after.length, before.length);
    const diffs = [...after.keys()].filter((i) => after[i] !== before[i]);
    assert.equal(diffs.length, 1);
    const t = d.tensors.find((x) => x.name === tensor);
    assert.ok(t);
    const at = diffs[0] as number;
    assert.ok(at >= t.fileOffset && at < t.fileOffset + t.dataOffsets[1] - t.dataOffsets[0]);
    assert.deepEqual((await parseSafetensorsFile(join(d.dir, file))).problems, [], 'still a valid file');
  },
  'nan-weight': async (d, file, tensor) => {
    const parsed = await parseSafetensorsFile(join(d.dir, file));
    const t = parsed.tensors.find((x) => x.name === tensor);
    assert.ok(t);
    const values = decodeFloats(t.dtype, tensorBytes(parsed, t));
    assert.ok(Number.isNaN(values[0]));
    assert.ok(values.subarray(1).every(Number.isFinite));
  },
  'inf-weight': async (d, file, tensor) => {
    const parsed = await parseSafetensorsFile(join(d.dir, file));
    const t = parsed.tensors.find((x) => x.name === tensor);
    assert.ok(t);
    const values = decodeFloats(t.dtype, tensorBytes(parsed, t));
    assert.equal(values[0], Infinity);
    assert.ok(values.subarray(1).every(Number.isFinite));
  },
  'unknown-dtype': async (d, file, tensor) => {
    const parsed = await parseSafetensorsFile(join(d.dir, file));
    // These checkpoints are F16; 'F99' keeps the header length, so every offset stays where it was.
    assert.deepEqual(parsed.problems, [`${tensor}: unknown dtype F99`]);
  },
  'config-vocab-mismatch': async (d) => {
    const config = JSON.parse(await readFile(join(d.dir, 'config.json'), 'utf8')) as { vocab_size: number };
    assert.notEqual(config.vocab_size, d.tensors[0]?.shape[0]);
  },
  'config-hidden-mismatch': async (d) => {
    const config = JSON.parse(await readFile(join(d.dir, 'config.json'), 'utf8')) as { hidden_size: number };
    assert.notEqual(config.hidden_size, d.tensors[0]?.shape[1]);
  },
  'missing-config': async (d) => {
    assert.equal(await exists(join(d.dir, 'config.json')), false);
  },
  'missing-shard': async (d, file) => {
    assert.equal(await exists(join(d.dir, file)), false);
    assert.ok(Object.values(await readIndex(d)).includes(file), 'the index still names it');
  },
  'index-missing-tensor': async (d, _file, tensor) => {
    const map = await readIndex(d);
    assert.ok(tensor !== undefined && !(tensor in map));
    assert.equal(Object.keys(map).length, d.tensors.length - 1);
  },
  'index-extra-tensor': async (d, _file, tensor) => {
    const map = await readIndex(d);
    assert.ok(tensor !== undefined && tensor in map);
    assert.ok(!d.tensors.some((t) => t.name === tensor));
  },
  'index-wrong-shard': async (d, _file, tensor) => {
    const map = await readIndex(d);
    assert.ok(tensor !== undefined);
    const named = map[tensor] as string;
    const parsed = await parseSafetensorsFile(join(d.dir, named));
    assert.ok(!parsed.tensors.some((t) => t.name === tensor), `${named} does not hold ${tensor}`);
  },
};

describe('corruptCheckpoint', () => {
  for (const kind of CHECKPOINT_CORRUPTIONS) {
    it(`${kind}`, async () => {
      const d = await fresh();
      const target = kind === 'flipped-byte' ? d.tensors.find((t) => t.name.endsWith('q_proj.weight'))?.file : undefined;
      const before = target === undefined ? undefined : await readFile(join(d.dir, target));
      // The untouched checkpoint passes every check that the corruption is meant to trip.
      for (const f of d.weightFiles) assert.deepEqual((await parseSafetensorsFile(join(d.dir, f))).problems, []);
      const result = await corruptCheckpoint(d, kind);
      assert.equal(result.kind, kind);
      assert.ok(result.description.length > 10);
      await checks[kind](d, result.file, result.tensor, before);
    });
  }

  it('refuses index corruptions on an unsharded checkpoint', async () => {
    const d = await fresh(1);
    await assert.rejects(corruptCheckpoint(d, 'index-wrong-shard'), (error: unknown) => {
      assert.ok(isLlamaError(error));
      assert.equal(error.code, 'CHECKPOINT_NOT_SHARDED');
      return true;
    });
  });
});
