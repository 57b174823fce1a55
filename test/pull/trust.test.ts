/**
 * "Verified" means checked in this run, or proven unchanged since it was checked (issue 17 §1): a cached copy changed
 * in place is re-hashed, removed and fetched again; a verification record counts only while the file's device, inode,
 * size, mtime and ctime are what they were when it was hashed; --frozen re-hashes everything; --force-download
 * fetches everything again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '../support/hub-server/index.ts';
import { pull, type PullOptions } from '../../src/transfer/pull.ts';
import { FAST_RETRY, collect, pattern, sha256, tempDir } from './helpers.ts';

const WEIGHTS = pattern(700_000, 31);
const CONFIG = '{"model_type":"llama"}\n';

async function hub(t: { after(fn: () => Promise<void>): void }): Promise<HubServer> {
  const server = await startHubServer();
  t.after(() => server.close());
  await server.addRepo({ id: 'org/trust', files: { 'config.json': CONFIG, 'model.safetensors': WEIGHTS } });
  return server;
}

function opts(server: HubServer, dir: string, extra: Partial<PullOptions> = {}): PullOptions {
  return { repo: 'org/trust', endpoint: server.url, cacheDir: join(dir, 'cache'), lockfile: join(dir, 'llama.lock.json'), retry: FAST_RETRY, pieceSize: 256 * 1024, env: {}, ...extra };
}

/** Flip one byte in place: same size, same name, other bytes. */
async function tamper(path: string, offset = 1000): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = (bytes[offset] as number) ^ 0xff;
  await writeFile(path, bytes);
}

const checked = (r: Awaited<ReturnType<typeof pull>>) => Object.fromEntries(r.files.map((f) => [f.path, `${f.status}/${f.checked}`]));

test('a cached blob changed in place is hashed, removed and downloaded again, with or without --frozen', async (t) => {
  const server = await hub(t);
  const dir = await tempDir(t);
  await pull(opts(server, dir));
  const blob = join(dir, 'cache', 'models--org--trust', 'blobs', sha256(WEIGHTS));

  for (const frozen of [false, true]) {
    await tamper(blob);
    const progress = collect();
    server.resetLog();
    const r = await pull(opts(server, dir, { frozen, onProgress: progress.sink }));
    assert.equal(checked(r)['model.safetensors'], 'replaced/hashed', `frozen=${frozen}`);
    assert.deepEqual(await readFile(join(r.root, 'model.safetensors')), WEIGHTS, 'the good bytes are served');
    assert.equal(server.stats((e) => e.server === 'cdn').fileBytesSent, WEIGHTS.length, 'fetched again');
    assert.ok(
      progress.messages().some((m) => /model\.safetensors: the copy here does not match its sha256 .*; removed, downloading it again/.test(m)),
      progress.messages().join('\n'),
    );
  }
});

test('a verification record counts only while the file is unchanged (mtime, ctime, inode); otherwise it is hashed now', async (t) => {
  const server = await hub(t);
  const dir = await tempDir(t);
  const first = await pull(opts(server, dir));
  assert.deepEqual(checked(first), { 'config.json': 'downloaded/hashed', 'model.safetensors': 'downloaded/hashed' });

  const again = await pull(opts(server, dir));
  assert.deepEqual(checked(again), { 'config.json': 'present/record', 'model.safetensors': 'present/record' });

  // Same bytes, new mtime: the record no longer proves anything, so the file is read again (and found good).
  const blob = join(dir, 'cache', 'models--org--trust', 'blobs', sha256(WEIGHTS));
  await utimes(blob, new Date(), new Date(Date.now() - 3_600_000));
  const touched = await pull(opts(server, dir));
  assert.equal(checked(touched)['model.safetensors'], 'present/hashed');
  assert.equal(checked(touched)['config.json'], 'present/record');
  // Rewritten with the same bytes (ctime moves even if mtime is put back): hashed again.
  const stamp = new Date(Date.now() - 7_200_000);
  await utimes(blob, stamp, stamp);
  assert.equal(checked(await pull(opts(server, dir)))['model.safetensors'], 'present/hashed');
  await writeFile(blob, WEIGHTS);
  await utimes(blob, stamp, stamp);
  assert.equal(checked(await pull(opts(server, dir)))['model.safetensors'], 'present/hashed');
  assert.equal(checked(await pull(opts(server, dir)))['model.safetensors'], 'present/record');
});

test('--frozen re-hashes every file, records or not', async (t) => {
  const server = await hub(t);
  const dir = await tempDir(t);
  await pull(opts(server, dir));
  await pull(opts(server, dir));
  const r = await pull(opts(server, dir, { frozen: true }));
  assert.deepEqual(checked(r), { 'config.json': 'present/hashed', 'model.safetensors': 'present/hashed' });
});

test('--force-download fetches every file again, as hf download --force-download does', async (t) => {
  const server = await hub(t);
  const dir = await tempDir(t);
  await pull(opts(server, dir));
  server.resetLog();
  const r = await pull(opts(server, dir, { forceDownload: true }));
  assert.deepEqual(checked(r), { 'config.json': 'downloaded/hashed', 'model.safetensors': 'downloaded/hashed' });
  assert.equal(server.stats().fileBytesSent, WEIGHTS.length + CONFIG.length);
});

test('--local-dir: a file changed in place within the same second is caught, replaced and reported', async (t) => {
  const server = await hub(t);
  const dir = await tempDir(t);
  const local = join(dir, 'out');
  await pull(opts(server, dir, { localDir: local }));
  await tamper(join(local, 'model.safetensors'));
  const r = await pull(opts(server, dir, { localDir: local }));
  assert.equal(checked(r)['model.safetensors'], 'replaced/hashed');
  assert.deepEqual(await readFile(join(local, 'model.safetensors')), WEIGHTS);
});
