import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  MALFORMED_SAFETENSORS_KINDS,
  writeMalformedSafetensors,
  writeSafetensors,
  type MalformedSafetensorsKind,
} from '../support/checkpoint/index.ts';
import { decodeFloats, parseSafetensorsFile, tensorBytes } from './read-safetensors.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llama-st-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeSafetensors', () => {
  it('writes a file the independent reader accepts, laid out as the reference writer does', async () => {
    const path = join(dir, 'mixed.safetensors');
    const f16Values = [1, -2, 0.5, 65504, -0, 2 ** -24];
    const written = await writeSafetensors(path, {
      'z.half': { dtype: 'F16', shape: [2, 3], values: f16Values },
      'b.float': { dtype: 'F32', shape: [3], values: [0.1, -7.25, 1e-30] },
      'a.brain': { dtype: 'BF16', shape: [2], values: [1, -3] },
      'c.ints': { dtype: 'I32', shape: [2, 1], values: [-5, 123456] },
      'd.bytes': { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 255]) },
    });
    const file = await parseSafetensorsFile(path);
    assert.deepEqual(file.problems, []);
    assert.equal(file.headerLength % 8, 0, 'header padded to 8 bytes');
    assert.equal(file.headerLength, written.headerLength);
    assert.equal(file.bytes.length, written.size);
    const headerText = file.bytes.subarray(8, file.dataStart).toString('utf8');
    assert.match(headerText, /^\{"__metadata__":\{"format":"pt"\},/);
    assert.match(headerText, /\} *$/);
    assert.equal(headerText.length - headerText.trimEnd().length, (8 - (headerText.trimEnd().length % 8)) % 8);
    // 4-byte dtypes first (by name), then 2-byte, then 1-byte.
    assert.deepEqual(file.keys, ['__metadata__', 'b.float', 'c.ints', 'a.brain', 'z.half', 'd.bytes']);
    const byName = new Map(file.tensors.map((t) => [t.name, t]));
    const half = byName.get('z.half');
    assert.ok(half);
    assert.deepEqual(half.shape, [2, 3]);
    assert.equal(half.end - half.begin, 12);
    assert.deepEqual([...decodeFloats('F16', tensorBytes(file, half))], f16Values);
    const float = byName.get('b.float');
    assert.ok(float);
    assert.deepEqual([...decodeFloats('F32', tensorBytes(file, float))], [0.1, -7.25, 1e-30].map(Math.fround));
    const brain = byName.get('a.brain');
    assert.ok(brain);
    assert.deepEqual([...tensorBytes(file, brain)], [0x80, 0x3f, 0x40, 0xc0]); // 0x3f80, 0xc040 little-endian
    const ints = byName.get('c.ints');
    assert.ok(ints);
    assert.equal(tensorBytes(file, ints).readInt32LE(0), -5);
    assert.equal(tensorBytes(file, ints).readInt32LE(4), 123456);
    const u8 = byName.get('d.bytes');
    assert.ok(u8);
    assert.deepEqual([...tensorBytes(file, u8)], [1, 2, 255]);
  });

  it("keeps the caller's order and leaves __metadata__ out when asked", async () => {
    const path = join(dir, 'given.safetensors');
    await writeSafetensors(
      path,
      { z: { dtype: 'F32', shape: [1], values: [1] }, a: { dtype: 'F32', shape: [1], values: [2] } },
      { order: 'given', metadata: null },
    );
    const file = await parseSafetensorsFile(path);
    assert.deepEqual(file.problems, []);
    assert.deepEqual(file.keys, ['z', 'a']);
    assert.equal(file.metadata, undefined);
    assert.deepEqual(
      file.tensors.map((t) => [t.name, t.begin, t.end]),
      [
        ['z', 0, 4],
        ['a', 4, 8],
      ],
    );
  });

  it('writes an empty tensor and a scalar', async () => {
    const path = join(dir, 'edge.safetensors');
    await writeSafetensors(path, {
      empty: { dtype: 'F32', shape: [0, 4], values: [] },
      scalar: { dtype: 'F32', shape: [], values: [3.5] },
    });
    const file = await parseSafetensorsFile(path);
    assert.deepEqual(file.problems, []);
    assert.deepEqual(
      file.tensors.map((t) => [t.name, t.shape, t.end - t.begin]),
      [
        ['empty', [0, 4], 0],
        ['scalar', [], 4],
      ],
    );
  });

  it('leaves no temporary file behind', async () => {
    const names = await readdir(dir);
    assert.deepEqual(
      names.filter((n) => n.endsWith('.tmp')),
      [],
    );
  });
});

describe('writeMalformedSafetensors', () => {
  // What the independent reader must find in each: the one rule the file breaks.
  const expected: Record<MalformedSafetensorsKind, RegExp> = {
    'header-length-beyond-file': /header length beyond the file/,
    'header-length-huge': /header length beyond the file/,
    'file-shorter-than-length-prefix': /shorter than the length prefix/,
    'header-not-json': /header is not JSON/,
    'header-not-object': /header is not an object/,
    'offsets-beyond-data': /^b: offsets beyond data$/,
    'overlapping-offsets': /^b: overlaps$/,
    'offsets-size-mismatch': /^b: size does not match shape$/,
    'offsets-reversed': /^b: bad offsets$/,
    'gap-between-tensors': /^b: gap before$/,
    'trailing-bytes': /bytes after the last tensor/,
    'truncated-data': /^b: offsets beyond data$/,
    'bad-dtype': /^b: unknown dtype F33$/,
    'bad-shape': /^b: bad shape$/,
  };

  it('covers every kind it lists', () => {
    assert.deepEqual(Object.keys(expected).sort(), [...MALFORMED_SAFETENSORS_KINDS].sort());
  });

  it('the unbroken base file is valid', async () => {
    const path = join(dir, 'base.safetensors');
    await writeSafetensors(path, {
      a: { dtype: 'F32', shape: [2, 3], values: [1, 2, 3, 4, 5, 6] },
      b: { dtype: 'F32', shape: [4], values: [7, 8, 9, 10] },
    });
    assert.deepEqual((await parseSafetensorsFile(path)).problems, []);
  });

  for (const kind of MALFORMED_SAFETENSORS_KINDS) {
    it(`${kind}: breaks exactly the rule it names`, async () => {
      const path = join(dir, `${kind}.safetensors`);
      const result = await writeMalformedSafetensors(path, kind);
      assert.equal(result.kind, kind);
      assert.ok(result.description.length > 10);
      const file = await parseSafetensorsFile(path);
      assert.equal(file.bytes.length, result.size);
      assert.ok(file.problems.length > 0, `${kind} should be rejected`);
      assert.ok(
        file.problems.some((p) => expected[kind].test(p)),
        `${kind}: expected ${String(expected[kind])}, got ${JSON.stringify(file.problems)}`,
      );
    });
  }
});
