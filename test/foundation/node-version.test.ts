/**
 * Issue 17 §17: on a Node.js older than package.json's "engines", the CLI, `npm test` and `npm run demo` stop at
 * once with one line naming the version found and the one needed (before: the CLI ran anyway, the demo died with
 * ERR_UNKNOWN_FILE_EXTENSION, npm test said "Could not find test/**\/*.test.ts"). Uses the machine's own older
 * Node.js (/usr/bin/node) when it has one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, PROJECT_ROOT } from '../support/cli.ts';

const CHECK = join(PROJECT_ROOT, 'bin', 'check-node.js');
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; scripts: Record<string, string> };

function olderNode(): { path: string; version: string } | undefined {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(path)) continue;
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
    const [major = 0, minor = 0] = version.slice(1).split('.').map(Number);
    if (major < 22 || (major === 22 && minor < 18)) return { path, version };
  }
  return undefined;
}
const old = olderNode();
const skip = old ? false : 'no Node.js older than 22.18 on this machine';

const ONE_LINE = (version: string) => new RegExp(`^llama-dist needs Node\\.js ${pkg.engines.node.replace(/[.]/g, '\\.')}; this is Node\\.js ${version.replace(/[.]/g, '\\.')} \\(.*\\)\\. Install Node\\.js 22\\.18 or newer .*\\n$`);

test('engines stays >=22.18.0', () => {
  assert.equal(pkg.engines.node, '>=22.18.0');
});

test('the supported Node.js passes the check silently', () => {
  const r = spawnSync(process.execPath, [CHECK], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, '');
});

test('an older Node.js: the check exits 7 with one line', { skip }, () => {
  const r = spawnSync(old!.path, [CHECK], { encoding: 'utf8' });
  assert.equal(r.status, 7, r.stderr);
  assert.match(r.stderr, ONE_LINE(old!.version));
});

test('an older Node.js: the CLI refuses with the same line, before running any command', { skip }, () => {
  const r = spawnSync(old!.path, [CLI, '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 7, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, ONE_LINE(old!.version));
});

// The scripts are run up to their first `&&` (the rest would rebuild dist/ under a running test suite).
for (const script of ['test', 'demo']) {
  test(`an older Node.js: \`npm ${script === 'test' ? 'test' : 'run demo'}\` stops at its first step with the line`, { skip }, async () => {
    const first = (pkg.scripts[script] ?? '').split('&&')[0]?.trim() ?? '';
    assert.match(first, /^node bin\/check-node\.js$/, 'the script checks the Node.js version first');
    const bin = await mkdtemp(join(tmpdir(), 'llama-old-node-'));
    try {
      await symlink(old!.path, join(bin, 'node'));
      const r = spawnSync('sh', ['-c', first], { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } });
      assert.equal(r.status, 7, r.stderr);
      assert.match(r.stderr, ONE_LINE(old!.version));
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
}
