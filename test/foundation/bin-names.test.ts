/**
 * Issue 17 §18: the CLI is installed as `llama` and as `llama-dist` (llama.cpp and llama-stack install a `llama`
 * too). Each package.json "bin" entry is run the way npm installs it (a symlink named after the entry), and its
 * help speaks of the name the user typed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../support/cli.ts';
import { invokedName } from '../../src/cli/invocation.ts';

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; oclif: { bin: string } };

test('package.json installs both names, each pointing to bin/run.js', () => {
  assert.deepEqual(Object.keys(pkg.bin).sort(), ['llama', 'llama-dist']);
  for (const target of Object.values(pkg.bin)) assert.equal(resolve(PROJECT_ROOT, target), join(PROJECT_ROOT, 'bin', 'run.js'));
});

for (const name of ['llama', 'llama-dist']) {
  test(`\`${name}\` runs through an npm-style symlink and its help says \`${name}\``, async () => {
    const target = pkg.bin[name];
    assert.ok(target, `no "${name}" in package.json "bin"`);
    const dir = await mkdtemp(join(tmpdir(), 'llama-bin-'));
    try {
      await symlink(resolve(PROJECT_ROOT, target), join(dir, name));
      const env = { ...process.env, PATH: `${dir}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`, NO_COLOR: '1' };
      const version = spawnSync(name, ['--version'], { env, encoding: 'utf8', cwd: dir });
      assert.equal(version.status, 0, version.stderr);
      assert.match(version.stdout, /^llama-dist\/\d+\.\d+\.\d+ /);
      const help = spawnSync(name, ['pull', '--help'], { env, encoding: 'utf8', cwd: dir });
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, new RegExp(`^  \\$ ${name} pull REPO`, 'm'), 'usage line');
      assert.match(help.stdout, new RegExp(`^  \\$ ${name} pull meta-llama/Llama-3\\.2-1B$`, 'm'), 'examples');
      const root = spawnSync(name, ['--help'], { env, encoding: 'utf8', cwd: dir });
      assert.match(root.stdout, new RegExp(`^  \\$ ${name} \\[COMMAND\\]`, 'm'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('started by path (node bin/run.js), the configured name applies', () => {
  assert.equal(invokedName('/x/bin/run.js', ['llama', 'llama-dist']), undefined);
  assert.equal(invokedName('/usr/local/bin/llama-dist', ['llama', 'llama-dist']), 'llama-dist');
  assert.equal(invokedName('C:\\npm\\llama-dist.cmd'.replace(/\\/g, '/'), ['llama', 'llama-dist']), 'llama-dist');
  assert.equal(pkg.oclif.bin, 'llama');
});
