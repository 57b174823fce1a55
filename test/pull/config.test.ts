/**
 * `llama pull` takes its defaults from the configuration's `pull` section (endpoint, cacheDir, lock, concurrency),
 * paths relative to the configuration file; flags still win. Needs `npm run build`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startHubServer } from '../support/hub-server/index.ts';
import { runCli } from '../support/cli.ts';
import { pattern, tempDir } from './helpers.ts';

test('llama pull reads pull.endpoint / cacheDir / lock from .llamarc, relative to the file; flags override', async (t) => {
  const hub = await startHubServer();
  t.after(() => hub.close());
  await hub.addRepo({ id: 'acme/Open', files: { 'config.json': '{"model_type":"llama"}\n', 'model.safetensors': pattern(70_000, 3) } });
  const dir = await tempDir(t);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'release' }));
  await writeFile(join(dir, '.llamarc.json'), JSON.stringify({ pull: { endpoint: hub.url, cacheDir: 'hf-cache', lock: 'locks/models.lock.json', concurrency: 2 } }));
  const sub = join(dir, 'jobs');
  await mkdir(sub);
  const env = { HF_TOKEN: '', HF_HOME: join(dir, 'hf-home'), HF_ENDPOINT: '', HF_HUB_CACHE: '', HF_HUB_OFFLINE: '' };

  const r = await runCli(['pull', 'acme/Open', '--json'], { cwd: sub, env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'hf-cache', 'models--acme--Open', 'snapshots')), 'cache dir from the config, relative to it');
  const lock = JSON.parse(await readFile(join(dir, 'locks', 'models.lock.json'), 'utf8')) as { repos: Record<string, unknown> };
  assert.ok(lock.repos['acme/Open']);

  const explicit = await runCli(['pull', 'acme/Open', '--lock', join(dir, 'other.lock.json'), '--json'], { cwd: sub, env });
  assert.equal(explicit.code, 0, explicit.stderr);
  assert.ok(existsSync(join(dir, 'other.lock.json')), '--lock wins over pull.lock');
});

test('resolvePullOptions: what the CLI does, for a program that imports the library (flags win; config paths relative to its file; lockfile relative to cwd)', async (t) => {
  const { resolvePullOptions } = await import('../../src/transfer/options.ts');
  const dir = await tempDir(t);
  const fromConfig = resolvePullOptions({ repo: 'acme/Open' }, { settings: { endpoint: 'http://hub.example', cacheDir: 'hf-cache', lock: 'locks/x.json', concurrency: 3 }, baseDir: dir, cwd: '/elsewhere' });
  assert.equal(fromConfig.endpoint, 'http://hub.example');
  assert.equal(fromConfig.cacheDir, join(dir, 'hf-cache'));
  assert.equal(fromConfig.lockfile, join(dir, 'locks', 'x.json'));
  assert.equal(fromConfig.concurrency, 3);
  assert.equal(fromConfig.cwd, '/elsewhere');
  const flagsWin = resolvePullOptions({ repo: 'acme/Open', endpoint: 'http://other', lock: 'mine.json', concurrency: 5 }, { settings: { endpoint: 'http://hub.example', lock: 'locks/x.json', concurrency: 3 }, baseDir: dir });
  assert.deepEqual([flagsWin.endpoint, flagsWin.lockfile, flagsWin.concurrency], ['http://other', 'mine.json', 5]);
  assert.equal(resolvePullOptions({ repo: 'acme/Open' }).lockfile, 'llama.lock.json');
  assert.equal(resolvePullOptions({ repo: 'acme/Open' }).concurrency, 32);

  // The library resolves relative paths from the cwd it is given, not the process's.
  const hub = await startHubServer();
  t.after(() => hub.close());
  await hub.addRepo({ id: 'acme/Open', files: { 'config.json': '{}\n' } });
  const { pull } = await import('../../src/transfer/pull.ts');
  const r = await pull({ ...resolvePullOptions({ repo: 'acme/Open', endpoint: hub.url, cacheDir: 'cache', localDir: 'out' }, { cwd: dir, env: {} }) });
  assert.equal(r.root, join(dir, 'out'));
  assert.ok(existsSync(join(dir, 'llama.lock.json')));
});
