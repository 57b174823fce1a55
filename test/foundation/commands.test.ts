/**
 * The CLI as users meet it: through oclif's own test runner (in process) and as a child process (exit codes,
 * stdout/stderr separation). Needs `npm run build` (npm test does it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '@oclif/test';
import { PROJECT_ROOT, runCli } from '../support/cli.ts';

async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-cmd-'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'p' }));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

test('oclif runner: `llama config --json` returns the resolved configuration and its file', async () => {
  const dir = await project({ '.llamarc.yaml': 'docs: PRODUCT.md\nlicensee:\n  name: Acme\n' });
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const { stdout, error, result } = await runCommand<{ file: string }>(['config', '--json'], { root: PROJECT_ROOT });
    assert.equal(error, undefined);
    const json = JSON.parse(stdout) as { file: string; source: string; config: { docs: string; licensee: { name: string } } };
    assert.equal(json.file, join(dir, '.llamarc.yaml'));
    assert.equal(json.source, 'search');
    assert.equal(json.config.docs, 'PRODUCT.md');
    assert.equal(json.config.licensee.name, 'Acme');
    assert.equal(result?.file, json.file);
  } finally {
    process.chdir(cwd);
    await rm(dir, { recursive: true, force: true });
  }
});

test('oclif runner: human output names the source', async () => {
  const dir = await project({});
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const { stdout } = await runCommand(['config'], { root: PROJECT_ROOT });
    assert.match(stdout, /^# source: no configuration file found/);
    assert.match(stdout, /intendedUses: \[\]/);
  } finally {
    process.chdir(cwd);
    await rm(dir, { recursive: true, force: true });
  }
});

test('child process: invalid config → exit 2, message and hint on stderr, stdout empty', async () => {
  const dir = await project({ '.llamarc.json': JSON.stringify({ licensee: { commercial: 'yes' } }) });
  try {
    const r = await runCli(['config'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Error: Invalid configuration in .*\.llamarc\.json: licensee\.commercial: .*expected boolean/m);
    assert.match(r.stderr, /^Hint: Fix licensee\.commercial/m);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace without DEBUG');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('child process: --json failure prints {"error":{code,message,hint}} on stdout', async () => {
  const dir = await project({});
  try {
    const r = await runCli(['config', '--json', '--config', 'missing.yaml'], { cwd: dir });
    assert.equal(r.code, 2);
    const json = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } };
    assert.equal(json.error.code, 'CONFIG_NOT_FOUND');
    assert.match(json.error.message, /missing\.yaml does not exist/);
    assert.ok(json.error.hint.length > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('child process: unknown flag is a usage error (exit 2)', async () => {
  const r = await runCli(['config', '--no-such-flag']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /Nonexistent flag: --no-such-flag/);
  const j = await runCli(['config', '--json', '--no-such-flag']);
  assert.equal(j.code, 2);
  assert.equal((JSON.parse(j.stdout) as { error: { code: string } }).error.code, 'USAGE');
});

test('child process: DEBUG=llama* adds the stack trace', async () => {
  const dir = await project({ '.llamarc.json': '{ broken' });
  try {
    const quiet = await runCli(['config'], { cwd: dir });
    const loud = await runCli(['config'], { cwd: dir, env: { DEBUG: 'llama*' } });
    assert.equal(quiet.code, 2);
    assert.equal(loud.code, 2);
    assert.doesNotMatch(quiet.stderr, /\n\s+at /);
    assert.match(loud.stderr, /\n\s+at /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('help lists the commands that exist, and only those', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  // The commands and topics oclif knows (its manifest), against the names help lists at the start of a line.
  const manifest = JSON.parse(await readFile(join(PROJECT_ROOT, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, unknown> };
  const expected = [...new Set(Object.keys(manifest.commands).map((id) => id.split(':')[0]!))].sort();
  const listed = [...r.stdout.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]!).sort();
  assert.deepEqual(listed, expected, r.stdout);
});

// Issue 17 §11: values are validated when the configuration is loaded, and `llama config` reports them.
for (const [name, config, wanted] of [
  ['quantize.type not a quant type', { quantize: { type: 'Q4_K_X' } }, /quantize\.type: a quantization type \(did you mean Q4_K_S\?\): one of Q4_0, .*Q4_K_M/],
  ['quantize.device not a device', { quantize: { device: 'tpu' } }, /quantize\.device: .*"auto"\|"cpu"\|"gpu"/],
  ['derivative.version not semver', { derivative: { version: '1.0' } }, /derivative\.version: a semantic version such as 1\.0\.0/],
  ['an empty path', { pull: { lock: '' } }, /pull\.lock: a path/],
  ['a misspelt key', { quantise: { type: 'Q4_K_M' } }, /quantise: unknown key .*; did you mean quantize\?/],
  ['a misspelt nested key', { derivative: { versoin: '1.0.0' } }, /derivative\.versoin: unknown key .*; did you mean version\?/],
] as const) {
  test(`llama config: ${name} → exit 2 naming the key`, async () => {
    const dir = await project({ '.llamarc.json': JSON.stringify(config) });
    try {
      const r = await runCli(['config'], { cwd: dir });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, wanted);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('llama config: valid values load (type in any case, semver with pre-release)', async () => {
  const dir = await project({ '.llamarc.json': JSON.stringify({ quantize: { type: 'q4_k_m', device: 'cpu' }, derivative: { version: '1.2.3-rc.1' } }) });
  try {
    const r = await runCli(['config', '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { config: { quantize: { type: string } } }).config.quantize.type, 'q4_k_m');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
