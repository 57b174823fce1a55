/**
 * `llama package` reaches the hub the way `llama license check` does (issue 17 §4): the same client, token handling
 * and typed errors, so the same cause gives the same exit code and message. The built CLI against the local test
 * hub (test/support/hub-server) and an endpoint nothing listens on. Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { runCli } from '../support/cli.ts';
import { startHubServer, type HubServer } from '../support/hub-server/index.ts';
import { frontMatter, makeDerivative, writeConfig } from './helpers.ts';

/** A mirror's token: it need not start with hf_. */
const MIRROR_TOKEN = 'mirror-token-123';
const BASE = 'acme/Llama-3.2-Tiny-Base';

/** The first `Error:` line of stderr. */
const errorLine = (stderr: string) => /^Error: .*$/m.exec(stderr)?.[0];

describe('llama package and the hub', () => {
  let dir: string;
  let hub: HubServer;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llama-package-hub-'));
    await writeFile(join(dir, 'package.json'), '{"name":"release"}\n');
    hub = await startHubServer({ tokens: { [MIRROR_TOKEN]: 'acme' } });
    // Private: readable only with the token.
    await hub.addRepo({ id: BASE, private: true, files: { 'README.md': '---\nlicense: llama3.2\npipeline_tag: text-generation\n---\n# Tiny base\n' } });
    await makeDerivative(join(dir, 'deriv'));
    await writeConfig(dir, {
      derivative: { name: 'Llama-3.2-Tiny-Hub', version: '1.0.0', baseModels: [BASE], relation: 'quantized' },
      licensee: { monthlyActiveUsers: 10, euEstablished: false, commercial: true },
    });
    env = { HOME: dir, HF_HOME: join(dir, 'hf-home'), HF_TOKEN: '', HF_HUB_OFFLINE: '', HF_ENDPOINT: '', SOURCE_DATE_EPOCH: '1700000000' };
  });
  after(async () => {
    await hub?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes a token that does not start with hf_, from HF_TOKEN or --token, as license check does', async () => {
    const viaEnv = { ...env, HF_ENDPOINT: hub.url, HF_TOKEN: MIRROR_TOKEN };
    const check = await runCli(['license', 'check'], { cwd: dir, env: viaEnv });
    assert.equal(check.code, 0, check.stderr);

    const packaged = await runCli(['package', 'deriv', '--format', 'dir', '--out', 'out-env', '--json'], { cwd: dir, env: viaEnv });
    assert.equal(packaged.code, 0, packaged.stderr);
    const result = JSON.parse(packaged.stdout) as { path: string };
    const meta = parse(frontMatter(await readFile(join(result.path, 'README.md'), 'utf8'))) as Record<string, unknown>;
    assert.equal(meta.license, 'llama3.2');
    assert.deepEqual(meta.base_model, [BASE]);

    const viaFlags = await runCli(['package', 'deriv', '--format', 'dir', '--out', 'out-flags', '--endpoint', hub.url, '--token', MIRROR_TOKEN], { cwd: dir, env });
    assert.equal(viaFlags.code, 0, viaFlags.stderr);
    for (const output of [packaged, viaFlags]) assert.ok(!`${output.stdout}${output.stderr}`.includes(MIRROR_TOKEN), 'the token was printed');
  });

  it('gives the exit code and message of license check for an unreachable hub (6), and writes nothing', async () => {
    const unreachable = { ...env, HF_ENDPOINT: 'http://127.0.0.1:9' };
    const check = await runCli(['license', 'check'], { cwd: dir, env: unreachable });
    const packaged = await runCli(['package', 'deriv', '--out', 'out-unreachable'], { cwd: dir, env: unreachable });
    assert.equal(check.code, 6, check.stderr);
    assert.equal(packaged.code, 6, packaged.stderr);
    assert.ok(errorLine(check.stderr), check.stderr);
    assert.equal(errorLine(packaged.stderr), errorLine(check.stderr));
    await assert.rejects(readFile(join(dir, 'out-unreachable', 'Llama-3.2-Tiny-Hub-1.0.0.tar')), { code: 'ENOENT' });
  });

  it('refuses a token the hub rejects as license check does: exit 5, HUB_INVALID_TOKEN naming where the token came from', async () => {
    const refused = { ...env, HF_ENDPOINT: hub.url, HF_TOKEN: 'not-a-token-the-hub-knows' };
    const check = await runCli(['license', 'check', '--json'], { cwd: dir, env: refused });
    const packaged = await runCli(['package', 'deriv', '--out', 'out-refused', '--json'], { cwd: dir, env: refused });
    for (const run of [check, packaged]) {
      assert.equal(run.code, 5, run.stdout + run.stderr);
      const error = (JSON.parse(run.stdout) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'HUB_INVALID_TOKEN');
      assert.match(error.message, /from HF_TOKEN/);
      assert.ok(!`${run.stdout}${run.stderr}`.includes('not-a-token-the-hub-knows'));
    }
    await assert.rejects(readFile(join(dir, 'out-refused', 'Llama-3.2-Tiny-Hub-1.0.0.tar')), { code: 'ENOENT' });
  });
});
