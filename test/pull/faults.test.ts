/**
 * The transfer engine against the local hub's fault injection: every byte verified, partial data continued with
 * Range requests, retries with backoff honouring Retry-After, expired CDN URLs resolved again, bad bytes never placed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '../support/hub-server/index.ts';
import { pull } from '../../src/transfer/pull.ts';
import { fetchGet } from '../../src/transfer/fetch-get.ts';
import { IntegrityError, NetworkError } from '../../src/errors.ts';
import { FAST_RETRY, collect, pattern, sha256, tempDir } from './helpers.ts';

const BIG = pattern(3 * 1024 * 1024 + 123, 7);
const SMALL = '{"model_type":"llama","hidden_size":64}\n';
const PIECE = 512 * 1024;

async function hubWithRepo(t: { after(fn: () => Promise<void>): void }, options: Parameters<typeof startHubServer>[0] = {}): Promise<HubServer> {
  const hub = await startHubServer(options);
  t.after(() => hub.close());
  await hub.addRepo({ id: 'org/tiny', files: { 'config.json': SMALL, 'model.safetensors': BIG } });
  return hub;
}

async function pullTiny(hub: HubServer, cacheDir: string, extra: Partial<Parameters<typeof pull>[0]> = {}) {
  return pull({
    repo: 'org/tiny',
    endpoint: hub.url,
    cacheDir,
    lockfile: false,
    pieceSize: PIECE,
    concurrency: 4,
    retry: FAST_RETRY,
    env: {},
    ...extra,
  });
}

async function snapshotBytes(result: Awaited<ReturnType<typeof pull>>, path: string): Promise<Buffer> {
  return readFile(join(result.root, path));
}

test('clean pull: parallel ranges, every file hashed and placed', async (t) => {
  const hub = await hubWithRepo(t);
  const dir = await tempDir(t);
  const r = await pullTiny(hub, dir);
  assert.deepEqual(await snapshotBytes(r, 'model.safetensors'), BIG);
  assert.equal((await snapshotBytes(r, 'config.json')).toString(), SMALL);
  const big = r.files.find((f) => f.path === 'model.safetensors');
  assert.equal(big?.sha256, sha256(BIG));
  assert.equal(r.files.find((f) => f.path === 'config.json')?.gitSha1, hub.file('org/tiny', 'config.json').gitOid);
  // Several range requests for the big file, and exactly its bytes sent once.
  const ranges = hub.log.filter((e) => e.server === 'cdn' && e.status === 206);
  assert.ok(ranges.length >= Math.ceil(BIG.length / PIECE), `${ranges.length} ranges`);
  assert.equal(hub.stats().fileBytesSent, BIG.length + SMALL.length);
});

test('truncated body: the piece is continued from where it stopped, not restarted', async (t) => {
  const hub = await hubWithRepo(t);
  const fault = hub.injectFault({ kind: 'truncate', afterBytes: 1000, path: 'model.safetensors', routes: ['cdn'], times: 1 });
  const dir = await tempDir(t);
  const r = await pullTiny(hub, dir);
  assert.equal(fault.applied, 1);
  assert.deepEqual(await snapshotBytes(r, 'model.safetensors'), BIG);
  // The continuation asks for the rest of that piece: a range starting 1000 bytes into some piece.
  const continued = hub.log.filter((e) => e.server === 'cdn' && e.range && Number(/bytes=(\d+)-/.exec(e.range)?.[1]) % PIECE === 1000);
  assert.equal(continued.length, 1);
  assert.equal(hub.stats().fileBytesSent, BIG.length + SMALL.length, 'no byte fetched twice');
});

test('connection reset mid-range: retried with Range, result verified', async (t) => {
  const hub = await hubWithRepo(t);
  const fault = hub.injectFault({ kind: 'reset', afterBytes: 100_000, path: 'model.safetensors', routes: ['cdn'], skip: 1, times: 2 });
  const dir = await tempDir(t);
  const progress = collect();
  const r = await pullTiny(hub, dir, { onProgress: progress.sink });
  assert.equal(fault.applied, 2);
  assert.deepEqual(await snapshotBytes(r, 'model.safetensors'), BIG);
  assert.ok(progress.messages().some((m) => /model\.safetensors: .*retry 1/.test(m)), progress.messages().join('\n'));
  assert.ok(hub.stats().fileBytesSent <= BIG.length + SMALL.length + 2 * PIECE);
});

test('flipped byte once: the file is fetched again and lands verified', async (t) => {
  const hub = await hubWithRepo(t);
  const fault = hub.injectFault({ kind: 'flip', offset: 2_000_000, path: 'model.safetensors', times: 1 });
  const dir = await tempDir(t);
  const progress = collect();
  // One piece, so the first answer surely covers the flipped offset (the server counts the fault per response).
  const r = await pullTiny(hub, dir, { onProgress: progress.sink, pieceSize: 8 * 1024 * 1024 });
  assert.equal(fault.applied, 1);
  assert.deepEqual(await snapshotBytes(r, 'model.safetensors'), BIG);
  assert.ok(progress.messages().some((m) => /model\.safetensors: content does not match/.test(m)));
});

test('flipped byte every time: exit 4 naming file, expected and actual hash; nothing placed', async (t) => {
  const hub = await hubWithRepo(t);
  hub.injectFault({ kind: 'flip', offset: 12345, path: 'model.safetensors' });
  const dir = await tempDir(t);
  const corrupt = Buffer.from(BIG);
  corrupt[12345] = (corrupt[12345] as number) ^ 0xff;
  const error = await pullTiny(hub, dir).then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof IntegrityError, String(error));
  assert.equal(error.exitCode, 4);
  assert.equal(error.code, 'HASH_MISMATCH');
  assert.match(error.message, /model\.safetensors/);
  assert.ok(error.message.includes(sha256(BIG)), 'expected hash named');
  assert.ok(error.message.includes(sha256(corrupt)), 'actual hash named');
  const blobs: string[] = await readdir(join(dir, 'models--org--tiny', 'blobs')).catch(() => []);
  assert.ok(!blobs.includes(sha256(BIG)), 'the bad file never lands under its hash');
  await assert.rejects(stat(join(dir, 'models--org--tiny', 'snapshots', hub.head('org/tiny'), 'model.safetensors')));
});

test('503 then success: retried', async (t) => {
  const hub = await hubWithRepo(t);
  const fault = hub.injectFault({ kind: 'status', status: 503, routes: ['resolve'], times: 2 });
  const dir = await tempDir(t);
  const r = await pullTiny(hub, dir);
  assert.equal(fault.applied, 2);
  assert.deepEqual(await snapshotBytes(r, 'model.safetensors'), BIG);
});

test('503 on the metadata API too: retried by the hub client', async (t) => {
  const hub = await hubWithRepo(t);
  const fault = hub.injectFault({ kind: 'status', status: 503, routes: ['model-info', 'tree'], times: 2 });
  const dir = await tempDir(t);
  const r = await pullTiny(hub, dir);
  assert.equal(fault.applied, 2);
  assert.equal(r.files.length, 2);
});

test('429 with Retry-After: waits at least that long, then succeeds', async (t) => {
  const hub = await hubWithRepo(t);
  hub.injectFault({ kind: 'status', status: 429, retryAfter: 1, routes: ['resolve'], path: 'config.json', times: 1 });
  const dir = await tempDir(t);
  const progress = collect();
  const started = Date.now();
  const r = await pullTiny(hub, dir, { paths: ['config.json'], onProgress: progress.sink });
  assert.ok(Date.now() - started >= 950, 'Retry-After: 1 honoured');
  assert.ok(progress.messages().some((m) => /HTTP 429; retry 1 in 1\.\d s/.test(m)), progress.messages().join('\n'));
  assert.equal((await snapshotBytes(r, 'config.json')).toString(), SMALL);
});

test('a 200 answer to a Range request is never appended: the file restarts from byte 0', async (t) => {
  const hub = await hubWithRepo(t);
  const dir = await tempDir(t);
  // A first run stops half-way (connection keeps failing), leaving a partial with a recorded ETag.
  hub.injectFault({ kind: 'reset', afterBytes: 0, path: 'model.safetensors', routes: ['cdn'], skip: 3 });
  await assert.rejects(pullTiny(hub, dir, { concurrency: 1 }), NetworkError);
  hub.clearFaults();
  const partials = (await readdir(join(dir, 'models--org--tiny', 'blobs'))).filter((n) => n.endsWith('.incomplete'));
  assert.equal(partials.length, 1);
  // The content changes under the same URL: the CDN's ETag no longer matches If-Range, so it answers 200.
  const state = JSON.parse(await readFile(join(dir, 'models--org--tiny', 'blobs', `${partials[0]}.state.json`), 'utf8')) as { etag: string };
  assert.ok(state.etag, 'the ETag of the first answer is recorded for If-Range');
  const stateFile = join(dir, 'models--org--tiny', 'blobs', `${partials[0]}.state.json`);
  await (await import('node:fs/promises')).writeFile(stateFile, JSON.stringify({ ...state, etag: '"stale-etag"' }));
  hub.resetLog();
  const progress = collect();
  const r = await pullTiny(hub, dir, { concurrency: 1, onProgress: progress.sink });
  assert.deepEqual(await snapshotBytes(r, 'model.safetensors'), BIG);
  assert.ok(hub.log.some((e) => e.server === 'cdn' && e.status === 200), 'the server answered 200 to If-Range');
  assert.ok(progress.messages().some((m) => /ignored a Range request/.test(m)));
});

test('expired CDN URL (403 from the CDN): resolved again through the hub', async (t) => {
  const hub = await hubWithRepo(t);
  hub.injectFault({ kind: 'throttle', bytesPerSecond: 8 * 1024 * 1024, path: 'model.safetensors' });
  const dir = await tempDir(t);
  let expired = false;
  const r = await pullTiny(hub, dir, {
    concurrency: 1,
    onProgress: (e) => {
      if (!expired && e.type === 'advance' && e.task === 'pull:model.safetensors' && e.done > PIECE) {
        expired = true;
        hub.expireSignedUrls();
      }
    },
  });
  assert.ok(expired);
  assert.deepEqual(await snapshotBytes(r, 'model.safetensors'), BIG);
  assert.ok(hub.log.some((e) => e.server === 'cdn' && e.status === 403), 'the CDN refused the old URL');
});

test('hub unreachable: exit 6 after retries', async (t) => {
  const hub = await startHubServer();
  const url = hub.url;
  await hub.close();
  const dir = await tempDir(t);
  const error = await pull({ repo: 'org/tiny', endpoint: url, cacheDir: dir, lockfile: false, retry: FAST_RETRY, env: {} }).catch((e: unknown) => e);
  assert.ok(error instanceof NetworkError, String(error));
  assert.equal(error.exitCode, 6);
});

test('503 forever: exit 6 naming the status', async (t) => {
  const hub = await hubWithRepo(t);
  hub.injectFault({ kind: 'status', status: 503, routes: ['resolve'], path: 'config.json' });
  const dir = await tempDir(t);
  const error = await pullTiny(hub, dir, { paths: ['config.json'] }).catch((e: unknown) => e);
  assert.ok(error instanceof NetworkError, String(error));
  assert.equal(error.exitCode, 6);
  assert.match(error.message, /config\.json: download failed after 5 tries \(HTTP 503\)/);
});

test('a file big enough to be hashed on a worker thread: truncated and flipped answers still end verified', async (t) => {
  const big = pattern(33 * 1024 * 1024, 17);
  const hub = await startHubServer();
  t.after(() => hub.close());
  await hub.addRepo({ id: 'org/large', files: { 'model.safetensors': big } });
  hub.injectFault({ kind: 'truncate', afterBytes: 3_000_000, path: 'model.safetensors', routes: ['cdn'], times: 1 });
  const dir = await tempDir(t);
  const progress = collect();
  const r = await pull({ repo: 'org/large', endpoint: hub.url, cacheDir: dir, lockfile: false, retry: FAST_RETRY, env: {}, pieceSize: 4 * 1024 * 1024, onProgress: progress.sink });
  assert.equal(r.files[0]?.sha256, sha256(big));
  assert.ok((await readFile(join(r.root, 'model.safetensors'))).equals(big));
  // Corrupt every answer: the worker's hash catches it.
  hub.injectFault({ kind: 'flip', offset: 20_000_000, path: 'model.safetensors' });
  const other = await tempDir(t);
  const error = await pull({ repo: 'org/large', endpoint: hub.url, cacheDir: other, lockfile: false, retry: FAST_RETRY, env: {}, pieceSize: 4 * 1024 * 1024 }).catch((e: unknown) => e);
  assert.ok(error instanceof IntegrityError, String(error));
  assert.ok(error.message.includes(sha256(big)));
});

test('one file failing stops the other transfers at once; their partials stay for a resume', async (t) => {
  const hub = await startHubServer();
  t.after(() => hub.close());
  const slow = pattern(4 * 1024 * 1024, 23);
  await hub.addRepo({ id: 'org/two', files: { 'slow.safetensors': slow, 'bad.safetensors': pattern(200_000, 24) } });
  hub.injectFault({ kind: 'throttle', bytesPerSecond: 256 * 1024, path: 'slow.safetensors' });
  hub.injectFault({ kind: 'flip', offset: 10, path: 'bad.safetensors' });
  const dir = await tempDir(t);
  const error = await pull({ repo: 'org/two', endpoint: hub.url, cacheDir: dir, lockfile: false, retry: FAST_RETRY, env: {}, concurrency: 2, pieceSize: 8 * 1024 * 1024 }).catch((e: unknown) => e);
  assert.ok(error instanceof IntegrityError, String(error));
  assert.match(error.message, /bad\.safetensors/);
  await hub.idle();
  // The slow file (16 s at its rate) was stopped, not finished: its partial and resume record are there.
  assert.ok(hub.stats((e) => e.file === 'slow.safetensors').fileBytesSent < slow.length);
  const blobs = await readdir(join(dir, 'models--org--two', 'blobs'));
  assert.ok(blobs.includes(`${sha256(slow)}.incomplete`), blobs.join(','));
  assert.ok(blobs.includes(`${sha256(slow)}.incomplete.state.json`), blobs.join(','));
});

test('the engine with another client plugged in (Node fetch, i.e. undici): truncation, resets and a flipped byte still end verified', async (t) => {
  const hub = await hubWithRepo(t);
  hub.injectFault({ kind: 'truncate', afterBytes: 1000, path: 'model.safetensors', routes: ['cdn'], times: 1 });
  hub.injectFault({ kind: 'reset', afterBytes: 50_000, path: 'model.safetensors', routes: ['cdn'], skip: 2, times: 1 });
  const dir = await tempDir(t);
  const r = await pullTiny(hub, dir, { get: fetchGet() });
  assert.deepEqual(await snapshotBytes(r, 'model.safetensors'), BIG);
  assert.equal((await snapshotBytes(r, 'config.json')).toString(), SMALL);
  assert.ok(hub.log.some((e) => e.server === 'cdn' && e.status === 206), 'ranges through the redirect');
  hub.clearFaults();
  hub.injectFault({ kind: 'flip', offset: 12345, path: 'model.safetensors' });
  const error = await pullTiny(hub, await tempDir(t), { get: fetchGet() }).catch((e: unknown) => e);
  assert.ok(error instanceof IntegrityError, String(error));
});
