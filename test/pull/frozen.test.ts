/**
 * `pull --frozen` compares the whole lockfile (issue 17 §2): every entry, LFS or not, against the hub's listing and
 * the bytes on disk; files the hub has that the lockfile lacks; a locked commit the hub no longer has. `verify --hub`
 * judges the same cases the same way (§3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '../support/hub-server/index.ts';
import { pull, type PullOptions } from '../../src/transfer/pull.ts';
import { verify } from '../../src/integrity/verify.ts';
import { parseLockfile, serializeLockfile, type Lockfile } from '../../src/integrity/lockfile.ts';
import { LlamaError } from '../../src/errors.ts';
import { FAST_RETRY, pattern, tempDir } from './helpers.ts';

const FILES = {
  'config.json': '{"model_type":"llama"}\n',
  'tokenizer.json': '{"version":"1.0"}\n',
  'model.safetensors': pattern(400_000, 41),
};

async function setup(t: { after(fn: () => Promise<void>): void }): Promise<{ hub: HubServer; dir: string; lockPath: string; opts: (extra?: Partial<PullOptions>) => PullOptions }> {
  const hub = await startHubServer();
  t.after(() => hub.close());
  await hub.addRepo({ id: 'org/frozen', files: FILES });
  const dir = await tempDir(t);
  const lockPath = join(dir, 'llama.lock.json');
  const opts = (extra: Partial<PullOptions> = {}): PullOptions => ({ repo: 'org/frozen', endpoint: hub.url, cacheDir: join(dir, 'cache'), lockfile: lockPath, retry: FAST_RETRY, env: {}, ...extra });
  await pull(opts());
  return { hub, dir, lockPath, opts };
}

async function editLock(path: string, edit: (lock: Lockfile) => void): Promise<void> {
  const lock = parseLockfile(await readFile(path, 'utf8'));
  edit(lock);
  await writeFile(path, serializeLockfile(lock));
}

async function failure(promise: Promise<unknown>): Promise<LlamaError> {
  const error = await promise.then(() => assert.fail('expected a failure'), (e: unknown) => e);
  assert.ok(error instanceof LlamaError, String(error));
  return error;
}

test('--frozen: a non-LFS file whose bytes here differ from the locked sha256 is exit 4, even when already cached', async (t) => {
  const { lockPath, opts } = await setup(t);
  await editLock(lockPath, (lock) => {
    lock.repos['org/frozen']!.files['config.json']!.sha256 = 'a'.repeat(64);
  });
  const e = await failure(pull(opts({ frozen: true })));
  assert.equal(e.exitCode, 4);
  assert.equal(e.code, 'LOCK_MISMATCH');
  assert.match(e.message, /config\.json \(got [0-9a-f]{64}, locked a{64}\)/);
});

test('--frozen: a hub file the lockfile lacks, and an entry the hub lacks, are each named (exit 4)', async (t) => {
  const { lockPath, opts } = await setup(t);
  await editLock(lockPath, (lock) => {
    const files = lock.repos['org/frozen']!.files;
    delete files['tokenizer.json'];
    files['ghost.json'] = { size: 3, sha256: 'b'.repeat(64), gitSha1: 'c'.repeat(40) };
  });
  const e = await failure(pull(opts({ frozen: true })));
  assert.equal(e.exitCode, 4);
  assert.equal(e.code, 'LOCK_MISMATCH');
  assert.match(e.message, /ghost\.json: in the lockfile, not on the hub/);
  assert.match(e.message, /tokenizer\.json: on the hub at [0-9a-f]{40}, not in the lockfile/);
  // Outside the run's own selection, the missing entry is not this run's concern.
  await editLock(lockPath, (lock) => {
    delete lock.repos['org/frozen']!.files['ghost.json'];
  });
  const narrowed = await pull(opts({ frozen: true, include: ['*.safetensors', 'config.json'] }));
  assert.deepEqual(narrowed.files.map((f) => f.path), ['config.json', 'model.safetensors']);
});

test('--frozen: a locked commit the hub no longer has (force-push) is exit 4 saying the commit is gone', async (t) => {
  const { lockPath, opts } = await setup(t);
  const gone = 'f'.repeat(40);
  await editLock(lockPath, (lock) => {
    lock.repos['org/frozen']!.commit = gone;
  });
  const e = await failure(pull(opts({ frozen: true })));
  assert.equal(e.exitCode, 4);
  assert.equal(e.code, 'LOCK_COMMIT_GONE');
  assert.match(e.message, new RegExp(`locked commit ${gone} of org/frozen \\(main\\) is gone from the hub`));
  assert.doesNotMatch(`${e.message} ${e.hint}`, /--revision/);
});

test('verify --hub agrees with pull --frozen on each case; plain verify checks the bytes against the lockfile', async (t) => {
  const { hub, lockPath, opts } = await setup(t);
  const base = { lockfile: lockPath, cacheDir: join(opts().cacheDir as string), endpoint: hub.url, env: {}, hub: true };
  const ok = await verify(base);
  assert.equal(ok.ok, true);
  const original = await readFile(lockPath, 'utf8');

  await editLock(lockPath, (lock) => {
    delete lock.repos['org/frozen']!.files['tokenizer.json'];
  });
  const lacking = await verify(base);
  assert.equal(lacking.ok, false);
  assert.deepEqual(lacking.hubProblems, [`tokenizer.json: on the hub at ${hub.head('org/frozen')}, not in the lockfile`]);
  assert.equal((await failure(pull(opts({ frozen: true })))).code, 'LOCK_MISMATCH');

  await writeFile(lockPath, original);
  await editLock(lockPath, (lock) => {
    lock.repos['org/frozen']!.commit = 'e'.repeat(40);
  });
  const gone = await failure(verify(base));
  assert.equal(gone.code, 'LOCK_COMMIT_GONE');
  assert.equal(gone.exitCode, 4);
});
