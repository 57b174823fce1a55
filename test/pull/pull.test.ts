/**
 * `pull` and `verify` as a library against the local hub: the cache layout that `@huggingface/hub` reads, paging,
 * selection, the lockfile, frozen and offline modes, local dirs, access errors, disk space and two pulls at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, readlink, readdir, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanCacheDir } from '@huggingface/hub';
import { startHubServer, type HubServer } from '../support/hub-server/index.ts';
import { pull, type PullOptions } from '../../src/transfer/pull.ts';
import { verify } from '../../src/integrity/verify.ts';
import { parseLockfile, serializeLockfile } from '../../src/integrity/lockfile.ts';
import { AccessError, EnvironmentError, IntegrityError, LlamaError, NetworkError, UsageError } from '../../src/errors.ts';
import { FAST_RETRY, TOKENS, collect, pattern, sha256, tempDir } from './helpers.ts';

const WEIGHTS = pattern(1_500_000, 3);
const FILES = {
  'config.json': '{"model_type":"llama"}\n',
  'tokenizer.json': '{"version":"1.0"}\n',
  'model.safetensors': WEIGHTS,
  'pytorch_model.bin': pattern(1000, 4),
  'original/consolidated.00.pth': pattern(2000, 5),
  'original/params.json': '{"dim":64}\n',
  'LICENSE': 'LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\n',
  'empty.txt': '',
};

async function hubWith(t: { after(fn: () => Promise<void>): void }, spec: Partial<Parameters<HubServer['addRepo']>[0]> = {}): Promise<HubServer> {
  const hub = await startHubServer({ tokens: { [TOKENS.alice]: 'alice', [TOKENS.bob]: 'bob', [TOKENS.carol]: 'carol', [TOKENS.dave]: { user: 'dave', gatedRepos: false }, [TOKENS.owner]: 'org', [TOKENS.eve]: 'eve' } });
  t.after(() => hub.close());
  await hub.addRepo({ id: 'org/model', files: FILES, ...spec });
  return hub;
}

function opts(hub: HubServer, dir: string, extra: Partial<PullOptions> = {}): PullOptions {
  return { repo: 'org/model', endpoint: hub.url, cacheDir: join(dir, 'cache'), lockfile: join(dir, 'llama.lock.json'), retry: FAST_RETRY, pieceSize: 256 * 1024, env: {}, ...extra };
}

async function failure(promise: Promise<unknown>): Promise<LlamaError> {
  const error = await promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof LlamaError, String(error));
  return error;
}

test('cache layout: blobs, relative snapshot links, refs; @huggingface/hub scanCacheDir reads it', async (t) => {
  const hub = await hubWith(t);
  const dir = await tempDir(t);
  const progress = collect();
  const r = await pull(opts(hub, dir, { onProgress: progress.sink }));
  const commit = hub.head('org/model');
  assert.equal(r.commit, commit);
  assert.deepEqual(r.skipped, ['original/consolidated.00.pth', 'original/params.json', 'pytorch_model.bin']);
  assert.ok(progress.messages().some((m) => /skipped 3 duplicate weight file/.test(m)));
  const repoDir = join(dir, 'cache', 'models--org--model');
  assert.equal(await readFile(join(repoDir, 'refs', 'main'), 'utf8'), commit);
  const link = join(repoDir, 'snapshots', commit, 'model.safetensors');
  assert.equal(await readlink(link), `../../blobs/${sha256(WEIGHTS)}`);
    assert.deepEqual(await readFile(link), WEIGHTS);

  const scan = await scanCacheDir(join(dir, 'cache'));
  assert.deepEqual(scan.warnings, []);
  assert.equal(scan.repos.length, 1);
  const repo = scan.repos[0];
  assert.deepEqual(repo?.id, { name: 'org/model', type: 'model' });
  assert.equal(repo?.revisions.length, 1);
  assert.equal(repo?.revisions[0]?.commitOid, commit);
  assert.deepEqual(repo?.revisions[0]?.refs, ['main']);
  const top = (repo?.revisions[0]?.files ?? []).map((f) => f.path.slice(f.path.lastIndexOf('/') + 1)).sort();
  assert.deepEqual(top, ['LICENSE', 'config.json', 'empty.txt', 'model.safetensors', 'tokenizer.json']);
  assert.equal(repo?.revisions[0]?.files.find((f) => f.path.endsWith('model.safetensors'))?.blob.size, WEIGHTS.length);

  // Progress: a total task and one task per file with absolute byte counts.
  const starts = progress.events.filter((e) => e.type === 'start');
  assert.ok(starts.some((e) => e.type === 'start' && e.task === 'pull' && e.total === r.files.reduce((a, f) => a + f.size, 0)));
  assert.ok(starts.some((e) => e.type === 'start' && e.task === 'pull:model.safetensors' && e.parent === 'pull'));
  const lastAdvance = progress.events.filter((e) => e.type === 'advance' && e.task === 'pull:model.safetensors').at(-1);
  assert.deepEqual(lastAdvance, { type: 'advance', task: 'pull:model.safetensors', done: WEIGHTS.length, total: WEIGHTS.length });

  // A second pull moves no file bytes.
  hub.resetLog();
  const again = await pull(opts(hub, dir));
  assert.ok(again.files.every((f) => f.status === 'present'));
  assert.equal(hub.stats().fileBytesSent, 0);
  assert.equal(again.lockfile?.updated, false);
});

test('lockfile: documented shape, stable order, sha256 for all and git sha1 for small files, no token/path/time', async (t) => {
  const hub = await hubWith(t, { gated: 'manual', access: { alice: 'granted' } });
  const dir = await tempDir(t);
  await pull(opts(hub, dir, { token: TOKENS.alice, include: ['*.json', '*.safetensors'] }));
  const text = await readFile(join(dir, 'llama.lock.json'), 'utf8');
  const lock = parseLockfile(text);
  assert.equal(serializeLockfile(lock), text, 'canonical form');
  assert.deepEqual(Object.keys(JSON.parse(text) as object), ['lockfileVersion', 'repos']);
  const entry = lock.repos['org/model'];
  assert.equal(entry?.revision, 'main');
  assert.equal(entry?.commit, hub.head('org/model'));
  assert.deepEqual(Object.keys(entry?.files ?? {}), ['config.json', 'model.safetensors', 'original/params.json', 'tokenizer.json']);
  assert.deepEqual(entry?.files['model.safetensors'], { size: WEIGHTS.length, sha256: sha256(WEIGHTS) });
  assert.deepEqual(entry?.files['config.json'], {
    size: FILES['config.json'].length,
    sha256: sha256(Buffer.from(FILES['config.json'])),
    gitSha1: hub.file('org/model', 'config.json').gitOid,
  });
  assert.ok(!text.includes(TOKENS.alice) && !text.includes('hf_'), 'no token');
  assert.ok(!text.includes(dir) && !text.includes('127.0.0.1'), 'no absolute path or endpoint');
  assert.doesNotMatch(text, /20\d\d-\d\d-\d\d/, 'no timestamp');

  // The same pull into another cache on "another machine" writes a byte-identical lockfile and identical files.
  const other = await tempDir(t);
  await pull(opts(hub, other, { token: TOKENS.alice, include: ['*.json', '*.safetensors'] }));
  assert.equal(await readFile(join(other, 'llama.lock.json'), 'utf8'), text);
});

test('--frozen: reproduces the locked commit even after the branch moved; fails with exit 4 when the hub differs', async (t) => {
  const hub = await hubWith(t);
  const dir = await tempDir(t);
  await pull(opts(hub, dir, { paths: ['config.json', 'model.safetensors'] }));
  const locked = await readFile(join(dir, 'llama.lock.json'), 'utf8');
  const first = hub.head('org/model');
  await hub.commit('org/model', { files: { 'config.json': '{"model_type":"llama","changed":true}\n' } });

  const machine2 = await tempDir(t);
  await writeFile(join(machine2, 'llama.lock.json'), locked);
  const r = await pull(opts(hub, machine2, { frozen: true }));
  assert.equal(r.commit, first);
  assert.deepEqual(r.files.map((f) => f.path), ['config.json', 'model.safetensors']);
  assert.equal(await readFile(join(machine2, 'llama.lock.json'), 'utf8'), locked, 'never rewritten');
  assert.equal(await readFile(join(r.root, 'config.json'), 'utf8'), FILES['config.json']);

  // A lockfile that disagrees with the hub (edited hash) → exit 4, lockfile untouched.
  const lock = parseLockfile(locked);
  (lock.repos['org/model']!.files['model.safetensors']!).sha256 = '0'.repeat(64);
  await writeFile(join(machine2, 'llama.lock.json'), serializeLockfile(lock));
  const e = await failure(pull(opts(hub, machine2, { frozen: true })));
  assert.ok(e instanceof IntegrityError);
  assert.equal(e.exitCode, 4);
  assert.equal(e.code, 'LOCK_MISMATCH');
  assert.match(e.message, /model\.safetensors: sha256 [0-9a-f]{64} on the hub, 0{64} in the lockfile/);

  // Without --frozen the lockfile follows the moved branch.
  const r2 = await pull(opts(hub, dir, { paths: ['config.json'] }));
  assert.equal(r2.commit, hub.head('org/model'));
  assert.equal(parseLockfile(await readFile(join(dir, 'llama.lock.json'), 'utf8')).repos['org/model']?.commit, hub.head('org/model'));

  // --frozen with no lockfile entry is a usage error.
  const empty = await tempDir(t);
  assert.equal((await failure(pull(opts(hub, empty, { frozen: true })))).exitCode, 2);
});

test('--offline (and HF_HUB_OFFLINE=1): served from the cache and re-verified, no request; missing or corrupt files fail', async (t) => {
  const hub = await hubWith(t);
  const dir = await tempDir(t);
  const online = await pull(opts(hub, dir, { paths: ['config.json', 'model.safetensors'] }));
  hub.resetLog();
  const r = await pull(opts(hub, dir, { offline: true }));
  assert.equal(r.offline, true);
  assert.equal(r.commit, online.commit);
  assert.deepEqual(r.files.map((f) => [f.path, f.sha256]), online.files.map((f) => [f.path, f.sha256]));
  const r2 = await pull(opts(hub, dir, { env: { HF_HUB_OFFLINE: '1' }, endpoint: 'http://127.0.0.1:9' }));
  assert.equal(r2.offline, true);
  assert.equal(hub.log.length, 0, 'no request at all');

  // A blob changed on disk: exit 4.
  const blob = join(dir, 'cache', 'models--org--model', 'blobs', sha256(WEIGHTS));
  const bytes = await readFile(blob);
  bytes[10] = (bytes[10] as number) ^ 1;
  await writeFile(blob, bytes);
  const bad = await failure(pull(opts(hub, dir, { offline: true })));
  assert.equal(bad.exitCode, 4);
  assert.match(bad.message, /model\.safetensors \(expected sha256/);

  // A file the lockfile names that is not here: exit 6, named.
  await writeFile(join(dir, 'other.lock.json'), (await readFile(join(dir, 'llama.lock.json'), 'utf8')));
  const empty = await tempDir(t);
  const missing = await failure(pull({ ...opts(hub, empty, { offline: true }), lockfile: join(dir, 'other.lock.json') }));
  assert.ok(missing instanceof NetworkError);
  assert.equal(missing.code, 'OFFLINE_MISSING');
  assert.match(missing.message, /config\.json, model\.safetensors/);
});

test('--local-dir: plain files, hf-style metadata in a hidden folder, verify reports ok/mismatch/missing/extra', async (t) => {
  const hub = await hubWith(t);
  const dir = await tempDir(t);
  const local = join(dir, 'out');
  const r = await pull(opts(hub, dir, { localDir: local, exclude: ['LICENSE'] }));
  assert.equal(r.root, local);
  const st = await lstat(join(local, 'model.safetensors'));
  assert.ok(st.isFile() && !st.isSymbolicLink());
  assert.deepEqual(await readFile(join(local, 'model.safetensors')), WEIGHTS);
  const meta = (await readFile(join(local, '.cache', 'huggingface', 'download', 'model.safetensors.metadata'), 'utf8')).split('\n');
  assert.equal(meta[0], r.commit);
  assert.equal(meta[1], sha256(WEIGHTS));
  await assert.rejects(stat(join(local, 'LICENSE')));
  assert.ok(!(await readdir(local)).some((n) => n.endsWith('.incomplete')));

  const lock = join(dir, 'llama.lock.json');
  const good = await verify({ dir: local, lockfile: lock });
  assert.equal(good.ok, true);
  assert.equal(good.against, 'lockfile');
  assert.equal(good.counts.ok, r.files.length);

  // Against the hub's tree when there is no lockfile entry (commit from the local dir's metadata).
  const viaHub = await verify({ dir: local, lockfile: join(dir, 'none.json').replace('none.json', 'absent-dir/x.json').replace('x.json', 'llama.lock.json'), repo: 'org/model', endpoint: hub.url, env: {} }).catch((e: unknown) => e);
  assert.ok(viaHub instanceof UsageError, 'an explicit lockfile that does not exist is an error');
  const cwd = process.cwd();
  process.chdir(dir + '/out');
  try {
    const hubReport = await verify({ repo: 'org/model', dir: local, endpoint: hub.url, env: {} });
    assert.equal(hubReport.against, 'hub');
    // LICENSE (excluded) and the three default-skipped duplicates are on the hub, not here.
    assert.deepEqual(hubReport.files.filter((f) => f.status === 'missing').map((f) => f.path), ['LICENSE', 'original/consolidated.00.pth', 'original/params.json', 'pytorch_model.bin']);
  } finally {
    process.chdir(cwd);
  }

  await writeFile(join(local, 'config.json'), '{"tampered":true}\n');
  await writeFile(join(local, 'notes.txt'), 'mine');
  const { rm } = await import('node:fs/promises');
  await rm(join(local, 'tokenizer.json'));
  const bad = await verify({ dir: local, lockfile: lock });
  assert.equal(bad.ok, false);
  const status = Object.fromEntries(bad.files.map((f) => [f.path, f.status]));
  assert.equal(status['config.json'], 'mismatch');
  assert.equal(status['tokenizer.json'], 'missing');
  assert.equal(status['notes.txt'], 'extra');
  assert.equal(status['model.safetensors'], 'ok');
  assert.deepEqual(bad.counts, { ok: r.files.length - 2, mismatch: 1, missing: 1, extra: 1 });

  // Pulling again repairs the tampered and the missing file, fetching only those.
  hub.resetLog();
  const repaired = await pull(opts(hub, dir, { localDir: local, exclude: ['LICENSE'] }));
  assert.deepEqual(repaired.files.filter((f) => f.status !== 'present').map((f) => f.path), ['config.json', 'tokenizer.json']);
  assert.equal((await verify({ dir: local, lockfile: lock })).counts.mismatch, 0);
});

test('verify on the cache snapshot (default dir from the lockfile) detects a corrupted blob', async (t) => {
  const hub = await hubWith(t);
  const dir = await tempDir(t);
  await pull(opts(hub, dir, { paths: ['config.json', 'model.safetensors'] }));
  const base = { lockfile: join(dir, 'llama.lock.json'), cacheDir: join(dir, 'cache'), env: {} };
  assert.equal((await verify(base)).ok, true);
  const blob = join(dir, 'cache', 'models--org--model', 'blobs', sha256(WEIGHTS));
  await truncate(blob, 100);
  const report = await verify(base);
  assert.equal(report.ok, false);
  const f = report.files.find((x) => x.path === 'model.safetensors');
  assert.equal(f?.status, 'mismatch');
  assert.equal(f?.actual?.size, 100);
  assert.equal(f?.expected?.sha256, sha256(WEIGHTS));
});

test('include / exclude / positional paths, as hf download chooses them', async (t) => {
  const hub = await hubWith(t);
  const dir = await tempDir(t);
  const base = opts(hub, dir, { lockfile: false });
  const names = async (extra: Partial<PullOptions>) => (await pull({ ...base, ...extra })).files.map((f) => f.path);
  assert.deepEqual(await names({ include: ['*.json'] }), ['config.json', 'original/params.json', 'tokenizer.json']);
  assert.deepEqual(await names({ include: ['*.json'], exclude: ['original/'] }), ['config.json', 'tokenizer.json']);
  assert.deepEqual(await names({ include: ['original/*'] }), ['original/consolidated.00.pth', 'original/params.json']);
  assert.deepEqual(await names({ paths: ['original/', 'pytorch_model.bin'] }), ['original/consolidated.00.pth', 'original/params.json', 'pytorch_model.bin']);
  assert.deepEqual(await names({ include: ['config.jso?', '[LT]*'] }), ['LICENSE', 'config.json']);
  const e = await failure(pull({ ...base, paths: ['nope.json', 'config.json'] }));
  assert.ok(e instanceof UsageError);
  assert.equal(e.exitCode, 2);
  assert.match(e.message, /nope\.json/);
});

test('more than 1000 tree entries: every page is read and all small files fetched in parallel', async (t) => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 1005; i++) files[`shards/part-${String(i).padStart(4, '0')}.json`] = `{"i":${i}}\n`;
  const hub = await startHubServer();
  t.after(() => hub.close());
  await hub.addRepo({ id: 'org/many', files });
  const dir = await tempDir(t);
  const r = await pull({ repo: 'org/many', endpoint: hub.url, cacheDir: dir, lockfile: false, concurrency: 8, retry: FAST_RETRY, env: {} });
  assert.equal(r.files.length, 1005);
  assert.ok(hub.log.filter((e) => e.route === 'tree').length >= 2, 'paged');
  assert.equal(await readFile(join(r.root, 'shards', 'part-1004.json'), 'utf8'), '{"i":1004}\n');
});

test('access errors: exit 5 with what to do; unknown repo/revision exit 2; token never in messages', async (t) => {
  const hub = await hubWith(t, { gated: 'manual', access: { alice: 'granted', carol: 'pending', eve: 'rejected' } });
  const dir = await tempDir(t);
  const base = opts(hub, dir, { lockfile: false, paths: ['config.json'] });

  const anon = await failure(pull(base));
  assert.ok(anon instanceof AccessError);
  assert.equal(anon.exitCode, 5);
  assert.equal(anon.code, 'HUB_GATED');
  assert.equal(anon.message, `gated: accept the license at ${hub.url}/org/model, then pass a token.`);

  const bob = await failure(pull({ ...base, token: TOKENS.bob }));
  assert.equal(bob.code, 'HUB_NOT_AUTHORIZED');
  assert.equal(bob.exitCode, 5);
  assert.match(bob.hint, /Accept the license at http:\/\/127\.0\.0\.1:\d+\/org\/model/);

  const carol = await failure(pull({ ...base, token: TOKENS.carol }));
  assert.equal(carol.code, 'HUB_GATED_PENDING');
  assert.match(carol.message, /awaiting review/);

  const eve = await failure(pull({ ...base, token: TOKENS.eve }));
  assert.equal(eve.code, 'HUB_GATED_REJECTED');
  assert.equal(eve.exitCode, 5);

  const dave = await failure(pull({ ...base, token: TOKENS.dave }));
  assert.equal(dave.code, 'HUB_FORBIDDEN');
  assert.equal(dave.exitCode, 5);

  const invalid = 'hf_thisTokenIsNotKnown0000';
  const bad = await failure(pull({ ...base, env: { HF_TOKEN: invalid } }));
  assert.equal(bad.code, 'HUB_INVALID_TOKEN');
  assert.equal(bad.exitCode, 5);

  // Token from HF_HOME/token works.
  const home = join(dir, 'hfhome');
  await mkdir(home, { recursive: true });
  await writeFile(join(home, 'token'), `${TOKENS.alice}\n`);
  const ok = await pull({ ...base, env: { HF_HOME: home } });
  assert.equal(ok.files[0]?.path, 'config.json');

  const unknown = await failure(pull({ ...base, repo: 'org/nope', token: TOKENS.alice }));
  assert.equal(unknown.code, 'HUB_REPO_NOT_FOUND');
  assert.equal(unknown.exitCode, 2);
  assert.match(unknown.message, /org\/nope/);
  const anonUnknown = await failure(pull({ ...base, repo: 'org/nope' }));
  assert.equal(anonUnknown.exitCode, 2);
  const rev = await failure(pull({ ...base, revision: 'v9', token: TOKENS.alice }));
  assert.equal(rev.code, 'HUB_REVISION_NOT_FOUND');
  assert.equal(rev.exitCode, 2);
  assert.match(rev.message, /"v9"/);

  for (const e of [anon, bob, carol, eve, dave, bad, unknown, anonUnknown, rev]) {
    const text = JSON.stringify(e.toJSON()) + e.message + e.hint + String(e.stack);
    for (const token of [...Object.values(TOKENS), invalid]) assert.ok(!text.includes(token), `${e.code} leaks a token`);
  }
});

test('free space: a download that cannot fit fails before any byte with exit 7 and the numbers', async (t) => {
  const dir = await tempDir(t);
  const huge = join(dir, 'huge.bin');
  await writeFile(huge, '');
  await truncate(huge, 2 ** 43); // 8 TiB, sparse: more than this disk has free
  const hub = await startHubServer();
  t.after(() => hub.close());
  await hub.addRepo({ id: 'org/huge', files: { 'model.safetensors': { path: huge, sha256: 'a'.repeat(64), gitOid: 'b'.repeat(40) } } });
  const e = await failure(pull({ repo: 'org/huge', endpoint: hub.url, cacheDir: join(dir, 'cache'), lockfile: false, retry: FAST_RETRY, env: {} }));
  assert.ok(e instanceof EnvironmentError);
  assert.equal(e.exitCode, 7);
  assert.equal(e.code, 'DISK_SPACE');
  assert.match(e.message, /needs 8\.0 TiB \(8796093022208 bytes\) more, only .* are free/);
  assert.equal(hub.stats().fileBytesSent, 0);
});

test('ENOSPC mid-way: exit 7 and the partial kept for a later resume', async (t) => {
  const hub = await hubWith(t);
  const dir = await tempDir(t);
  const blobs = join(dir, 'cache', 'models--org--model', 'blobs');
  await mkdir(blobs, { recursive: true });
  const partial = join(blobs, `${sha256(WEIGHTS)}.incomplete`);
  // /dev/full answers every write with ENOSPC: the kernel's own "disk full".
  await symlink('/dev/full', partial);
  const state = { version: 1, size: WEIGHTS.length, pieceSize: 256 * 1024, expected: sha256(WEIGHTS), received: Array(Math.ceil(WEIGHTS.length / (256 * 1024))).fill(0) };
  await writeFile(`${partial}.state.json`, JSON.stringify(state));
  const e = await failure(pull(opts(hub, dir, { paths: ['model.safetensors'], lockfile: false })));
  assert.ok(e instanceof EnvironmentError, String(e));
  assert.equal(e.exitCode, 7);
  assert.equal(e.code, 'DISK_FULL');
  assert.ok((await lstat(partial)).isSymbolicLink(), 'partial kept');
  await stat(`${partial}.state.json`);
});

test('two pulls of the same repo into one cache at once: both succeed, each blob fetched once', async (t) => {
  const hub = await hubWith(t);
  const dir = await tempDir(t);
  hub.setRateLimit(4 * 1024 * 1024);
  const [a, b] = await Promise.all([pull(opts(hub, dir, { lockfile: false })), pull(opts(hub, dir, { lockfile: false }))]);
  assert.deepEqual(a.files.map((f) => f.sha256), b.files.map((f) => f.sha256));
  assert.deepEqual(await readFile(join(a.root, 'model.safetensors')), WEIGHTS);
  const cdnBytes = hub.stats((e) => e.server === 'cdn').fileBytesSent;
  assert.equal(cdnBytes, WEIGHTS.length, 'the weights crossed the wire once');
  const leftovers = (await readdir(join(dir, 'cache', 'models--org--model', 'blobs'))).filter((n) => !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(n));
  assert.deepEqual(leftovers, []);
});

test('a lock left by a killed process is taken over, even when that process had our pid (containers)', async (t) => {
  const hub = await hubWith(t);
  const dir = await tempDir(t);
  const locks = join(dir, 'cache', '.locks', 'models--org--model');
  await mkdir(locks, { recursive: true });
  await writeFile(join(locks, `${sha256(WEIGHTS)}.lock`), `${process.pid} 0123456789abcdef\n`);
  await writeFile(join(locks, `${hub.file('org/model', 'config.json').gitOid}.lock`), '999999999 fedcba9876543210\n');
  const r = await pull(opts(hub, dir, { lockfile: false, paths: ['config.json', 'model.safetensors'] }));
  assert.deepEqual(r.files.map((f) => f.status), ['downloaded', 'downloaded']);
  assert.deepEqual(await readdir(locks), [], 'locks released');
});

test('a tag is resolved to its commit and recorded under refs/; a 40-hex revision writes no ref', async (t) => {
  const hub = await hubWith(t);
  const dir = await tempDir(t);
  const first = hub.head('org/model');
  hub.setTag('org/model', 'v1.0', first);
  await hub.commit('org/model', { files: { 'config.json': '{"v":2}\n' } });
  const r = await pull(opts(hub, dir, { revision: 'v1.0', paths: ['config.json'] }));
  assert.equal(r.commit, first);
  assert.equal(await readFile(join(r.root, 'config.json'), 'utf8'), FILES['config.json']);
  const refs = join(dir, 'cache', 'models--org--model', 'refs');
  assert.equal(await readFile(join(refs, 'v1.0'), 'utf8'), first);
  const lock = parseLockfile(await readFile(join(dir, 'llama.lock.json'), 'utf8'));
  assert.equal(lock.repos['org/model']?.revision, 'v1.0');
  const head = hub.head('org/model');
  const byCommit = await pull(opts(hub, dir, { revision: head, paths: ['config.json'], lockfile: false }));
  assert.equal(byCommit.commit, head);
  assert.deepEqual((await readdir(refs)).sort(), ['v1.0']);
  const scan = await scanCacheDir(join(dir, 'cache'));
  assert.deepEqual(scan.warnings, []);
  assert.deepEqual(scan.repos[0]?.revisions.map((v) => [v.commitOid, v.refs]).sort(), [[first, ['v1.0']], [head, []]].sort());
});
