/**
 * The local hub's upload side, driven by `@huggingface/hub` itself (createRepo, commit, uploadFiles): what it
 * stores is what downloads serve, byte for byte; objects are checked against their oid; multipart parts need ETags.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { commit, createRepo, downloadFile, HubApiError, listFiles } from '@huggingface/hub';
import { startHubServer, type HubServer } from '../support/hub-server/index.ts';

const TOKEN = 'hf_writer00000000000';
const READ = 'hf_reader00000000000';
let hub: HubServer;

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

before(async () => {
  hub = await startHubServer({
    tokens: { [TOKEN]: { user: 'alice', orgs: ['acme'] }, [READ]: { user: 'alice', role: 'read' } },
    upload: { multipartChunkSize: 100_000 },
  });
});
after(() => hub.close());

describe('hub uploads through @huggingface/hub', () => {
  it('creates a repo, commits a regular file and LFS files (basic and multipart), and serves them back', async () => {
    const repo = { type: 'model' as const, name: 'acme/Up' };
    await createRepo({ repo, accessToken: TOKEN, hubUrl: hub.url, visibility: 'private' });
    const small = new TextEncoder().encode('{"a":1}\n');
    const basic = bytes(60_000, 1);
    const multi = bytes(250_001, 2); // 3 parts of 100 000
    const out = await commit({
      repo, accessToken: TOKEN, hubUrl: hub.url, title: 'add files',
      operations: [
        { operation: 'addOrUpdate', path: 'config.json', content: new Blob([small]) },
        { operation: 'addOrUpdate', path: 'a.gguf', content: new Blob([basic]) },
        { operation: 'addOrUpdate', path: 'sub/b.safetensors', content: new Blob([multi]) },
      ],
    });
    assert.equal(out?.commit.oid, hub.head('acme/Up'));
    const files = hub.files('acme/Up');
    assert.deepEqual(files.map((f) => [f.path, f.lfs, f.sha256]), [
      ['a.gguf', true, sha256(basic)],
      ['config.json', false, sha256(small)],
      ['sub/b.safetensors', true, sha256(multi)],
    ]);
    // Three part PUTs and one completion for the multipart object; presigned PUTs carry no token.
    const puts = hub.log.filter((e) => e.route === 'lfs-upload');
    assert.equal(puts.length, 4);
    assert.ok(puts.every((e) => !e.authorization));
    assert.equal(hub.log.filter((e) => e.route === 'lfs-complete' && e.status === 200).length, 1);
    const back = await downloadFile({ repo, path: 'sub/b.safetensors', hubUrl: hub.url, accessToken: TOKEN });
    assert.equal(sha256(new Uint8Array(await (back as Blob).arrayBuffer())), sha256(multi));
    const listed: string[] = [];
    for await (const f of listFiles({ repo, hubUrl: hub.url, accessToken: TOKEN, recursive: true })) listed.push(f.path);
    assert.deepEqual(listed, ['a.gguf', 'config.json', 'sub', 'sub/b.safetensors']);
  });

  it('skips objects it already has (a second commit of the same bytes sends no PUT)', async () => {
    const repo = { type: 'model' as const, name: 'alice/Again' };
    await createRepo({ repo, accessToken: TOKEN, hubUrl: hub.url });
    const data = bytes(70_000, 3);
    await commit({ repo, accessToken: TOKEN, hubUrl: hub.url, title: 'one', operations: [{ operation: 'addOrUpdate', path: 'w.gguf', content: new Blob([data]) }] });
    hub.resetLog();
    await commit({ repo, accessToken: TOKEN, hubUrl: hub.url, title: 'two', operations: [{ operation: 'addOrUpdate', path: 'copy.gguf', content: new Blob([data]) }] });
    assert.equal(hub.log.filter((e) => e.route === 'lfs-upload').length, 0);
    assert.equal(hub.file('alice/Again', 'copy.gguf').sha256, sha256(data));
  });

  it('refuses a read token, a foreign namespace, an existing name, and a stale parentCommit', async () => {
    const repo = { type: 'model' as const, name: 'alice/Guarded' };
    await assert.rejects(createRepo({ repo, accessToken: READ, hubUrl: hub.url }), (e: unknown) => e instanceof HubApiError && e.statusCode === 403);
    await assert.rejects(createRepo({ repo: 'bob/x', accessToken: TOKEN, hubUrl: hub.url }), (e: unknown) => e instanceof HubApiError && e.statusCode === 403);
    await createRepo({ repo, accessToken: TOKEN, hubUrl: hub.url });
    await assert.rejects(createRepo({ repo, accessToken: TOKEN, hubUrl: hub.url }), (e: unknown) => e instanceof HubApiError && e.statusCode === 409);
    const op = { operation: 'addOrUpdate' as const, path: 'x.txt', content: new Blob(['x']) };
    await assert.rejects(commit({ repo, accessToken: READ, hubUrl: hub.url, title: 't', operations: [op] }), (e: unknown) => e instanceof HubApiError && e.statusCode === 403);
    const stale = hub.head('alice/Guarded');
    await commit({ repo, accessToken: TOKEN, hubUrl: hub.url, title: 't', operations: [op] });
    await assert.rejects(
      commit({ repo, accessToken: TOKEN, hubUrl: hub.url, title: 't2', parentCommit: stale, operations: [{ ...op, content: new Blob(['y']) }] }),
      (e: unknown) => e instanceof HubApiError && e.statusCode === 412,
    );
    hub.setDisabled('alice/Guarded', true);
    await assert.rejects(commit({ repo, accessToken: TOKEN, hubUrl: hub.url, title: 't', operations: [op] }), (e: unknown) => e instanceof HubApiError && e.statusCode === 403 && /disabled/.test(e.message));
  });

  it('keeps nothing whose bytes do not hash to the oid', async () => {
    await createRepo({ repo: 'alice/Liar', accessToken: TOKEN, hubUrl: hub.url });
    const real = bytes(5000, 9);
    const claimed = sha256(bytes(5000, 10));
    const batch = await fetch(`${hub.url}/alice/Liar.git/info/lfs/objects/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/vnd.git-lfs+json' },
      body: JSON.stringify({ operation: 'upload', transfers: ['basic'], hash_algo: 'sha_256', ref: { name: 'main' }, objects: [{ oid: claimed, size: 5000 }] }),
    });
    const json = (await batch.json()) as { objects: { actions: { upload: { href: string } } }[] };
    const put = await fetch(json.objects[0]!.actions.upload.href, { method: 'PUT', body: real });
    assert.equal(put.status, 400);
    assert.match(await put.text(), /BadDigest/);
    assert.equal(hub.hasObject(claimed), false);
    const commitRes = await fetch(`${hub.url}/api/models/alice/Liar/commit/main`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' },
      body: [JSON.stringify({ key: 'header', value: { summary: 's' } }), JSON.stringify({ key: 'lfsFile', value: { path: 'w.gguf', algo: 'sha256', size: 5000, oid: claimed } })].join('\n'),
    });
    assert.equal(commitRes.status, 422);
  });

  it('tags a commit once (409 when the tag exists)', async () => {
    const url = `${hub.url}/api/models/alice/Again/tag/main`;
    const post = () => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ tag: 'v1.0.0' }) });
    assert.equal((await post()).status, 200);
    assert.equal((await post()).status, 409);
    assert.equal(hub.tags('alice/Again')['v1.0.0'], hub.head('alice/Again'));
  });
});
