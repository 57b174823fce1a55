/**
 * Every fault the server can inject, observed from a raw HTTP client (what was announced versus what arrived), plus
 * the rate cap, files streamed from disk, and the request counters tests build on.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { downloadFile } from '@huggingface/hub';
import { startHubServer, type HubServer } from '../support/hub-server/index.ts';
import { pace } from '../support/hub-server/content.ts';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const DATA = randomBytes(200_000);
const SMALL = Buffer.from('x'.repeat(5000));

interface RawResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  error: string | undefined;
}

/** GET with node:http and report what actually arrived, including a cut connection. */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = request(url, { headers, agent: false }, (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      let error: string | undefined;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e: NodeJS.ErrnoException) => {
        error = e.code ?? e.message;
      });
      res.on('close', () => {
        if (!res.complete && error === undefined) error = 'incomplete';
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), error });
      });
    });
    // After a response started, a reset also fails the request; the response's 'close' reports it.
    req.on('error', (e) => {
      if (!responded) reject(e);
    });
    req.end();
  });
}

describe('hub server faults', () => {
  let hub: HubServer;
  let cdnLocation: string;
  let smallUrl: string;

  before(async () => {
    hub = await startHubServer({ resolveCacheRedirect: false });
    await hub.addRepo({ id: 'org/faulty', files: { 'model.safetensors': DATA, 'small.txt': SMALL, 'other.txt': 'other\n' } });
    const res = await fetch(`${hub.url}/org/faulty/resolve/main/model.safetensors`, { redirect: 'manual' });
    cdnLocation = res.headers.get('location') ?? '';
    smallUrl = `${hub.url}/org/faulty/resolve/main/small.txt`;
  });
  after(() => hub.close());
  afterEach(() => hub.clearFaults());

  it('status: 503 with Retry-After for the next N requests of one file, then normal service', async () => {
    const fault = hub.injectFault({ kind: 'status', status: 503, retryAfter: 7, path: 'small.txt', times: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await rawGet(smallUrl);
      statuses.push(res.status);
      if (res.status === 503) assert.equal(res.headers['retry-after'], '7');
    }
    assert.deepEqual(statuses, [503, 503, 200]);
    assert.equal((await rawGet(`${hub.url}/org/faulty/resolve/main/other.txt`)).status, 200, 'other files are untouched');
    assert.equal(fault.applied, 2);
    fault.remove();
  });

  it('status: 429 on API routes after letting some through, with a JSON body', async () => {
    const fault = hub.injectFault({ kind: 'status', status: 429, retryAfter: 1, routes: ['tree'], skip: 1, times: 1 });
    const tree = `${hub.url}/api/models/org/faulty/tree/main`;
    const results = [await rawGet(tree), await rawGet(tree), await rawGet(tree)];
    assert.deepEqual(results.map((r) => r.status), [200, 429, 200]);
    assert.deepEqual(JSON.parse(results[1]?.body.toString() ?? ''), { error: 'Too Many Requests' });
    assert.equal((await rawGet(`${hub.url}/api/models/org/faulty`)).status, 200);
    assert.deepEqual([fault.seen, fault.applied], [3, 1]);
    fault.remove();
  });

  it('truncate: the full length is announced, the connection closes after N bytes', async () => {
    const fault = hub.injectFault({ kind: 'truncate', afterBytes: 1000, path: 'model.safetensors', times: 1 });
    const cut = await rawGet(cdnLocation);
    assert.equal(cut.status, 200);
    assert.equal(cut.headers['content-length'], String(DATA.byteLength));
    assert.equal(cut.body.byteLength, 1000);
    assert.deepEqual(cut.body, DATA.subarray(0, 1000));
    assert.ok(cut.error, 'the client sees an incomplete body');
    await hub.idle();
    const entry = hub.log.findLast((e) => e.route === 'cdn');
    assert.deepEqual([entry?.bytesSent, entry?.faults], [1000, ['truncate:1000']]);

    // Resume the rest with Range + If-Range, as a client should; the bytes join up.
    const rest = await rawGet(cdnLocation, { Range: 'bytes=1000-', 'If-Range': String(cut.headers.etag) });
    assert.equal(rest.status, 206);
    assert.equal(sha256(Buffer.concat([cut.body, rest.body])), sha256(DATA));
    assert.equal(fault.applied, 1);
  });

  it('truncate through the official client surfaces as a failed download', async () => {
    const fault = hub.injectFault({ kind: 'truncate', afterBytes: 10, path: 'small.txt', routes: ['resolve'], skip: 1 });
    const blob = await downloadFile({ repo: 'org/faulty', path: 'small.txt', hubUrl: hub.url });
    await assert.rejects(async () => blob?.arrayBuffer());
    fault.remove();
  });

  it('reset: the connection is reset after N bytes', async () => {
    const fault = hub.injectFault({ kind: 'reset', afterBytes: 3000, repo: 'org/faulty', path: 'model.safetensors' });
    const cut = await rawGet(cdnLocation);
    assert.ok(cut.body.byteLength <= 3000);
    assert.ok(cut.error);
    assert.deepEqual(cut.body, DATA.subarray(0, cut.body.byteLength));
    fault.remove();
    await hub.idle();
    assert.deepEqual(hub.log.findLast((e) => e.route === 'cdn')?.faults, ['reset:3000']);
  });

  it('flip: one byte at a file offset differs, whatever range covers it; same length', async () => {
    const fault = hub.injectFault({ kind: 'flip', offset: 150_000, path: 'model.safetensors' });
    const whole = await rawGet(cdnLocation);
    assert.equal(whole.body.byteLength, DATA.byteLength);
    const diffs = [...whole.body.keys()].filter((i) => whole.body[i] !== DATA[i]);
    assert.deepEqual(diffs, [150_000]);
    assert.equal(whole.body[150_000], (DATA[150_000] ?? 0) ^ 0xff);
    const part = await rawGet(cdnLocation, { Range: 'bytes=149990-150009' });
    assert.equal(part.status, 206);
    assert.deepEqual([...part.body.keys()].filter((i) => part.body[i] !== DATA[149_990 + i]), [10]);
    const before = await rawGet(cdnLocation, { Range: 'bytes=0-99' });
    assert.deepEqual(before.body, DATA.subarray(0, 100));
    assert.equal(fault.applied, 3);
    fault.remove();
  });

  it('stall: N bytes, then silence; the body completes after the pause or the client gives up', async () => {
    hub.injectFault({ kind: 'stall', afterBytes: 1000, ms: 300, path: 'model.safetensors', times: 1 });
    const started = performance.now();
    const slow = await rawGet(cdnLocation);
    assert.ok(performance.now() - started >= 280);
    assert.equal(sha256(slow.body), sha256(DATA));

    hub.injectFault({ kind: 'stall', afterBytes: 1000, ms: Infinity, path: 'model.safetensors', times: 1 });
    const abort = new AbortController();
    const res = await fetch(cdnLocation, { signal: abort.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let got = 0;
    while (got < 1000) {
      const part = await reader.read();
      if (part.done) break;
      got += part.value.byteLength;
    }
    const timer = setTimeout(() => abort.abort(), 100);
    await assert.rejects(reader.read());
    clearTimeout(timer);
    assert.equal(got, 1000);
    await hub.idle();
    assert.deepEqual(hub.log.findLast((e) => e.route === 'cdn')?.faults, ['stall:1000']);
  });

  it('rate cap: a throttled transfer takes at least size/rate; bytes still arrive intact', async () => {
    const fault = hub.injectFault({ kind: 'throttle', bytesPerSecond: 400_000, path: 'model.safetensors' });
    const started = performance.now();
    const res = await rawGet(cdnLocation);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(sha256(res.body), sha256(DATA));
    // 200 kB at 400 kB/s: the first chunk (8 kB) leaves at once, the rest is paced. Only a lower bound: a loaded
    // machine makes it slower, never faster.
    assert.ok(seconds >= 0.45, `took ${seconds}s`);
    fault.remove();
  });

  it('the per-connection cap applies to every byte-serving route and can be changed at run time', async () => {
    hub.setRateLimit(1_000_000);
    try {
      const started = performance.now();
      const [a, b] = await Promise.all([rawGet(cdnLocation), rawGet(cdnLocation)]);
      const seconds = (performance.now() - started) / 1000;
      assert.equal(sha256(a?.body ?? Buffer.alloc(0)), sha256(DATA));
      assert.equal(sha256(b?.body ?? Buffer.alloc(0)), sha256(DATA));
      // Each connection is capped: 200 kB at 1 MB/s takes at least 0.2 s (less the first chunk). Whether the cap is
      // per connection rather than global is shown without a clock below.
      assert.ok(seconds >= 0.15, `took ${seconds}s`);
    } finally {
      hub.setRateLimit(undefined);
    }
  });

  it('the cap is per connection: what one connection has sent does not make another wait', () => {
    const busy = new Socket();
    const idle = new Socket();
    // One second's worth of bytes on one connection, half a millisecond's worth on another.
    const busyWait = pace(busy, 1_000_000, 1_000_000);
    const idleWait = pace(idle, 500, 1_000_000);
    assert.ok(busyWait > 500, `the busy connection waits (${busyWait} ms)`);
    // A global cap would make the second connection wait for the first one's second too.
    assert.equal(idleWait, 0);
    // And the busy connection's next bytes wait longer still: its own budget, not a shared one, is spent.
    assert.ok(pace(busy, 1_000_000, 1_000_000) > busyWait);
  });

  it('counts requests and bytes so a test can compare runs', async () => {
    hub.resetLog();
    await rawGet(cdnLocation);
    await rawGet(cdnLocation, { Range: `bytes=${DATA.byteLength - 100}-` });
    await hub.idle();
    const stats = hub.stats();
    assert.equal(stats.requests, 2);
    assert.equal(stats.fileBytesSent, DATA.byteLength + 100);
    assert.deepEqual(stats.byStatus, { '200': 1, '206': 1 });
    assert.deepEqual(hub.log.map((e) => e.range), [undefined, `bytes=${DATA.byteLength - 100}-`]);
  });
});

describe('hub server with files on disk', () => {
  let dir: string;
  let hub: HubServer;
  // Above 64 MiB, so the two-worker hashing path is the one exercised.
  const size = 65 * 1024 * 1024 + 123;
  let digest: string;
  let gitOid: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hub-disk-'));
    const path = join(dir, 'big.bin');
    const hash = createHash('sha256');
    const sha1 = createHash('sha1').update(`blob ${size}\0`);
    const out = createWriteStream(path);
    for (let written = 0; written < size; ) {
      const chunk = randomBytes(Math.min(1 << 20, size - written));
      hash.update(chunk);
      sha1.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      written += chunk.byteLength;
    }
    await new Promise<void>((r) => out.end(() => r()));
    digest = hash.digest('hex');
    gitOid = sha1.digest('hex');
    hub = await startHubServer();
    await hub.addRepo({ id: 'org/disk', files: { 'weights.gguf': { path }, 'notes.txt': { path } } });
  });
  after(async () => {
    await hub.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes a disk file once when added and streams it, ranges included', async () => {
    const facts = hub.file('org/disk', 'weights.gguf');
    assert.deepEqual([facts.sha256, facts.gitOid, facts.size, facts.lfs], [digest, gitOid, size, true]);
    assert.equal(hub.file('org/disk', 'notes.txt').lfs, true, 'over 10 MB is always LFS');

    const res = await fetch(`${hub.url}/org/disk/resolve/main/weights.gguf`);
    const hash = createHash('sha256');
    let got = 0;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      got += chunk.byteLength;
    }
    assert.equal(got, size);
    assert.equal(hash.digest('hex'), digest);

    const tail = await fetch(`${hub.url}/org/disk/resolve/main/weights.gguf`, { headers: { Range: `bytes=${size - 10}-` } });
    assert.equal(tail.status, 206);
    assert.equal((await tail.arrayBuffer()).byteLength, 10);
  });
});
