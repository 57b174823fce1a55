/**
 * How the engine spreads its connections (issue 15 §1): a file uses at most CONNECTIONS_PER_FILE of them, several
 * files share the whole budget, a file smaller than 8 × 16 MiB is still cut into one piece per connection, and
 * pieces issued after the memory budget is spent are written to disk and hashed from there, so connections never
 * wait on memory and the digests stay right.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { TransferEngine } from '../../src/transfer/engine.ts';
import type { GetOptions, HttpAnswer } from '../../src/transfer/http-types.ts';
import { pattern, sha256, tempDir } from './helpers.ts';

const CONNECTIONS_PER_FILE = 8;
const MiB = 1024 * 1024;

/** A GET over in-memory files that answers ranges in small, slightly delayed chunks and counts open answers. */
function fakeServer(files: Record<string, Buffer>): { get: (url: string, o: GetOptions) => Promise<HttpAnswer>; peak: () => number; perFilePeak: () => Map<string, number> } {
  let open = 0;
  let peak = 0;
  const openByFile = new Map<string, number>();
  const peakByFile = new Map<string, number>();
  const get = async (url: string, o: GetOptions): Promise<HttpAnswer> => {
    const name = new URL(url).pathname.slice(1);
    const data = files[name];
    if (data === undefined) throw new Error(`no file ${name}`);
    const m = /^bytes=(\d+)-(\d+)$/.exec(o.headers.range ?? '');
    const from = m ? Number(m[1]) : 0;
    const to = m ? Number(m[2]) : data.length - 1;
    open++;
    peak = Math.max(peak, open);
    openByFile.set(name, (openByFile.get(name) ?? 0) + 1);
    peakByFile.set(name, Math.max(peakByFile.get(name) ?? 0, openByFile.get(name)!));
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      open--;
      openByFile.set(name, openByFile.get(name)! - 1);
    };
    const body = {
      async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
        try {
          for (let at = from; at <= to; at += 256 * 1024) {
            await new Promise((r) => setTimeout(r, 2));
            yield Buffer.from(data.subarray(at, Math.min(to + 1, at + 256 * 1024)));
          }
        } finally {
          close();
        }
      },
      destroy: close,
    };
    return {
      status: 206,
      headers: { 'content-range': `bytes ${from}-${to}/${data.length}`, etag: '"e"' },
      body,
      url,
    };
  };
  return { get, peak: () => peak, perFilePeak: () => peakByFile };
}

function engine(get: (url: string, o: GetOptions) => Promise<HttpAnswer>, extra: { concurrency: number; memoryBudget?: number }): TransferEngine {
  return new TransferEngine({ endpoint: 'http://hub.test', get, repo: 'org/model', tokenGiven: false, ...extra });
}

test('four 24 MiB files with 32 connections: 8 to each at once, 32 in all, every digest right', async (t) => {
  const dir = await tempDir(t);
  const files = Object.fromEntries([1, 2, 3, 4].map((i) => [`f${i}.bin`, pattern(24 * MiB, i)]));
  const server = fakeServer(files);
  const e = engine(server.get, { concurrency: 32 });
  const outs = await Promise.all(Object.entries(files).map(([name, data]) =>
    e.transfer({ repoPath: name, size: data.length, expectedSha256: sha256(data), url: `http://hub.test/${name}`, partialPath: join(dir, `${name}.part`) })));
  for (const [i, [name, data]] of Object.entries(files).entries()) {
    assert.equal(outs[i]!.sha256, sha256(data), name);
    assert.ok((await readFile(join(dir, `${name}.part`))).equals(data), name);
  }
  // 24 MiB is cut into 3 MiB pieces, one per connection (before: 16 MiB pieces, two connections per file)
  for (const [name, n] of server.perFilePeak()) assert.equal(n, CONNECTIONS_PER_FILE, name);
  assert.equal(server.peak(), 32);
});

test('one file never uses more than 8 connections, and the budget caps the total', async (t) => {
  const dir = await tempDir(t);
  const data = pattern(40 * MiB, 9);
  const a = fakeServer({ 'big.bin': data });
  await engine(a.get, { concurrency: 32 }).transfer({ repoPath: 'big.bin', size: data.length, expectedSha256: sha256(data), url: 'http://hub.test/big.bin', partialPath: join(dir, 'a.part') });
  assert.equal(a.peak(), CONNECTIONS_PER_FILE);
  const b = fakeServer({ 'big.bin': data });
  await engine(b.get, { concurrency: 3 }).transfer({ repoPath: 'big.bin', size: data.length, expectedSha256: sha256(data), url: 'http://hub.test/big.bin', partialPath: join(dir, 'b.part') });
  assert.equal(b.peak(), 3);
});

test('memory budget spent: pieces ahead go to disk and are hashed from there; connections do not wait', async (t) => {
  const dir = await tempDir(t);
  const data = pattern(32 * MiB, 5);
  const server = fakeServer({ 'x.bin': data });
  // 1 MiB of budget: before, only the piece at the cursor and none ahead could run (one connection)
  const out = await engine(server.get, { concurrency: 8, memoryBudget: MiB }).transfer({
    repoPath: 'x.bin', size: data.length, expectedSha256: sha256(data), url: 'http://hub.test/x.bin', partialPath: join(dir, 'x.part'),
  });
  assert.equal(out.sha256, sha256(data));
  assert.equal(server.peak(), 8);
  assert.ok((await readFile(join(dir, 'x.part'))).equals(data));
});

test('a spilled piece with wrong bytes on the wire is caught by the hash read back from disk', async (t) => {
  const dir = await tempDir(t);
  const data = pattern(16 * MiB, 6);
  const wire = Buffer.from(data);
  wire[15 * MiB] = (wire[15 * MiB]! + 1) & 0xff; // in the last piece, which runs ahead of the cursor
  const server = fakeServer({ 'x.bin': wire });
  const e = new TransferEngine({ endpoint: 'http://hub.test', get: server.get, repo: 'org/model', tokenGiven: false, concurrency: 8, memoryBudget: MiB, fileAttempts: 1 });
  await assert.rejects(
    e.transfer({ repoPath: 'x.bin', size: data.length, expectedSha256: sha256(data), url: 'http://hub.test/x.bin', partialPath: join(dir, 'x.part') }),
    /does not match/,
  );
});
