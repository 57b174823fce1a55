/**
 * Inputs that are not regular files — a FIFO or a device as config.json, a shard, a tokenizer file, the model card,
 * the GGUF input — are refused at once with exit 2 naming the file (issue 17 §23: a FIFO config.json hung the
 * command forever). Through the built CLI, so that a hang is a killed child (and a failed test), not a stuck runner.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateCheckpoint } from '../support/checkpoint/index.ts';
import { runCli } from '../support/cli.ts';

const posix = process.platform !== 'win32';
let root: string;
let pristine: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-not-regular-'));
  pristine = join(root, 'pristine');
  await generateCheckpoint(pristine, { version: '3.2', seed: 8, license: { files: 'none' } });
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function quantizeJson(input: string): Promise<{ code: number | null; error?: { code: string; message: string } }> {
  // a hang is killed after 60 s: code null, and the assertions below fail
  const r = await runCli(['quantize', input, '--type', 'F16', '--device', 'cpu', '--out', join(root, 'out.gguf'), '--json'], { cwd: root, timeoutMs: 60_000 });
  return { code: r.code, ...(r.stdout.startsWith('{') ? (JSON.parse(r.stdout) as { error?: { code: string; message: string } }) : {}) };
}

for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'README.md', 'generation_config.json']) {
  test(`a FIFO as ${file}: exit 2 naming it, at once`, { skip: !posix && 'mkfifo is POSIX' }, async () => {
    const dir = join(root, `fifo-${file}`);
    await cp(pristine, dir, { recursive: true });
    await rm(join(dir, file));
    execFileSync('mkfifo', [join(dir, file)]);
    const r = await quantizeJson(dir);
    assert.equal(r.code, 2, JSON.stringify(r));
    assert.equal(r.error?.code, 'INPUT_NOT_REGULAR_FILE');
    assert.ok(r.error.message.includes(file) && r.error.message.includes('FIFO'), r.error.message);
  });
}

test('a device as config.json (a link to /dev/zero): exit 2', { skip: !posix && 'POSIX devices' }, async () => {
  const dir = join(root, 'device-config');
  await cp(pristine, dir, { recursive: true });
  await rm(join(dir, 'config.json'));
  await symlink('/dev/zero', join(dir, 'config.json'));
  const r = await quantizeJson(dir);
  assert.equal(r.code, 2, JSON.stringify(r));
  assert.equal(r.error?.code, 'INPUT_NOT_REGULAR_FILE');
  assert.match(r.error.message, /character device/);
});

test('a FIFO as the GGUF input: exit 2', { skip: !posix && 'mkfifo is POSIX' }, async () => {
  const fifo = join(root, 'model-F16.gguf');
  execFileSync('mkfifo', [fifo]);
  const r = await quantizeJson(fifo);
  assert.equal(r.code, 2, JSON.stringify(r));
  assert.equal(r.error?.code, 'INPUT_NOT_REGULAR_FILE');
});
