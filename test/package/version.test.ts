import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsageError } from '../../src/errors.ts';
import { checkName, checkVersion, chooseVersion, packageBase, packagedVersions, sourceDateEpoch } from '../../src/package/version.ts';

function usage(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.exitCode, 2);
    return true;
  };
}

describe('package versions', () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'llama-version-'));
    // Earlier packages of the same name (archive and directory forms), a different name, and noise.
    await writeFile(join(out, 'Llama-X-1.2.0.tar'), '');
    await writeFile(join(out, 'Llama-X-1.2.0.tar.sha256'), '');
    await mkdir(join(out, 'Llama-X-1.10.0'));
    await writeFile(join(out, 'Llama-X-1.9.9.tar'), '');
    await writeFile(join(out, 'Llama-X-Other-5.0.0.tar'), '');
    await writeFile(join(out, 'Llama-X-notes.txt'), '');
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('accepts strict semver only', () => {
    assert.equal(checkVersion('1.2.3', 'test'), '1.2.3');
    assert.equal(checkVersion('1.3.0-rc.1+build.5', 'test'), '1.3.0-rc.1+build.5');
    for (const bad of ['v1.2.3', '1.2', '1.2.3.4', '01.2.3', 'latest', ' 1.2.3']) {
      assert.throws(() => checkVersion(bad, 'test'), usage('PACKAGE_VERSION_INVALID'), bad);
    }
  });

  it('finds the versions already packaged, newest first by semver (not by string)', async () => {
    assert.deepEqual(await packagedVersions(out, 'Llama-X'), ['1.10.0', '1.9.9', '1.2.0']);
    assert.deepEqual(await packagedVersions(join(out, 'missing'), 'Llama-X'), []);
  });

  it('bumps the newest packaged version, else the configured one', async () => {
    assert.deepEqual(await chooseVersion({ name: 'Llama-X', outDir: out, bump: 'patch' }), { version: '1.10.1', origin: 'bump', previous: { version: '1.10.0', from: 'out' } });
    assert.equal((await chooseVersion({ name: 'Llama-X', outDir: out, bump: 'minor', configVersion: '9.0.0' })).version, '1.11.0');
    assert.equal((await chooseVersion({ name: 'Llama-X', outDir: out, bump: 'major' })).version, '2.0.0');
    assert.deepEqual(await chooseVersion({ name: 'Fresh', outDir: out, bump: 'minor', configVersion: '0.3.4' }), { version: '0.4.0', origin: 'bump', previous: { version: '0.3.4', from: 'config' } });
    await assert.rejects(chooseVersion({ name: 'Fresh', outDir: out, bump: 'patch' }), usage('PACKAGE_VERSION_NOTHING_TO_BUMP'));
  });

  it('refuses a version that does not increase over what is already packaged', async () => {
    await assert.rejects(chooseVersion({ name: 'Llama-X', outDir: out, flag: '1.10.0' }), usage('PACKAGE_VERSION_NOT_INCREASING'));
    await assert.rejects(chooseVersion({ name: 'Llama-X', outDir: out, flag: '1.9.10' }), usage('PACKAGE_VERSION_NOT_INCREASING'));
    await assert.rejects(chooseVersion({ name: 'Llama-X', outDir: out, configVersion: '1.2.0' }), usage('PACKAGE_VERSION_NOT_INCREASING'));
    assert.equal((await chooseVersion({ name: 'Llama-X', outDir: out, flag: '1.11.0-rc.1' })).version, '1.11.0-rc.1');
    assert.equal((await chooseVersion({ name: 'Llama-X', outDir: out, flag: '1.10.1', configVersion: '0.0.1' })).origin, 'flag');
    await assert.rejects(chooseVersion({ name: 'Llama-X', outDir: out, flag: '2.0.0', bump: 'patch' }), usage('PACKAGE_VERSION_CONFLICT'));
    await assert.rejects(chooseVersion({ name: 'Llama-X', outDir: out }), usage('PACKAGE_VERSION_REQUIRED'));
  });

  it('validates names and derives file names from them', () => {
    assert.equal(packageBase(checkName('acme/Llama-3.2-1B-Q4_K_M'), '1.0.0'), 'acme--Llama-3.2-1B-Q4_K_M-1.0.0');
    for (const bad of ['../x', 'a/b/c', '-x', 'x y', '', 'a..b']) assert.throws(() => checkName(bad), usage('PACKAGE_NAME_INVALID'), bad);
  });

  it('reads SOURCE_DATE_EPOCH', () => {
    assert.equal(sourceDateEpoch({}, 42), 42);
    assert.equal(sourceDateEpoch({ SOURCE_DATE_EPOCH: '1700000000' }, 42), 1_700_000_000);
    for (const bad of ['-1', '1.5', 'yesterday', '99999999999999']) assert.throws(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: bad }, 0), usage('SOURCE_DATE_EPOCH_INVALID'), bad);
  });
});
