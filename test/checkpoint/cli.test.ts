import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { parseSafetensorsFile } from './read-safetensors.ts';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../support/checkpoint/cli.ts', import.meta.url));

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-ckpt-cli-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('checkpoint generator command line', () => {
  it('writes the checkpoint it was asked for and prints one JSON line about it', async () => {
    const out = join(root, 'a');
    const { stdout } = await run(process.execPath, [CLI, '--out', out, '--version', '2', '--layers', '3', '--dtype', 'BF16', '--shards', '2', '--no-card']);
    const summary = JSON.parse(stdout) as { tensors: number; dtype: string; files: Array<{ path: string }>; totalSize: number };
    assert.equal(summary.dtype, 'BF16');
    assert.equal(summary.tensors, 1 + 3 * 9 + 2);
    const names = (await readdir(out)).sort();
    assert.deepEqual(
      summary.files.map((f) => f.path),
      names,
    );
    assert.ok(!names.includes('README.md'));
    assert.ok(names.includes('model.safetensors.index.json'));
    let total = 0;
    for (const n of names.filter((x) => x.endsWith('.safetensors'))) {
      const file = await parseSafetensorsFile(join(out, n));
      assert.deepEqual(file.problems, []);
      total += file.bytes.length - file.dataStart;
    }
    assert.equal(total, summary.totalSize);
  });

  it('exits 2 with the hint on an impossible shape, and on an unknown flag', async () => {
    await assert.rejects(run(process.execPath, [CLI, '--out', join(root, 'b'), '--version', '2', '--heads', '4', '--kv-heads', '3']), (error: unknown) => {
      const e = error as { code: number; stderr: string };
      assert.equal(e.code, 2);
      assert.match(e.stderr, /multiple of kvHeads/);
      assert.match(e.stderr, /Pick kvHeads/);
      return true;
    });
    await assert.rejects(run(process.execPath, [CLI, '--bogus']), (error: unknown) => {
      assert.equal((error as { code: number }).code, 2);
      return true;
    });
    assert.ok(!(await readdir(root)).includes('b'), 'nothing written for a refused shape');
  });
});
