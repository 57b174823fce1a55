/**
 * Wire-level checks with plain fetch for what the official client does not read: X-Error-Code/X-Error-Message,
 * X-Linked-*, X-Repo-Commit, Range/206/416/If-Range, redirects, signed-URL expiry, form-encoded paths-info.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { modelInfo } from '@huggingface/hub';
import { startHubServer, type HubServer } from '../support/hub-server/index.ts';

const TOKEN = 'hf_protocoltester001';
const OTHER = 'hf_protocolother0002';
const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');
const gitSha1 = (data: Buffer): string => createHash('sha1').update(`blob ${data.byteLength}\0`).update(data).digest('hex');

const WEIGHTS = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 0xff));
const CONFIG = Buffer.from('{"hidden_size":64}\n');
const auth = (token = TOKEN): Record<string, string> => ({ Authorization: `Bearer ${token}` });

describe('hub server wire protocol', () => {
  let hub: HubServer;
  let v1: string;

  before(async () => {
    hub = await startHubServer({ tokens: { [TOKEN]: 'tester', [OTHER]: 'other' } });
    v1 = await hub.addRepo({
      id: 'org/model',
      files: { 'config.json': CONFIG, 'model.safetensors': WEIGHTS, 'README.md': '---\nlicense: apache-2.0\n---\n' },
    });
    await hub.addRepo({ id: 'org/gated', gated: 'auto', access: { tester: 'granted' }, files: { 'config.json': CONFIG, 'model.safetensors': WEIGHTS } });
  });
  after(() => hub.close());

  const get = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${hub.url}${path}`, { redirect: 'manual', ...init });

  it('model info honours expand and blobs', async () => {
    const full = (await (await get('/api/models/org/model')).json()) as Record<string, unknown>;
    assert.equal(full.sha, v1);
    assert.deepEqual(full.cardData, { license: 'apache-2.0' });
    const picked = (await (await get('/api/models/org/model/revision/main?expand=sha&expand=gated')).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(picked).sort(), ['_id', 'gated', 'id', 'sha']);
    const blobs = (await (await get('/api/models/org/model?blobs=true')).json()) as { siblings: Record<string, unknown>[] };
    const weights = blobs.siblings.find((s) => s.rfilename === 'model.safetensors');
    assert.deepEqual(weights?.lfs, { sha256: sha256(WEIGHTS), size: WEIGHTS.byteLength, pointerSize: Buffer.byteLength(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(WEIGHTS)}\nsize ${WEIGHTS.byteLength}\n`) });
  });

  it('tree pages carry an absolute Link with a space after the semicolon, and the last page none', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 120; i++) files[`f${String(i).padStart(3, '0')}.txt`] = String(i);
    await hub.addRepo({ id: 'org/paged', files });
    const first = await get('/api/models/org/paged/tree/main?recursive=false&expand=true');
    const link = first.headers.get('link') ?? '';
    assert.match(link, /^<http:\/\/127\.0\.0\.1:\d+\/api\/models\/org\/paged\/tree\/main\?[^>]*cursor=[^>]+>; rel="next"$/);
    assert.equal(((await first.json()) as unknown[]).length, 50);
    const next = /<([^>]+)>/.exec(link)?.[1] ?? '';
    const second = await fetch(next);
    const third = await fetch(/<([^>]+)>/.exec(second.headers.get('link') ?? '')?.[1] ?? '');
    assert.equal(((await second.json()) as unknown[]).length, 50);
    assert.equal(((await third.json()) as { path: string }[]).at(-1)?.path, 'f119.txt');
    assert.equal(third.headers.get('link'), null);
  });

  it('paths-info accepts the form-encoded body Python sends', async () => {
    const res = await get('/api/models/org/model/paths-info/main', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'paths=model.safetensors&paths=config.json&paths=missing&expand=True',
    });
    const list = (await res.json()) as { path: string; lastCommit?: { id: string }; lfs?: { oid: string } }[];
    assert.deepEqual(list.map((e) => e.path), ['model.safetensors', 'config.json']);
    assert.equal(list[0]?.lfs?.oid, sha256(WEIGHTS));
    assert.equal(list[1]?.lastCommit?.id, v1);
  });

  it('LFS resolve is a 302 carrying X-Linked-Etag/Size and X-Repo-Commit; the CDN answers without them', async () => {
    for (const method of ['HEAD', 'GET']) {
      const res = await get('/org/model/resolve/main/model.safetensors', { method });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('x-linked-etag'), `"${sha256(WEIGHTS)}"`);
      assert.equal(res.headers.get('x-linked-size'), String(WEIGHTS.byteLength));
      assert.equal(res.headers.get('x-repo-commit'), v1);
      assert.ok(res.headers.get('location')?.startsWith(`${hub.cdnUrl}/`));
      assert.notEqual(hub.cdnUrl, hub.url);
    }
    const location = (await get('/org/model/resolve/main/model.safetensors')).headers.get('location') ?? '';
    const cdn = await fetch(location);
    assert.equal(cdn.status, 200);
    assert.equal(cdn.headers.get('x-linked-etag'), null);
    assert.equal(cdn.headers.get('x-repo-commit'), null);
    assert.notEqual(cdn.headers.get('etag'), `"${sha256(WEIGHTS)}"`);
    assert.equal(sha256(Buffer.from(await cdn.arrayBuffer())), sha256(WEIGHTS));
  });

  it('fetch drops Authorization on the cross-origin CDN hop', async () => {
    hub.resetLog();
    const res = await fetch(`${hub.url}/org/gated/resolve/main/model.safetensors`, { headers: auth() });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const [resolve, cdn] = hub.log;
    assert.equal(resolve?.authorization, true);
    assert.equal(cdn?.server, 'cdn');
    assert.equal(cdn?.authorization, false);
  });

  it('a same-origin CDN keeps Authorization on the hop', async () => {
    const same = await startHubServer({ cdn: 'same-origin', tokens: { [TOKEN]: 'tester' } });
    try {
      await same.addRepo({ id: 'org/m', files: { 'model.safetensors': WEIGHTS } });
      const res = await fetch(`${same.url}/org/m/resolve/main/model.safetensors`, { headers: auth() });
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(WEIGHTS));
      assert.equal(same.cdnUrl, same.url);
      assert.deepEqual(same.log.map((e) => [e.route, e.authorization]), [['resolve', true], ['cdn', true]]);
    } finally {
      await same.close();
    }
  });

  it('public small files redirect (307) to resolve-cache; gated ones are served directly with the git sha1 ETag', async () => {
    const res = await get('/org/model/resolve/main/config.json');
    assert.equal(res.status, 307);
    const location = res.headers.get('location') ?? '';
    assert.match(location, new RegExp(`^/api/resolve-cache/models/org/model/${v1}/config\\.json\\?`));
    const cached = await get(location);
    assert.equal(cached.headers.get('etag'), `"${gitSha1(CONFIG)}"`);
    assert.equal(await cached.text(), CONFIG.toString());

    const direct = await get('/org/gated/resolve/main/config.json', { method: 'HEAD', headers: auth() });
    assert.equal(direct.status, 200);
    assert.equal(direct.headers.get('etag'), `"${gitSha1(CONFIG)}"`);
    assert.equal(direct.headers.get('content-length'), String(CONFIG.byteLength));
    assert.equal(direct.headers.get('x-repo-commit'), hub.head('org/gated'));
    assert.equal(direct.headers.get('accept-ranges'), 'bytes');
  });

  it('Range gives 206 with Content-Range, 416 when unsatisfiable, 200 for several ranges', async () => {
    const location = (await get('/org/model/resolve/main/model.safetensors')).headers.get('location') ?? '';
    const size = WEIGHTS.byteLength;
    const cases: [string, number, number][] = [['bytes=0-0', 0, 0], ['bytes=10-19', 10, 19], ['bytes=4000-', 4000, size - 1], ['bytes=-16', size - 16, size - 1], ['bytes=4090-9999', 4090, size - 1]];
    for (const [range, start, end] of cases) {
      const res = await fetch(location, { headers: { Range: range } });
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${size}`);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), WEIGHTS.subarray(start, end + 1));
    }
    const beyond = await fetch(location, { headers: { Range: `bytes=${size}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${size}`);
    await beyond.arrayBuffer();
    const multi = await fetch(location, { headers: { Range: 'bytes=0-1,5-6' } });
    assert.equal(multi.status, 200);
    assert.equal((await multi.arrayBuffer()).byteLength, size);
  });

  it('If-Range keeps the range only for the current ETag', async () => {
    const head = await get('/org/gated/resolve/main/config.json', { headers: auth() });
    const etag = head.headers.get('etag') ?? '';
    await head.arrayBuffer();
    const same = await get('/org/gated/resolve/main/config.json', { headers: { ...auth(), Range: 'bytes=5-', 'If-Range': etag } });
    assert.equal(same.status, 206);
    assert.equal(await same.text(), CONFIG.subarray(5).toString());
    const stale = await get('/org/gated/resolve/main/config.json', { headers: { ...auth(), Range: 'bytes=5-', 'If-Range': '"0000"' } });
    assert.equal(stale.status, 200);
    assert.equal(await stale.text(), CONFIG.toString());
  });

  it('raw serves the LFS pointer; If-None-Match with the current ETag is a 304', async () => {
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(WEIGHTS)}\nsize ${WEIGHTS.byteLength}\n`;
    const raw = await get('/org/gated/raw/main/model.safetensors', { headers: auth() });
    assert.equal(raw.status, 200);
    assert.equal(await raw.text(), pointer);
    assert.equal(raw.headers.get('etag'), `"${gitSha1(Buffer.from(pointer))}"`);
    const etag = `"${gitSha1(CONFIG)}"`;
    const cached = await get('/org/gated/resolve/main/config.json', { headers: { ...auth(), 'If-None-Match': etag } });
    assert.equal(cached.status, 304);
    const changed = await get('/org/gated/resolve/main/config.json', { headers: { ...auth(), 'If-None-Match': '"other"' } });
    assert.equal(changed.status, 200);
    await changed.arrayBuffer();
  });

  it('signed CDN URLs expire: 403 from the CDN, and a fresh resolve works again', async () => {
    const location = (await get('/org/model/resolve/main/model.safetensors')).headers.get('location') ?? '';
    hub.expireSignedUrls();
    const expired = await fetch(location);
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /<Code>AccessDenied<\/Code>/);
    const fresh = (await get('/org/model/resolve/main/model.safetensors')).headers.get('location') ?? '';
    assert.equal((await fetch(fresh, { method: 'HEAD' })).status, 200);
    const tampered = await fetch(fresh.replace(/Signature=([0-9a-f])/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`), { method: 'HEAD' });
    assert.equal(tampered.status, 403);

    const shortLived = await startHubServer({ signedUrlTtlMs: 0 });
    try {
      await shortLived.addRepo({ id: 'org/m', files: { 'model.safetensors': WEIGHTS } });
      const res = await fetch(`${shortLived.url}/org/m/resolve/main/model.safetensors`);
      assert.equal(res.status, 403);
      assert.match(await res.text(), /Request has expired/);
    } finally {
      await shortLived.close();
    }
  });

  it('errors carry the Hub status, X-Error-Code, X-Error-Message and a JSON body on /api', async () => {
    const check = async (path: string, headers: Record<string, string>, status: number, code: string | null, message: RegExp): Promise<void> => {
      const res = await get(path, { headers });
      assert.equal(res.status, status, path);
      assert.equal(res.headers.get('x-error-code'), code, path);
      assert.match(res.headers.get('x-error-message') ?? '', message, path);
      assert.ok(res.headers.get('x-request-id'));
      const text = await res.text();
      if (path.startsWith('/api/')) assert.match((JSON.parse(text) as { error: string }).error, message);
      else assert.match(text, message);
    };
    await check('/api/models/org/none', {}, 401, null, /^Invalid username or password\.$/);
    await check('/api/models/org/none', auth(), 404, 'RepoNotFound', /^Repository not found$/);
    await check('/api/models/org/model/revision/nope', {}, 404, 'RevisionNotFound', /^Invalid rev id: nope$/);
    await check('/api/models/org/model/tree/main/nope', {}, 404, 'EntryNotFound', /^Entry not found$/);
    await check('/org/model/resolve/main/nope.bin', {}, 404, 'EntryNotFound', /^Entry not found$/);
    await check('/org/model/resolve/nope/config.json', {}, 404, 'RevisionNotFound', /nope/);
    await check('/org/gated/resolve/main/config.json', {}, 401, 'GatedRepo', /^Access to model org\/gated is restricted\. You must have access to it and be authenticated to access it\. Please log in\.$/);
    await check('/org/gated/resolve/main/config.json', auth(OTHER), 403, 'GatedRepo', /^Access to model org\/gated is restricted and you are not in the authorized list\. Visit http:\/\/127\.0\.0\.1:\d+\/org\/gated to ask for access\.$/);
    assert.equal(hub.requestAccess('org/gated', 'other'), 'granted', "'auto' gating grants on request");
    hub.setAccess('org/gated', 'other', 'pending');
    await check('/api/models/org/gated/auth-check', auth(OTHER), 403, 'GatedRepo', /^Your request to access model org\/gated is awaiting a review from the repo authors\.$/);
    hub.setAccess('org/gated', 'other', undefined);
    await check('/api/models/org/model', auth('hf_unknowntoken0000'), 401, null, /^Invalid credentials in Authorization header$/);
    const anon = await get('/api/models/org/none');
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    await anon.arrayBuffer();
  });

  it('a moved branch resolves to the new commit while the old sha still serves the old bytes', async () => {
    const v2 = await hub.commit('org/model', { files: { 'config.json': '{"hidden_size":128}\n' }, message: 'Widen' });
    const atMain = await get('/org/model/resolve/main/config.json');
    assert.equal(atMain.headers.get('x-repo-commit'), v2);
    await atMain.arrayBuffer();
    const old = await fetch(`${hub.url}/org/model/resolve/${v1}/config.json`);
    assert.equal(await old.text(), CONFIG.toString());
    hub.setBranch('org/model', 'main', v1);
    const back = await get('/org/model/resolve/main/config.json', { method: 'HEAD' });
    assert.equal(back.headers.get('x-repo-commit'), v1);
    hub.setBranch('org/model', 'main', v2);
    hub.setTag('org/model', 'v1.0', v1);
    hub.setBranch('org/model', 'dev', v1);
    const refs = (await (await get('/api/models/org/model/refs')).json()) as { branches: { name: string; targetCommit: string }[]; tags: { name: string; targetCommit: string }[] };
    assert.deepEqual(refs.branches.map((b) => [b.name, b.targetCommit]), [['dev', v1], ['main', v2]]);
    assert.deepEqual(refs.tags.map((t) => [t.name, t.targetCommit]), [['v1.0', v1]]);
    const commits = (await (await get('/api/models/org/model/commits/main')).json()) as { id: string; title: string }[];
    assert.deepEqual(commits.map((c) => c.id), [v2, v1]);
    const viaTag = await get('/api/models/org/model/revision/v1.0?expand=sha');
    assert.equal(((await viaTag.json()) as { sha: string }).sha, v1);
  });

  it('whoami-v2 names the token user and 401s anonymous callers', async () => {
    const me = (await (await get('/api/whoami-v2', { headers: auth() })).json()) as { name: string };
    assert.equal(me.name, 'tester');
    assert.equal((await get('/api/whoami-v2')).status, 401);
  });
});

describe('hub server redirects for renamed and mis-cased repos', () => {
  it('answers 307 with a path-only Location that fetch and the official client follow', async () => {
    const hub = await startHubServer();
    try {
      await hub.addRepo({ id: 'Org/Renamed-Old', files: { 'config.json': CONFIG, 'model.safetensors': WEIGHTS } });
      hub.renameRepo('Org/Renamed-Old', 'org/renamed');
      const res = await fetch(`${hub.url}/api/models/Org/Renamed-Old/tree/main?recursive=true`, { redirect: 'manual' });
      assert.equal(res.status, 307);
      assert.equal(res.headers.get('location'), '/api/models/org/renamed/tree/main?recursive=true');
      await res.arrayBuffer();

      const cased = await fetch(`${hub.url}/ORG/RENAMED/resolve/main/model.safetensors`, { redirect: 'manual', method: 'HEAD' });
      assert.equal(cased.status, 307);
      assert.equal(cased.headers.get('location'), '/org/renamed/resolve/main/model.safetensors');

      // 307 keeps method and body, so a POST to the old name still gets its answer.
      const info = await fetch(`${hub.url}/api/models/Org/Renamed-Old/paths-info/main`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ paths: ['config.json'] }),
      });
      assert.deepEqual(((await info.json()) as { path: string }[]).map((e) => e.path), ['config.json']);
      assert.equal((await modelInfo({ name: 'Org/Renamed-Old', hubUrl: hub.url })).name, 'org/renamed');
      const none = await fetch(`${hub.url}/api/models/org/never`);
      assert.equal(none.status, 401);
      await none.arrayBuffer();
    } finally {
      await hub.close();
    }
  });
});
