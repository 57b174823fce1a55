/**
 * Ctrl-C / SIGTERM during a pull (issue 17 §8): the library stops and throws an AbortError, leaving only resumable
 * partials (no placed file, no lockfile); the CLI prints one line and exits 130. The CLI part needs `npm run build`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHubServer } from '../support/hub-server/index.ts';
import { pull } from '../../src/transfer/pull.ts';
import { verify } from '../../src/integrity/verify.ts';
import { FAST_RETRY, pattern, tempDir } from './helpers.ts';

const CLI = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
const WEIGHTS = pattern(3 * 1024 * 1024, 71);

async function slowHub(t: { after(fn: () => Promise<void>): void }) {
  const hub = await startHubServer({ bytesPerSecond: 512 * 1024 });
  t.after(() => hub.close());
  await hub.addRepo({ id: 'org/slow', files: { 'config.json': '{}\n', 'model.safetensors': WEIGHTS } });
  return hub;
}

test('an aborted pull throws AbortError and leaves only resumable partials: nothing placed, no lockfile', async (t) => {
  const hub = await slowHub(t);
  const dir = await tempDir(t);
  const controller = new AbortController();
  const error = await pull({
    repo: 'org/slow', endpoint: hub.url, cacheDir: join(dir, 'cache'), lockfile: join(dir, 'llama.lock.json'), retry: FAST_RETRY, env: {},
    pieceSize: 1024 * 1024, paths: ['model.safetensors'], signal: controller.signal,
    onProgress: (e) => {
      if (e.type === 'advance' && e.task === 'pull:model.safetensors' && e.done > 0) controller.abort();
    },
  }).then(() => assert.fail('expected an abort'), (e: unknown) => e as Error);
  assert.equal(error.name, 'AbortError', String(error));
  assert.match(error.message, /partial downloads are kept/);
  const blobs = await readdir(join(dir, 'cache', 'models--org--slow', 'blobs'));
  assert.ok(blobs.every((n) => n.endsWith('.incomplete') || n.endsWith('.incomplete.state.json')), blobs.join(','));
  await assert.rejects(stat(join(dir, 'llama.lock.json')));
  await assert.rejects(readdir(join(dir, 'cache', 'models--org--slow', 'snapshots')));

  // verify honours the signal too.
  const aborted = new AbortController();
  aborted.abort();
  const v = await verify({ dir: join(dir, 'cache'), repo: 'org/slow', endpoint: hub.url, env: {}, signal: aborted.signal }).catch((e: unknown) => e as Error);
  assert.equal((v as Error).name, 'AbortError');
});

test('llama pull on SIGINT: one line, exit 130, partial kept', async (t) => {
  const hub = await slowHub(t);
  const dir = await tempDir(t);
  const child = spawn(process.execPath, [CLI, 'pull', 'org/slow', '--endpoint', hub.url, '--cache-dir', join(dir, 'cache'), '--progress', 'ndjson'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HF_TOKEN: '', HF_HOME: join(dir, 'hf'), HF_HUB_OFFLINE: '', DEBUG: '' },
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  let sent = false;
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (!sent && /"type":"advance","task":"pull:model\.safetensors","done":[1-9]/.test(stderr)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await exited;
  assert.ok(sent, stderr.slice(-2000));
  assert.equal(code, 130, stderr.slice(-2000));
  const human = stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
  assert.deepEqual(human.length, 1, human.join('\n'));
  assert.match(human[0] ?? '', /^Interrupted by SIGINT: pull stopped; partial downloads are kept/);
  const blobs = await readdir(join(dir, 'cache', 'models--org--slow', 'blobs'));
  assert.ok(blobs.some((n) => n.endsWith('.incomplete')), blobs.join(','));
  await assert.rejects(stat(join(dir, 'llama.lock.json')));
});
