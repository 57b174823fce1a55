/**
 * `publish` to a Hugging Face Hub repo (the local hub of test/support/hub-server), as a library: the round trip
 * publish → pull → verify byte for byte, idempotence, commit splitting, faults, and the typed errors.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isLlamaError } from '../../src/errors.ts';
import { publish } from '../../src/publish/index.ts';
import { readPublishSource } from '../../src/publish/source.ts';
import { pull } from '../../src/transfer/pull.ts';
import { verify } from '../../src/integrity/verify.ts';
import { startHubServer, type HubServer } from '../support/hub-server/index.ts';
import { FAST_RETRY, HUB_TOKENS, makePackage, NAME, TOKENS, treeDigests } from './helpers.ts';

let root: string;
let tarPath: string;
let dirPath: string;
let hub: HubServer;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-publish-'));
  tarPath = (await makePackage(join(root, 'p1'))).path;
  dirPath = (await makePackage(join(root, 'p2'), { format: 'dir' })).path;
  hub = await startHubServer({ tokens: HUB_TOKENS, upload: { multipartChunkSize: 128 * 1024 } });
});
after(async () => {
  await hub.close();
  await rm(root, { recursive: true, force: true });
});

const env = (): Record<string, string | undefined> => ({ HOME: root, HF_HOME: join(root, 'hf-home-client') });

function run(to: string, extra: Partial<Parameters<typeof publish>[0]> = {}) {
  return publish({ source: tarPath, to, endpoint: hub.url, token: TOKENS.writer, retry: FAST_RETRY, env: env(), ...extra });
}

async function rejectsWith(promise: Promise<unknown>, code: string, exitCode: number): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(isLlamaError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.exitCode, exitCode);
    assert.ok(!e.message.includes(TOKENS.writer) && !e.hint.includes(TOKENS.writer));
    return true;
  });
}

describe('publish to the hub', () => {
  it('creates the repo, uploads every file (LFS basic and multipart), tags v1.0.0, and pull + verify give the same bytes', async () => {
    const out = await run('hf://acme/Tiny', { private: true });
    assert.equal(out.kind, 'hf');
    const r = out.kind === 'hf' ? out.hub : undefined!;
    assert.equal(r.created, true);
    const source = await readPublishSource(tarPath, root);
    assert.deepEqual(r.files.map((f) => [f.path, f.status]), source.files.map((f) => [f.path, 'uploaded']));
    // The hub has exactly the package's files, each with the manifest's sha256.
    const facts = hub.files('acme/Tiny');
    assert.deepEqual(facts.map((f) => f.path), source.files.map((f) => f.path));
    for (const f of source.files.filter((x) => x.manifestSha256)) assert.equal(facts.find((x) => x.path === f.path)?.sha256, f.manifestSha256, f.path);
    assert.equal(facts.find((f) => f.path === 'model-Q8_0.gguf')?.lfs, true);
    // The 300 kB weight went multipart (128 KiB parts): 3 part PUTs and one completion; no token on presigned PUTs.
    assert.equal(hub.log.filter((e) => e.route === 'lfs-complete' && e.status === 200).length, 1);
    assert.ok(hub.log.filter((e) => e.route === 'lfs-upload').every((e) => !e.authorization));
    assert.equal(r.tag?.status, 'created');
    assert.equal(hub.tags('acme/Tiny')['v1.0.0'], hub.head('acme/Tiny'));
    const commits = (await (await fetch(`${hub.url}/api/models/acme/Tiny/commits/main`, { headers: { authorization: `Bearer ${TOKENS.writer}` } })).json()) as { title: string }[];
    assert.match(commits[0]!.title, new RegExp(`^Publish ${NAME} 1\\.0\\.0 with llama-dist \\d+\\.\\d+\\.\\d+$`));

    const local = join(root, 'pulled');
    const lock = join(root, 'pulled.lock.json');
    const pulled = await pull({ repo: 'acme/Tiny', localDir: local, endpoint: hub.url, token: TOKENS.writer, lockfile: lock, retry: FAST_RETRY, env: env() });
    assert.equal(pulled.commit, hub.head('acme/Tiny'));
    const report = await verify({ dir: local, lockfile: lock, repo: 'acme/Tiny', env: env() });
    assert.equal(report.ok, true);
    assert.equal(report.counts.ok, source.files.length);
    // Byte for byte the package directory of the same inputs (the tar's members).
    assert.deepEqual(await treeDigests(local, ['.cache']), await treeDigests(dirPath));
  });

  it('a second run uploads nothing and makes no commit; the tag is already there', async () => {
    const head = hub.head('acme/Tiny');
    hub.resetLog();
    const out = await run('hf://acme/Tiny');
    const r = out.kind === 'hf' ? out.hub : undefined!;
    assert.ok(r.files.every((f) => f.status === 'unchanged'));
    assert.equal(r.commits.length, 0);
    assert.equal(r.bytesUploaded, 0);
    assert.equal(r.tag?.status, 'present');
    assert.equal(hub.head('acme/Tiny'), head);
    assert.deepEqual(hub.log.filter((e) => ['preupload', 'lfs-batch', 'lfs-upload', 'commit', 'tag'].includes(e.route)), []);
  });

  it('the package directory publishes the same files as its tar (no upload)', async () => {
    const out = await publish({ source: dirPath, to: 'hf://acme/Tiny', endpoint: hub.url, token: TOKENS.writer, retry: FAST_RETRY, env: env() });
    assert.ok(out.kind === 'hf' && out.hub.files.every((f) => f.status === 'unchanged'));
  });

  it('splits into commits of at most N files, each on its parent, card and manifest in the last one', async () => {
    const out = await run('hf://acme/Split', { filesPerCommit: 3 });
    const r = out.kind === 'hf' ? out.hub : undefined!;
    const n = r.files.length;
    assert.equal(r.commits.length, Math.ceil(n / 3));
    assert.ok(r.commits.every((c) => c.files <= 3));
    const history = (await (await fetch(`${hub.url}/api/models/acme/Split/commits/main`, { headers: { authorization: `Bearer ${TOKENS.writer}` } })).json()) as { id: string }[];
    assert.deepEqual(history.slice(0, r.commits.length).map((c) => c.id), r.commits.map((c) => c.oid).reverse());
    assert.equal(hub.file('acme/Split', 'README.md').lastCommit, r.commits.at(-1)!.oid);
    assert.equal(hub.file('acme/Split', 'manifest.json').lastCommit, r.commits.at(-1)!.oid);
  });

  it('--dry-run changes nothing and says what it would do', async () => {
    hub.resetLog();
    const out = await run('hf://acme/Dry', { dryRun: true });
    const r = out.kind === 'hf' ? out.hub : undefined!;
    assert.equal(r.created, true);
    assert.ok(r.files.every((f) => f.status === 'would-upload'));
    assert.ok(!hub.repoIds().includes('acme/Dry'));
    assert.deepEqual(hub.log.filter((e) => e.method !== 'GET'), []);
  });

  it('survives a part upload dropped mid-body and a 500 on multipart completion', async () => {
    const drop = hub.injectFault({ kind: 'drop-upload', afterBytes: 50_000, routes: ['lfs-upload'], times: 1 });
    const fail = hub.injectFault({ kind: 'status', status: 500, routes: ['lfs-complete'], times: 1 });
    await run('hf://acme/Faulty');
    assert.equal(drop.applied, 1);
    assert.equal(fail.applied, 1);
    const source = await readPublishSource(tarPath, root);
    const weights = source.files.find((f) => f.path === 'model-Q8_0.gguf')!;
    assert.equal(hub.file('acme/Faulty', 'model-Q8_0.gguf').sha256, weights.manifestSha256);
    hub.clearFaults();
  });

  it('a commit whose answer never comes but which the hub made is found by re-reading the branch, not made twice', async () => {
    const hold = hub.injectFault({ kind: 'hold', ms: Infinity, routes: ['commit'], times: 1 });
    const out = await run('hf://acme/Timeout', { commitTimeoutMs: 300 });
    const r = out.kind === 'hf' ? out.hub : undefined!;
    assert.equal(hold.applied, 1);
    assert.equal(r.commits.length, 1);
    assert.equal(r.commits[0]!.recoveredAfterTimeout, true);
    assert.equal(r.commits[0]!.oid, hub.head('acme/Timeout'));
    const history = (await (await fetch(`${hub.url}/api/models/acme/Timeout/commits/main`, { headers: { authorization: `Bearer ${TOKENS.writer}` } })).json()) as unknown[];
    assert.equal(history.length, 2); // the repo's initial commit and ours, once
    hub.clearFaults();
  });

  it('a model.sig in the package goes into the repo with the other files', async () => {
    const signed = (await makePackage(join(root, 'p-sig'), { extra: { 'model.sig': '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}' } })).path;
    await publish({ source: signed, to: 'hf://acme/Signed', endpoint: hub.url, token: TOKENS.writer, retry: FAST_RETRY, env: env() });
    const source = await readPublishSource(signed, root);
    assert.equal(hub.file('acme/Signed', 'model.sig').sha256, source.files.find((f) => f.path === 'model.sig')!.manifestSha256);
  });

  it('refuses files over the limit before any request, with the split hint', async () => {
    hub.resetLog();
    await assert.rejects(run('hf://acme/Big', { maxFileBytes: 100_000 }), (e: unknown) => isLlamaError(e) && e.code === 'PUBLISH_FILE_TOO_LARGE' && e.exitCode === 2 && /--split-max-size/.test(e.hint));
    assert.equal(hub.log.length, 0);
  });

  it('typed errors: read token, foreign namespace, name taken, locked repo, not writable, 413, 429, 5xx', async () => {
    hub.resetLog();
    await rejectsWith(run('hf://acme/R', { token: TOKENS.reader }), 'PUBLISH_READ_ONLY_TOKEN', 5);
    assert.deepEqual(hub.log.map((e) => e.route), ['whoami']);
    await rejectsWith(run('hf://nobody/X'), 'PUBLISH_NAMESPACE', 5);
    const taken = hub.injectFault({ kind: 'status', status: 409, routes: ['create-repo'], message: 'You already created this model repo' });
    await rejectsWith(run('hf://acme/Taken'), 'PUBLISH_NAME_TAKEN', 2);
    taken.remove();
    await hub.addRepo({ id: 'acme/Locked', files: { 'a.txt': 'a' } });
    hub.setDisabled('acme/Locked', true);
    await rejectsWith(run('hf://acme/Locked'), 'PUBLISH_REPO_LOCKED', 5);
    await hub.addRepo({ id: 'meta-llama/Gated', gated: 'manual', files: { 'a.txt': 'a' } });
    await rejectsWith(run('hf://meta-llama/Gated'), 'PUBLISH_NOT_WRITABLE', 5);
    const big = hub.injectFault({ kind: 'status', status: 413, routes: ['commit'] });
    await rejectsWith(run('hf://acme/E413'), 'PUBLISH_TOO_LARGE', 6);
    big.remove();
    const busy = hub.injectFault({ kind: 'status', status: 429, retryAfter: 0, routes: ['preupload'] });
    await rejectsWith(run('hf://acme/E429'), 'HUB_UNAVAILABLE', 6);
    busy.remove();
    const down = hub.injectFault({ kind: 'status', status: 503, routes: ['lfs-upload'] });
    await rejectsWith(run('hf://acme/E503'), 'PUBLISH_UPLOAD_FAILED', 6);
    down.remove();
    await rejectsWith(run('hf://acme/NoToken', { token: undefined, env: { HOME: root, HF_HOME: join(root, 'empty-hf-home') } }), 'PUBLISH_NO_TOKEN', 5);
  });
});
