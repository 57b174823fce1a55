/**
 * Honest exits and messages of `pull` (issue 17 §10): a gated repo without access fails once, before any file is
 * started or any partial made; an --include that matches nothing is a usage error; a pull that moves the lockfile to
 * another commit says from which to which and what changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '../support/hub-server/index.ts';
import { runCli } from '../support/cli.ts';
import { pull, type PullOptions } from '../../src/transfer/pull.ts';
import { AccessError, LlamaError, UsageError } from '../../src/errors.ts';
import { FAST_RETRY, TOKENS, collect, pattern, tempDir } from './helpers.ts';

const FILES: Record<string, string | Buffer> = { 'config.json': '{"model_type":"llama"}\n', 'tokenizer.json': '{}\n', 'LICENSE': 'text\n' };
for (let i = 0; i < 8; i++) FILES[`model-0000${i}-of-00008.safetensors`] = pattern(50_000, 60 + i);

async function hubWith(t: { after(fn: () => Promise<void>): void }, gated = false): Promise<HubServer> {
  const hub = await startHubServer({ tokens: { [TOKENS.alice]: 'alice' } });
  t.after(() => hub.close());
  await hub.addRepo({ id: 'org/m', files: FILES, ...(gated ? { gated: 'manual' as const, access: { alice: 'granted' as const } } : {}) });
  return hub;
}

function opts(hub: HubServer, dir: string, extra: Partial<PullOptions> = {}): PullOptions {
  return { repo: 'org/m', endpoint: hub.url, cacheDir: join(dir, 'cache'), lockfile: join(dir, 'llama.lock.json'), retry: FAST_RETRY, env: {}, ...extra };
}

async function failure(promise: Promise<unknown>): Promise<LlamaError> {
  const error = await promise.then(() => assert.fail('expected a failure'), (e: unknown) => e);
  assert.ok(error instanceof LlamaError, String(error));
  return error;
}

test('a gated repo without access fails once, up front: no file started, no download request, no partial left', async (t) => {
  const hub = await hubWith(t, true);
  const dir = await tempDir(t);
  const progress = collect();
  const e = await failure(pull(opts(hub, dir, { onProgress: progress.sink })));
  assert.ok(e instanceof AccessError);
  assert.equal(e.code, 'HUB_GATED');
  assert.deepEqual(progress.events.filter((x) => x.type === 'start' || x.type === 'end'), [], 'no task started or failed');
  assert.deepEqual(hub.log.filter((x) => x.route === 'resolve' || x.server === 'cdn'), [], 'no file requested');
  const blobs = await readdir(join(dir, 'cache', 'models--org--m', 'blobs')).catch(() => [] as string[]);
  assert.deepEqual(blobs, [], 'no .incomplete files');
  // With access, the same pull works (the check does not stand in the way).
  const ok = await pull(opts(hub, dir, { token: TOKENS.alice }));
  assert.equal(ok.files.length, 11);
});

test('llama pull on a gated repo without access: one Error line, no per-file started/failed lines', async (t) => {
  const hub = await hubWith(t, true);
  const dir = await tempDir(t);
  const r = await runCli(['pull', 'org/m', '--endpoint', hub.url, '--cache-dir', join(dir, 'cache'), '--progress', 'plain'], { cwd: dir, env: { HF_TOKEN: '', HF_HOME: join(dir, 'hf'), HF_HUB_OFFLINE: '' } });
  assert.equal(r.code, 5, r.stderr);
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('Error:')).length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /started|failed/, r.stderr);
});

test('--include that matches nothing is exit 2 (online, --frozen and --offline), not "0 file(s) verified"', async (t) => {
  const hub = await hubWith(t);
  const dir = await tempDir(t);
  const e = await failure(pull(opts(hub, dir, { include: ['*.gguf'] })));
  assert.ok(e instanceof UsageError);
  assert.equal(e.exitCode, 2);
  assert.equal(e.code, 'NOTHING_SELECTED');
  assert.match(e.message, /No file of org\/m@[0-9a-f]{40} matches --include \*\.gguf\./);
  await pull(opts(hub, dir));
  for (const mode of [{ frozen: true }, { offline: true }]) {
    const again = await failure(pull(opts(hub, dir, { include: ['*.gguf'], ...mode })));
    assert.equal(again.code, 'NOTHING_SELECTED', JSON.stringify(mode));
  }
});

test('a pull that moves the lockfile to a new commit reports old → new and the files that changed', async (t) => {
  const hub = await hubWith(t);
  const dir = await tempDir(t);
  const first = await pull(opts(hub, dir));
  assert.equal(first.lockfile?.moved, undefined);
  const before = hub.head('org/m');
  await hub.commit('org/m', { files: { 'config.json': '{"model_type":"llama","v":2}\n', 'NOTICE': 'new\n' }, delete: ['tokenizer.json'] });
  const moved = await pull(opts(hub, dir));
  assert.deepEqual(moved.lockfile?.moved, { from: before, to: hub.head('org/m'), changed: ['config.json'], added: ['NOTICE'], removed: ['tokenizer.json'] });

  await hub.commit('org/m', { files: { 'LICENSE': 'other text\n' } });
  const r = await runCli(['pull', 'org/m', '--endpoint', hub.url, '--cache-dir', join(dir, 'cache'), '--progress', 'none'], { cwd: dir, env: { HF_TOKEN: '', HF_HOME: join(dir, 'hf'), HF_HUB_OFFLINE: '' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^lockfile: .*llama\\.lock\\.json \\(updated: org/m ${moved.commit} → ${hub.head('org/m')}\\)$`, 'm'));
  assert.match(r.stdout, /^ {2}changed: LICENSE$/m);
});
