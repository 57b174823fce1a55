/**
 * Resume after kill -9: a child `llama pull` (the built CLI, as CI runs it) is killed mid-transfer; the next run
 * continues the partial with Range requests, moves fewer bytes than the whole file, and ends with the verified file
 * in place. Needs `npm run build` (npm test does it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHubServer } from '../support/hub-server/index.ts';
import { pull } from '../../src/transfer/pull.ts';
import { verify } from '../../src/integrity/verify.ts';
import { FAST_RETRY, pattern, sha256, tempDir } from './helpers.ts';

const CLI = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
const SIZE = 6 * 1024 * 1024;
const WEIGHTS = pattern(SIZE, 11);

async function recordedBytes(blobs: string): Promise<number> {
  const names = await readdir(blobs).catch(() => [] as string[]);
  const state = names.find((n) => n.endsWith('.incomplete.state.json'));
  if (!state) return 0;
  try {
    const parsed = JSON.parse(await readFile(join(blobs, state), 'utf8')) as { received: number[] };
    return parsed.received.reduce((a, b) => a + b, 0);
  } catch {
    return 0;
  }
}

test('kill -9 mid-transfer, then resume: fewer bytes than the whole, verified result', async (t) => {
  const hub = await startHubServer({ bytesPerSecond: 1024 * 1024 });
  t.after(() => hub.close());
  await hub.addRepo({ id: 'org/big', files: { 'model.safetensors': WEIGHTS, 'config.json': '{}' } });
  const dir = await tempDir(t);
  const options = { repo: 'org/big', endpoint: hub.url, cacheDir: join(dir, 'cache'), lockfile: join(dir, 'llama.lock.json'), concurrency: 2, env: {} };
  const args = ['pull', 'org/big', '--endpoint', hub.url, '--cache-dir', options.cacheDir, '--lock', options.lockfile, '--concurrency', '2', '--progress', 'plain'];
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HF_TOKEN: '', HF_HUB_OFFLINE: '' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  // Kill as soon as the resume record shows some bytes on disk (1 MB/s per connection). No clock: the wait ends when
  // the record shows them or when the child exits on its own (then the assertion below says why).
  const blobs = join(dir, 'cache', 'models--org--big', 'blobs');
  let recorded = 0;
  while (child.exitCode === null && child.signalCode === null && (recorded = await recordedBytes(blobs)) < 1024 * 1024) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(recorded >= 1024 * 1024, `child made progress (${stderr.slice(-500)})`);
  child.kill('SIGKILL');
  const { signal } = await exited;
  assert.equal(signal, 'SIGKILL');
  await hub.idle();
  const firstRun = hub.stats().fileBytesSent;
  assert.ok(firstRun < SIZE, 'killed before the end');

  hub.setRateLimit(undefined);
  hub.resetLog();
  const r = await pull({ ...options, retry: FAST_RETRY });
  const secondRun = hub.stats().fileBytesSent;
  const big = r.files.find((f) => f.path === 'model.safetensors');
  assert.equal(big?.status, 'resumed');
  assert.equal(big?.sha256, sha256(WEIGHTS));
  assert.ok(secondRun < SIZE, `second run moved ${secondRun} of ${SIZE} bytes`);
  assert.ok(secondRun <= SIZE - recorded + 2, 'nothing recorded was fetched again');
  // Every CDN answer in the second run was a 206 range, never a whole-file 200.
  assert.ok(hub.log.filter((e) => e.server === 'cdn').every((e) => e.status === 206));
  assert.deepEqual(await readFile(join(r.root, 'model.safetensors')), WEIGHTS);
  assert.equal((await verify({ lockfile: options.lockfile, cacheDir: options.cacheDir, env: {} })).ok, true);
  assert.deepEqual((await readdir(blobs)).filter((n) => n.includes('incomplete')), []);
});
