/**
 * `llama pull` and `llama verify` as CI runs them: the built CLI as a child process against the local hub (exit codes,
 * messages on stderr, --json on stdout), and no token in any output. Needs `npm run build` (npm test does it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '../support/hub-server/index.ts';
import { runCli, type CliResult } from '../support/cli.ts';
import { TOKENS, pattern, sha256, tempDir } from './helpers.ts';

const WEIGHTS = pattern(300_000, 9);

async function gatedHub(t: { after(fn: () => Promise<void>): void }): Promise<HubServer> {
  const hub = await startHubServer({ tokens: { [TOKENS.alice]: 'alice', [TOKENS.bob]: 'bob', [TOKENS.carol]: 'carol' } });
  t.after(() => hub.close());
  await hub.addRepo({
    id: 'meta-llama/Tiny',
    gated: 'manual',
    access: { alice: 'granted', carol: 'pending' },
    files: { 'config.json': '{"model_type":"llama"}\n', 'model.safetensors': WEIGHTS, 'LICENSE': 'license text\n' },
  });
  return hub;
}

function noTokens(r: CliResult, extra: string[] = []): void {
  for (const token of [...Object.values(TOKENS), ...extra]) {
    assert.ok(!r.stdout.includes(token), 'token in stdout');
    assert.ok(!r.stderr.includes(token), 'token in stderr');
  }
}

test('llama pull: gated repo errors exit 5 with what to do; a granted token pulls; no token in any output', async (t) => {
  const hub = await gatedHub(t);
  const dir = await tempDir(t);
  const base = ['pull', 'meta-llama/Tiny', '--endpoint', hub.url, '--cache-dir', join(dir, 'cache'), '--lock', join(dir, 'llama.lock.json')];
  const env = { HF_TOKEN: '', HF_HOME: join(dir, 'hf-home'), HF_HUB_OFFLINE: '' };

  const anon = await runCli(base, { cwd: dir, env });
  assert.equal(anon.code, 5, anon.stderr);
  assert.match(anon.stderr, new RegExp(`^Error: gated: accept the license at ${hub.url}/meta-llama/Tiny, then pass a token\\.$`, 'm'));
  assert.match(anon.stderr, /^Hint: .*accept its license/m);

  const bob = await runCli([...base, '--token', TOKENS.bob, '--json'], { cwd: dir, env });
  assert.equal(bob.code, 5);
  const bobJson = JSON.parse(bob.stdout) as { error: { code: string; message: string; hint: string } };
  assert.equal(bobJson.error.code, 'HUB_NOT_AUTHORIZED');
  noTokens(bob);

  const carol = await runCli(base, { cwd: dir, env: { ...env, HF_TOKEN: TOKENS.carol, DEBUG: 'llama*' } });
  assert.equal(carol.code, 5);
  assert.match(carol.stderr, /awaiting review/);
  assert.match(carol.stderr, /\n\s+at /, 'DEBUG shows the stack');
  noTokens(carol);

  const invalid = 'hf_notARealToken1234567890';
  const bad = await runCli([...base, '--token', invalid], { cwd: dir, env });
  assert.equal(bad.code, 5);
  assert.match(bad.stderr, /token/);
  noTokens(bad, [invalid]);

  const ok = await runCli([...base, '--token', TOKENS.alice, '--progress', 'ndjson'], { cwd: dir, env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`meta-llama/Tiny@${hub.head('meta-llama/Tiny')}: 3 file\\(s\\) verified — 3 downloaded`));
  assert.ok(ok.stderr.split('\n').some((l) => l.startsWith('{"type":"advance","task":"pull:model.safetensors"')), 'per-file progress events');
  noTokens(ok);
  const lock = await readFile(join(dir, 'llama.lock.json'), 'utf8');
  assert.ok(!lock.includes('hf_'));
  assert.match(lock, new RegExp(sha256(WEIGHTS)));

  // --json result; --frozen from the lockfile; verify ok.
  const frozen = await runCli([...base, '--frozen', '--json'], { cwd: dir, env: { ...env, HF_TOKEN: TOKENS.alice } });
  assert.equal(frozen.code, 0, frozen.stderr);
  const result = JSON.parse(frozen.stdout) as { commit: string; files: Array<{ status: string }> };
  assert.equal(result.commit, hub.head('meta-llama/Tiny'));
  assert.ok(result.files.every((f) => f.status === 'present'));
  noTokens(frozen);
});

test('llama verify: ok exits 0; a tampered file exits 4 with the per-file report (also in --json)', async (t) => {
  const hub = await gatedHub(t);
  const dir = await tempDir(t);
  const local = join(dir, 'model');
  const env = { HF_TOKEN: TOKENS.alice, HF_HOME: join(dir, 'hf-home'), HF_HUB_OFFLINE: '' };
  const pulled = await runCli(['pull', 'meta-llama/Tiny', '--endpoint', hub.url, '--local-dir', local], { cwd: dir, env });
  assert.equal(pulled.code, 0, pulled.stderr);

  const good = await runCli(['verify', local], { cwd: dir, env });
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /^ok\s+model\.safetensors$/m);
  assert.match(good.stdout, /3 ok, 0 mismatch, 0 missing, 0 extra/);

  await writeFile(join(local, 'config.json'), '{"tampered":1}\n');
  const bad = await runCli(['verify', local], { cwd: dir, env });
  assert.equal(bad.code, 4);
  assert.match(bad.stdout, /^mismatch\s+config\.json \(expected \d+ bytes sha256 [0-9a-f]{64}, got \d+ bytes sha256 [0-9a-f]{64}\)$/m);
  assert.match(bad.stderr, /^Error: meta-llama\/Tiny: 1 mismatched, 0 missing, 0 extra/m);

  const json = await runCli(['verify', local, '--json'], { cwd: dir, env });
  assert.equal(json.code, 4);
  const parsed = JSON.parse(json.stdout) as { error: { code: string; details: { report: { files: Array<{ path: string; status: string }> } } } };
  assert.equal(parsed.error.code, 'VERIFY_FAILED');
  assert.deepEqual(parsed.error.details.report.files.map((f) => [f.path, f.status]), [['LICENSE', 'ok'], ['config.json', 'mismatch'], ['model.safetensors', 'ok']]);
  noTokens(json);
});

test('llama verify: a plain run finds the --local-dir of the pull (recorded relative to the lockfile); no such directory is exit 2', async (t) => {
  const hub = await gatedHub(t);
  const dir = await tempDir(t);
  const env = { HF_TOKEN: TOKENS.alice, HF_HOME: join(dir, 'hf-home'), HF_HUB_OFFLINE: '' };
  const pulled = await runCli(['pull', 'meta-llama/Tiny', '--endpoint', hub.url, '--local-dir', 'out/model'], { cwd: dir, env });
  assert.equal(pulled.code, 0, pulled.stderr);
  const lock = JSON.parse(await readFile(join(dir, 'llama.lock.json'), 'utf8')) as { repos: Record<string, { localDir?: string }> };
  assert.equal(lock.repos['meta-llama/Tiny']?.localDir, 'out/model', 'relative to the lockfile, never absolute');

  const plain = await runCli(['verify'], { cwd: dir, env });
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /3 ok, 0 mismatch, 0 missing, 0 extra/);
  assert.ok(plain.stdout.includes(join(dir, 'out', 'model')));

  const absent = await runCli(['verify', join(dir, 'nope')], { cwd: dir, env });
  assert.equal(absent.code, 2, absent.stderr);
  assert.match(absent.stderr, /^Error: No such directory: .*nope\.$/m);
  assert.doesNotMatch(absent.stdout + absent.stderr, /missing/);
});

test('two llama pull processes on one cache at once: both exit 0, the weights cross the wire once', async (t) => {
  const hub = await startHubServer({ bytesPerSecond: 2 * 1024 * 1024 });
  t.after(() => hub.close());
  const weights = pattern(3 * 1024 * 1024, 21);
  await hub.addRepo({ id: 'org/shared', files: { 'config.json': '{}\n', 'model.safetensors': weights } });
  const dir = await tempDir(t);
  const args = (n: number) => ['pull', 'org/shared', '--endpoint', hub.url, '--cache-dir', join(dir, 'cache'), '--lock', join(dir, `lock-${n}.json`), '--progress', 'none'];
  const env = { HF_TOKEN: '', HF_HOME: join(dir, 'hf-home'), HF_HUB_OFFLINE: '' };
  const [a, b] = await Promise.all([runCli(args(1), { cwd: dir, env }), runCli(args(2), { cwd: dir, env })]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(hub.stats((e) => e.server === 'cdn').fileBytesSent, weights.length);
  assert.equal(await readFile(join(dir, 'lock-1.json'), 'utf8'), await readFile(join(dir, 'lock-2.json'), 'utf8'));
  const blob = await readFile(join(dir, 'cache', 'models--org--shared', 'blobs', sha256(weights)));
  assert.ok(blob.equals(weights));
});
