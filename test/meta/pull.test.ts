/**
 * `pull meta:…` against a local stand-in for Meta's CDN (test/support/meta-cdn): every file checked against
 * checklist.chk (md5) and its sha256 locked; a spent link is exit 5 with the completed files kept and a new link
 * resuming; an HTML checklist is exit 4; a 416 while resuming fetches the file again; the manifest form.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startMetaCdn } from '../support/meta-cdn/index.ts';
import { pullMeta } from '../../src/meta/pull.ts';
import { parseChecklist } from '../../src/meta/checklist.ts';
import { LlamaError } from '../../src/errors.ts';
import type { HttpGet } from '../../src/transfer/http-types.ts';
import { HttpClient } from '../../src/transfer/http.ts';
import { FAST_RETRY, sha256, tempDir } from '../pull/helpers.ts';
import { FOLDER, md5, release } from './helpers.ts';

const PIECE = 1024 * 1024;

async function rejectsWith(promise: Promise<unknown>, code: string, exitCode: number): Promise<LlamaError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof LlamaError, `a typed error, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.exitCode, exitCode);
    return error;
  }
  assert.fail(`expected ${code}`);
}

test('a release is fetched with parallel ranges, each file matches checklist.chk, sha256 is locked, no secret is', async (t) => {
  const files = release();
  const cdn = await startMetaCdn({ folders: { [FOLDER]: files } });
  t.after(() => cdn.close());
  const dir = await tempDir(t, 'llama-meta-');
  const lockfile = join(dir, 'llama.lock.json');
  const result = await pullMeta({ modelId: FOLDER, url: cdn.presignedUrl, localDir: join(dir, 'model'), lockfile, pieceSize: PIECE, retry: FAST_RETRY, env: {} });

  for (const name of ['consolidated.00.pth', 'consolidated.01.pth', 'params.json', 'tokenizer.model', 'checklist.chk']) {
    const here = await readFile(join(dir, 'model', name));
    assert.equal(md5(here), md5(files[name] as Uint8Array), name);
  }
  const byPath = new Map(result.files.map((f) => [f.path, f]));
  assert.equal(byPath.get('consolidated.00.pth')?.md5, md5(files['consolidated.00.pth'] as Uint8Array));
  assert.equal(byPath.get('consolidated.00.pth')?.status, 'downloaded');
  // Several range requests for the 3 MiB shard (1 MiB pieces), none of them a HEAD.
  const ranges = cdn.requests.filter((r) => r.path === `${FOLDER}/consolidated.00.pth` && r.status === 206);
  assert.ok(ranges.length >= 4, `ranged pieces: ${JSON.stringify(ranges)}`);
  assert.ok(cdn.requests.every((r) => r.method === 'GET'));
  assert.deepEqual(result.unavailable.sort(), ['LICENSE', 'USE_POLICY.md']);

  const lockText = await readFile(lockfile, 'utf8');
  const lock = JSON.parse(lockText) as { repos: Record<string, { revision: string; commit: string; localDir: string; files: Record<string, { size: number; sha256: string }> }> };
  const entry = lock.repos[`meta:${FOLDER}`];
  assert.ok(entry, lockText);
  assert.equal(entry.revision, 'checklist.chk');
  assert.equal(entry.localDir, 'model');
  assert.equal(entry.files['consolidated.01.pth']?.sha256, sha256(files['consolidated.01.pth'] as Uint8Array));
  assert.equal(entry.files['checklist.chk']?.sha256, sha256(Buffer.from(files['checklist.chk'] as string)));
  for (const secret of cdn.query.split('&').map((p) => p.split('=')[1] as string)) assert.ok(!lockText.includes(secret), 'no query value in the lockfile');
  assert.ok(!lockText.includes('127.0.0.1'), 'no host in the lockfile');

  // A second run with the same link: everything is here and matches; only nothing but the optional probes is asked.
  const before = cdn.downloads();
  const again = await pullMeta({ modelId: FOLDER, url: cdn.presignedUrl, localDir: join(dir, 'model'), lockfile, env: {} });
  assert.ok(again.files.every((f) => f.status === 'present'));
  assert.equal(cdn.downloads(), before, 'no download of the link budget spent on files already here');
  assert.equal(again.lockfile?.updated, false);
});

test('a spent link (403) is exit 5 saying to request a new one; completed files are kept and a new link resumes', async (t) => {
  const files = release();
  // checklist + 4 size probes + 4 pieces of shard 00 (3 MiB + 123) + 1 piece of shard 01, then 403.
  const cdn = await startMetaCdn({ folders: { [FOLDER]: files }, maxDownloads: 10 });
  t.after(() => cdn.close());
  const dir = await tempDir(t, 'llama-meta-');
  const localDir = join(dir, 'model');
  const options = { modelId: FOLDER, localDir, lockfile: join(dir, 'llama.lock.json'), pieceSize: PIECE, concurrency: 1, retry: FAST_RETRY, env: {} };
  const error = await rejectsWith(pullMeta({ ...options, url: cdn.presignedUrl }), 'META_LINK_EXPIRED', 5);
  assert.match(error.message, /expired|used up/);
  assert.match(error.hint, /new link/);
  assert.match(error.hint, /kept/);
  assert.ok(!`${error.message} ${error.hint}`.includes(cdn.query.split('&')[1]?.split('=')[1] as string), 'no signature in the error');
  const shard0 = await readFile(join(localDir, 'consolidated.00.pth'));
  assert.equal(md5(shard0), md5(files['consolidated.00.pth'] as Uint8Array), 'the completed shard is in place');
  await assert.rejects(readFile(join(dir, 'llama.lock.json')), 'no lockfile from a failed run');

  const fresh = await startMetaCdn({ folders: { [FOLDER]: files } });
  t.after(() => fresh.close());
  const result = await pullMeta({ ...options, url: fresh.presignedUrl });
  const status = new Map(result.files.map((f) => [f.path, f.status]));
  assert.equal(status.get('consolidated.00.pth'), 'present');
  assert.equal(status.get('consolidated.01.pth'), 'resumed');
  assert.ok(!fresh.requests.some((r) => r.path.endsWith('consolidated.00.pth')), 'the completed shard is not fetched again');
  assert.equal(md5(await readFile(join(localDir, 'consolidated.01.pth'))), md5(files['consolidated.01.pth'] as Uint8Array));
});

test("a checklist that is Facebook's HTML page is exit 4 saying so, and no weights are fetched", async (t) => {
  const cdn = await startMetaCdn({ folders: { [FOLDER]: release() }, checklistAsHtml: true });
  t.after(() => cdn.close());
  const dir = await tempDir(t, 'llama-meta-');
  const error = await rejectsWith(pullMeta({ modelId: FOLDER, url: cdn.presignedUrl, localDir: join(dir, 'model'), lockfile: false, env: {} }), 'META_CHECKLIST_HTML', 4);
  assert.match(error.message, /HTML page/);
  assert.ok(!cdn.requests.some((r) => r.path.endsWith('.pth')));
});

test('a file whose md5 differs from checklist.chk is exit 4 and is not placed', async (t) => {
  const files = release();
  files['consolidated.01.pth'] = Buffer.from(files['consolidated.01.pth'] as Uint8Array).fill(7, 100, 101);
  // The checklist still names the original bytes.
  files['checklist.chk'] = release()['checklist.chk'] as string;
  const cdn = await startMetaCdn({ folders: { [FOLDER]: files } });
  t.after(() => cdn.close());
  const dir = await tempDir(t, 'llama-meta-');
  const error = await rejectsWith(pullMeta({ modelId: FOLDER, url: cdn.presignedUrl, localDir: join(dir, 'model'), lockfile: false, pieceSize: PIECE, retry: FAST_RETRY, env: {} }), 'HASH_MISMATCH', 4);
  assert.match(error.message, /md5/);
  assert.match(error.message, /checklist\.chk/);
  assert.ok(!(await readdir(join(dir, 'model'))).includes('consolidated.01.pth'));
});

test('a 416 while resuming a partial drops it and fetches the file again (not fatal)', async (t) => {
  const files = release();
  // The first answer of shard 00 breaks after 1.5 MiB, so a partial with a resume record is left; the test's HTTP
  // client then turns the first continuing range into a 416.
  const cdn = await startMetaCdn({ folders: { [FOLDER]: files }, maxDownloads: 6 });
  t.after(() => cdn.close());
  const dir = await tempDir(t, 'llama-meta-');
  const localDir = join(dir, 'model');
  const base = { modelId: FOLDER, localDir, lockfile: false as const, pieceSize: PIECE, concurrency: 1, retry: FAST_RETRY, env: {} };
  await rejectsWith(pullMeta({ ...base, url: cdn.presignedUrl }), 'META_LINK_EXPIRED', 5);
  const partials = await readdir(join(localDir, '.llama-dist', 'partial'));
  assert.ok(partials.some((n) => n.endsWith('.state.json')), `a resume record is left: ${partials.join(', ')}`);

  const fresh = await startMetaCdn({ folders: { [FOLDER]: files } });
  t.after(() => fresh.close());
  const client = new HttpClient().get;
  let injected = 0;
  const get: HttpGet = async (url, options) => {
    const from = Number(/^bytes=(\d+)-/.exec(options.headers.range ?? '')?.[1] ?? 0);
    if (injected === 0 && from > 0 && url.includes('consolidated.00.pth')) {
      injected++;
      const empty = (async function* () {})();
      return { status: 416, headers: { 'content-range': 'bytes */1' }, url, body: Object.assign(empty, { destroy: () => {} }) };
    }
    return client(url, options);
  };
  const messages: string[] = [];
  const result = await pullMeta({ ...base, url: fresh.presignedUrl, get, onProgress: (e) => e.type === 'message' && messages.push(e.text) });
  assert.equal(injected, 1, 'the 416 was met');
  assert.ok(messages.some((m) => /416/.test(m)), messages.join('\n'));
  assert.equal(md5(await readFile(join(localDir, 'consolidated.00.pth'))), md5(files['consolidated.00.pth'] as Uint8Array));
  assert.equal(result.files.length, 4);
});

test('--manifest: the per-file URLs of the manifest; an expired manifest is exit 5', async (t) => {
  const files = release();
  const cdn = await startMetaCdn({ folders: { [FOLDER]: files } });
  t.after(() => cdn.close());
  const dir = await tempDir(t, 'llama-meta-');
  const names = Object.keys(files);
  const manifest = (expires: string): string =>
    JSON.stringify({ models: [{ model_id: 'Llama3.2-1B', files: Object.fromEntries(names.map((n) => [n, cdn.fileUrl(FOLDER, n)])) }], expires_on: expires });
  await writeFile(join(dir, 'old.json'), manifest('2020-01-01T00:00:00Z'));
  const expired = await rejectsWith(pullMeta({ modelId: 'Llama3.2-1B', manifest: join(dir, 'old.json'), localDir: join(dir, 'm'), lockfile: false, env: {} }), 'META_LINK_EXPIRED', 5);
  assert.match(expired.hint, /new download link/);
  assert.equal(cdn.requests.length, 0);

  await writeFile(join(dir, 'manifest.json'), manifest(new Date(Date.now() + 86_400_000).toISOString()));
  const result = await pullMeta({ modelId: 'Llama3.2-1B', manifest: join(dir, 'manifest.json'), localDir: join(dir, 'm'), lockfile: false, env: {} });
  assert.equal(result.folder, 'Llama-3.2-1B');
  assert.equal(result.files.filter((f) => f.md5 !== undefined).length, 4);
  // The manifest lists no LICENSE: it is not asked for.
  assert.ok(!cdn.requests.some((r) => r.path.endsWith('LICENSE')));
});

test('checklist.chk lines: md5sum format, ./ optional, unsafe paths and junk refused', () => {
  const list = parseChecklist('0123456789abcdef0123456789ABCDEF  ./consolidated.00.pth\nfedcba9876543210fedcba9876543210 *params.json\n\n');
  assert.equal(list.get('consolidated.00.pth'), '0123456789abcdef0123456789abcdef');
  assert.equal(list.get('params.json'), 'fedcba9876543210fedcba9876543210');
  assert.throws(() => parseChecklist('0123456789abcdef0123456789abcdef  ../etc/passwd\n'), /line 1/);
  assert.throws(() => parseChecklist('not a checklist\n'), (e: LlamaError) => e.code === 'META_CHECKLIST_INVALID');
  assert.throws(() => parseChecklist(''), (e: LlamaError) => e.code === 'META_CHECKLIST_EMPTY');
  assert.throws(() => parseChecklist('  <html><body>x</body></html>'), (e: LlamaError) => e.code === 'META_CHECKLIST_HTML');
});

test('a link without * or without https is a usage error; model ids map to Meta folders', async (t) => {
  const dir = await tempDir(t, 'llama-meta-');
  await mkdir(join(dir, 'm'));
  await rejectsWith(pullMeta({ modelId: FOLDER, url: 'https://llama3-2.llamameta.net/x?Policy=abc', localDir: join(dir, 'm'), lockfile: false, env: {} }), 'META_URL_INVALID', 2);
  await rejectsWith(pullMeta({ modelId: FOLDER, url: 'http://example.com/*?Policy=abc', localDir: join(dir, 'm'), lockfile: false, env: {} }), 'META_URL_INVALID', 2);
  await rejectsWith(pullMeta({ modelId: FOLDER, localDir: join(dir, 'm'), lockfile: false, env: {} }), 'META_SOURCE_MISSING', 2);
  const { metaFolder } = await import('../../src/meta/link.ts');
  assert.equal(metaFolder('Llama3.1-8B-Instruct'), 'Llama-3.1-8B-Instruct');
  assert.equal(metaFolder('meta-llama/Llama-2-7b-chat'), 'llama-2-7b-chat');
  assert.equal(metaFolder('Llama-3.1-405B-MP16'), 'Llama-3.1-405B-MP16');
});

test('llama verify checks a Meta download from the lockfile (meta:<folder> entry) and catches a changed byte', async (t) => {
  const { verify } = await import('../../src/integrity/verify.ts');
  const cdn = await startMetaCdn({ folders: { [FOLDER]: release() } });
  t.after(() => cdn.close());
  const dir = await tempDir(t, 'llama-meta-');
  await pullMeta({ modelId: FOLDER, url: cdn.presignedUrl, localDir: join(dir, 'model'), lockfile: join(dir, 'llama.lock.json'), env: {} });
  const report = await verify({ cwd: dir, env: {} });
  assert.equal(report.repo, `meta:${FOLDER}`);
  assert.equal(report.ok, true, JSON.stringify(report.files.filter((f) => f.status !== 'ok')));
  assert.equal(report.counts.ok, 5);
  await writeFile(join(dir, 'model', 'params.json'), '{"dim": 65}\n');
  const after = await verify({ cwd: dir, env: {} });
  assert.equal(after.ok, false);
  assert.deepEqual(after.files.filter((f) => f.status !== 'ok').map((f) => f.path), ['params.json']);
});
