/**
 * `llama package` as CI runs it: the built CLI as a child process (exit codes, message and hint on stderr, --json on
 * stdout). Needs `npm run build` (npm test does it).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.ts';
import { makeBase, makeDerivative, snapshot, writeConfig } from './helpers.ts';

describe('llama package (CLI)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llama-package-cli-'));
    // A project of its own, so configuration discovery stops here.
    await writeFile(join(dir, 'package.json'), '{"name":"release"}\n');
    await makeBase(join(dir, 'base'), '3.2');
    await makeDerivative(join(dir, 'deriv'));
    await writeConfig(dir, {
      derivative: { name: 'Llama-3.2-Tiny-Cli', version: '1.0.0', baseModels: ['./base'], relation: 'quantized' },
      licensee: { monthlyActiveUsers: 10, euEstablished: false, commercial: true },
      package: { out: 'release' },
    });
    env = { HOME: dir, HF_HOME: join(dir, 'hf-home'), HF_TOKEN: '', HF_HUB_OFFLINE: '1', SOURCE_DATE_EPOCH: '1700000000' };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('packages with --json, bumps, refuses a non-increasing version (2) and a blocking finding (3)', async () => {
    const ok = await runCli(['package', 'deriv', 'extra.txt=docs/extra.txt', '--json'], { cwd: dir, env });
    // extra.txt does not exist yet: a usage error naming it.
    assert.equal(ok.code, 2, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { error: { code: string } }).error.code, 'PACKAGE_INPUT_NOT_FOUND');

    await writeFile(join(dir, 'extra.txt'), 'release notes\n');
    const first = await runCli(['package', 'deriv', 'extra.txt=docs/extra.txt', '--json'], { cwd: dir, env });
    assert.equal(first.code, 0, first.stderr);
    const result = JSON.parse(first.stdout) as { path: string; sha256: string; version: string; sha256File: string };
    assert.equal(result.version, '1.0.0');
    assert.equal(result.path, join(dir, 'release', 'Llama-3.2-Tiny-Cli-1.0.0.tar'));
    assert.equal(result.sha256, createHash('sha256').update(await readFile(result.path)).digest('hex'));
    assert.equal(await readFile(result.sha256File, 'utf8'), `${result.sha256}  Llama-3.2-Tiny-Cli-1.0.0.tar\n`);

    const again = await runCli(['package', 'deriv'], { cwd: dir, env });
    assert.equal(again.code, 2);
    assert.equal(again.stdout, '');
    assert.match(again.stderr, /^Error: Version 1\.0\.0 of Llama-3\.2-Tiny-Cli is not greater than 1\.0\.0/m);
    assert.match(again.stderr, /^Hint: .*--bump patch/m);

    const bumped = await runCli(['package', 'deriv', '--bump', 'patch', '--format', 'dir'], { cwd: dir, env });
    assert.equal(bumped.code, 0, bumped.stderr);
    assert.match(bumped.stdout, /Packaged Llama-3\.2-Tiny-Cli 1\.0\.1: .*release\/Llama-3\.2-Tiny-Cli-1\.0\.1$/m);

    const before = await snapshot(join(dir, 'release'));
    const blocked = await runCli(['package', 'deriv', '--name', 'Acme-Tiny', '--version', '2.0.0'], { cwd: dir, env });
    assert.equal(blocked.code, 3, blocked.stderr);
    assert.match(blocked.stderr, /^Error: Packaging stopped by 1 blocking license finding: naming-prefix: /m);
    assert.match(blocked.stderr, /^Hint: .*\. Nothing was written to .*release\. A finding that does not apply can be waived/m);
    assert.deepEqual(await snapshot(join(dir, 'release')), before);

    const blockedJson = await runCli(['package', 'deriv', '--name', 'Acme-Tiny', '--version', '2.0.0', '--json'], { cwd: dir, env });
    assert.equal(blockedJson.code, 3);
    const error = (JSON.parse(blockedJson.stdout) as { error: { code: string; details: { findings: Array<{ id: string }> } } }).error;
    assert.equal(error.code, 'PACKAGE_BLOCKED');
    assert.deepEqual(error.details.findings.map((f) => f.id), ['naming-prefix']);
  });
});
