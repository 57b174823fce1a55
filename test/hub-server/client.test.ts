/**
 * The fake hub against the official client, `@huggingface/hub` 2.17.5: if these pass, the server speaks the
 * protocol the way the client expects from huggingface.co. Object ids are checked against real `git`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  HubApiError, checkRepoAccess, downloadFile, downloadFileToCacheDir, fileDownloadInfo, fileExists, listFiles, modelInfo,
  pathsInfo, repoExists, snapshotDownload, whoAmI,
} from '@huggingface/hub';
import { startHubServer, type HubServer } from '../support/hub-server/index.ts';

const ALICE = 'hf_alicealicealice01';
const BOB = 'hf_bobbobbobbobbob02';
const CAROL = 'hf_carolcarolcarol03';

const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');
/** Deterministic pseudo-random bytes (weights stand-in). */
function bytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const README = '---\nlicense: llama3.2\nextra_gated_prompt: Accept the license\n---\n# Tiny\n';
const WEIGHTS = bytes(300_000, 7);
const TOKENIZER = bytes(5_000, 9);
const CONFIG = '{"model_type":"llama","hidden_size":64}\n';

async function collect<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of gen) out.push(item);
  return out;
}

async function apiError(promise: Promise<unknown>): Promise<HubApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HubApiError, `expected HubApiError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('hub server with @huggingface/hub', () => {
  let hub: HubServer;
  let tmp: string;
  let firstCommit: string;
  let openFirst: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'hub-client-'));
    hub = await startHubServer({ tokens: { [ALICE]: 'alice', [BOB]: 'bob', [CAROL]: 'carol' } });
    firstCommit = await hub.addRepo({
      id: 'meta-llama/Tiny',
      gated: 'manual',
      access: { alice: 'granted', bob: 'pending' },
      info: { pipeline_tag: 'text-generation', library_name: 'transformers' },
      files: {
        'README.md': README,
        'config.json': CONFIG,
        'model.safetensors': WEIGHTS,
        'original/tokenizer.model': TOKENIZER,
        'original/params.json': '{"dim":64}\n',
      },
    });
    openFirst = await hub.addRepo({ id: 'org/open', files: { 'config.json': CONFIG, 'model.safetensors': WEIGHTS } });
    await hub.addRepo({ id: 'alice/secret', private: true, files: { 'a.txt': 'secret\n' } });
  });

  after(async () => {
    await hub.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('modelInfo reports sha, gated, private and the card data from README front matter', async () => {
    const info = await modelInfo({ name: 'meta-llama/Tiny', hubUrl: hub.url, additionalFields: ['sha', 'cardData', 'filePaths'] });
    assert.equal(info.name, 'meta-llama/Tiny');
    assert.equal(info.gated, 'manual');
    assert.equal(info.private, false);
    assert.equal(info.task, 'text-generation');
    assert.equal(info.sha, firstCommit);
    assert.deepEqual(info.cardData, { license: 'llama3.2', extra_gated_prompt: 'Accept the license' });
    assert.deepEqual(
      info.filePaths,
      ['README.md', 'config.json', 'model.safetensors', 'original/params.json', 'original/tokenizer.model'],
    );
  });

  it('modelInfo at a branch, a tag and a commit follows the revision', async () => {
    const second = await hub.commit('org/open', { files: { 'config.json': '{"v":2}\n' }, message: 'Bump config' });
    hub.setTag('org/open', 'v1', openFirst);
    const atMain = await modelInfo({ name: 'org/open', hubUrl: hub.url, additionalFields: ['sha'] });
    const atTag = await modelInfo({ name: 'org/open', hubUrl: hub.url, revision: 'v1', additionalFields: ['sha'] });
    const atSha = await modelInfo({ name: 'org/open', hubUrl: hub.url, revision: second, additionalFields: ['sha'] });
    assert.equal(atMain.sha, second);
    assert.equal(atTag.sha, openFirst);
    assert.equal(atSha.sha, second);
    const missing = await apiError(modelInfo({ name: 'org/open', hubUrl: hub.url, revision: 'nope' }));
    assert.equal(missing.statusCode, 404);
  });


  it('tree ids, LFS pointers and commit ids are what git computes for the same content', async () => {
    const files = await collect(listFiles({ repo: 'meta-llama/Tiny', hubUrl: hub.url, recursive: true, revision: firstCommit }));
    // Build the same repository with git: LFS files are stored as their pointer text, as on the Hub.
    const work = join(tmp, 'git');
    await mkdir(work, { recursive: true });
    const content: Record<string, Buffer> = {
      'README.md': Buffer.from(README),
      'config.json': Buffer.from(CONFIG),
      'model.safetensors': Buffer.from(
        `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(WEIGHTS)}\nsize ${WEIGHTS.byteLength}\n`,
      ),
      'original/tokenizer.model': Buffer.from(
        `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(TOKENIZER)}\nsize ${TOKENIZER.byteLength}\n`,
      ),
      'original/params.json': Buffer.from('{"dim":64}\n'),
    };
    for (const [path, data] of Object.entries(content)) {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), data);
    }
    const env = {
      ...process.env, GIT_AUTHOR_NAME: 'meta-llama', GIT_AUTHOR_EMAIL: 'meta-llama@users.noreply.huggingface.co',
      GIT_COMMITTER_NAME: 'meta-llama', GIT_COMMITTER_EMAIL: 'meta-llama@users.noreply.huggingface.co',
      GIT_AUTHOR_DATE: '@1704067200 +0000', GIT_COMMITTER_DATE: '@1704067200 +0000', GIT_CONFIG_NOSYSTEM: '1', HOME: work,
    };
    const git = (...args: string[]): string => execFileSync('git', ['-c', 'commit.gpgsign=false', ...args], { cwd: work, env, encoding: 'utf8' });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'initial commit');
    assert.equal(git('rev-parse', 'HEAD').trim(), firstCommit);
    const gitOids = new Map(
      git('ls-tree', '-r', '-t', 'HEAD').trim().split('\n').map((line) => {
        const [meta = '', path = ''] = line.split('\t');
        return [path, meta.split(' ')[2]] as const;
      }),
    );
    assert.equal(files.length, gitOids.size);
    for (const entry of files) assert.equal(entry.oid, gitOids.get(entry.path), entry.path);
    const weights = files.find((f) => f.path === 'model.safetensors');
    assert.deepEqual(weights?.lfs, { oid: sha256(WEIGHTS), size: WEIGHTS.byteLength, pointerSize: content['model.safetensors']?.byteLength });
    assert.equal(files.find((f) => f.path === 'config.json')?.lfs, undefined);
    assert.equal(files.find((f) => f.path === 'original')?.type, 'directory');
  });

  it('listFiles pages through more than 1000 entries with absolute Link URLs', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 1203; i++) many[`d${String(Math.floor(i / 100)).padStart(2, '0')}/f${String(i).padStart(4, '0')}.txt`] = `file ${i}\n`;
    await hub.addRepo({ id: 'org/many', files: many });
    hub.resetLog();
    const entries = await collect(listFiles({ repo: 'org/many', hubUrl: hub.url, recursive: true }));
    assert.equal(entries.filter((e) => e.type === 'file').length, 1203);
    assert.equal(entries.filter((e) => e.type === 'directory').length, 13);
    assert.equal(new Set(entries.map((e) => e.path)).size, entries.length);
    assert.equal(hub.stats().byRoute.tree?.requests, 2);

    hub.resetLog();
    const expanded = await collect(listFiles({ repo: 'org/many', hubUrl: hub.url, path: 'd03', expand: true }));
    assert.equal(expanded.length, 100);
    assert.ok(expanded.every((e) => e.lastCommit?.id === hub.head('org/many')));
    assert.equal(hub.stats().byRoute.tree?.requests, 2, 'expand pages hold 50 entries');

    const top = await collect(listFiles({ repo: 'org/many', hubUrl: hub.url }));
    assert.deepEqual(top.map((e) => e.type), new Array(13).fill('directory'));
  });

  it('pathsInfo returns LFS info and the last commit that touched each path, and omits unknown paths', async () => {
    const before = hub.head('meta-llama/Tiny');
    const next = await hub.commit('meta-llama/Tiny', { files: { 'config.json': '{"model_type":"llama","hidden_size":128}\n' } });
    const infos = await pathsInfo({
      repo: 'meta-llama/Tiny', hubUrl: hub.url, paths: ['model.safetensors', 'config.json', 'nope.bin', 'original'], expand: true,
    });
    assert.deepEqual(infos.map((i) => i.path), ['model.safetensors', 'config.json', 'original']);
    assert.equal(infos[0]?.lfs?.oid, sha256(WEIGHTS));
    assert.equal(infos[0]?.lastCommit.id, before);
    assert.equal(infos[1]?.lastCommit.id, next);
    assert.equal(infos[2]?.type, 'directory');
  });

  it('downloadFile and fileDownloadInfo fetch small files and LFS files through the CDN redirect', async () => {
    const info = await fileDownloadInfo({ repo: 'org/open', path: 'model.safetensors', hubUrl: hub.url });
    assert.equal(info?.size, WEIGHTS.byteLength);
    assert.ok(info?.url.startsWith(hub.cdnUrl), 'X-Cache cloudfront makes the client keep the CDN URL');
    const blob = await downloadFile({ repo: 'org/open', path: 'model.safetensors', hubUrl: hub.url });
    assert.equal(sha256(new Uint8Array(await (blob as Blob).arrayBuffer())), sha256(WEIGHTS));

    const small = await fileDownloadInfo({ repo: 'org/open', path: 'config.json', hubUrl: hub.url, revision: openFirst });
    assert.equal(small?.etag, `"${createHash('sha1').update(`blob ${CONFIG.length}\0${CONFIG}`).digest('hex')}"`);
    const text = await (await downloadFile({ repo: 'org/open', path: 'config.json', hubUrl: hub.url }))?.text();
    assert.equal(text, '{"v":2}\n');

    assert.equal(await fileDownloadInfo({ repo: 'org/open', path: 'missing.bin', hubUrl: hub.url }), null);
  });

  it('downloadFileToCacheDir stores the blob under its sha256 with a snapshot symlink', async () => {
    const cacheDir = join(tmp, 'cache');
    const debug = console.debug;
    console.debug = () => {};
    try {
      const pointer = await downloadFileToCacheDir({
        repo: 'meta-llama/Tiny', path: 'model.safetensors', hubUrl: hub.url, cacheDir, accessToken: ALICE, revision: firstCommit,
      });
      assert.equal(pointer, join(cacheDir, 'models--meta-llama--Tiny', 'snapshots', firstCommit, 'model.safetensors'));
      assert.equal(await readlink(pointer), `../../blobs/${sha256(WEIGHTS)}`);
      assert.equal(sha256(await readFile(pointer)), sha256(WEIGHTS));
      const snapshot = await snapshotDownload({ repo: 'org/open', hubUrl: hub.url, cacheDir });
      assert.equal(await readFile(join(snapshot, 'config.json'), 'utf8'), '{"v":2}\n');
    } finally {
      console.debug = debug;
    }
  });

  it('gated repos: 401 anonymous, 403 not authorized, 403 pending, bytes when granted', async () => {
    const get = (accessToken?: string): Promise<Blob | null> =>
      downloadFile({ repo: 'meta-llama/Tiny', path: 'config.json', hubUrl: hub.url, ...(accessToken ? { accessToken } : {}) });
    assert.equal((await apiError(get())).statusCode, 401);
    const pending = await apiError(get(BOB));
    assert.equal(pending.statusCode, 403);
    assert.match(String(pending.data?.message), /awaiting a review/);
    const notAuthorized = await apiError(get(CAROL));
    assert.equal(notAuthorized.statusCode, 403);
    assert.match(String(notAuthorized.data?.message), /not in the authorized list/);
    assert.equal(await (await get(ALICE))?.text(), '{"model_type":"llama","hidden_size":128}\n');
    // Metadata stays readable without a token.
    const files = await collect(listFiles({ repo: 'meta-llama/Tiny', hubUrl: hub.url }));
    assert.ok(files.length > 0);
  });

  it('private and unknown repos: 401 anonymous, 404 with a token; a bad token is 401 everywhere', async () => {
    assert.equal((await apiError(modelInfo({ name: 'alice/secret', hubUrl: hub.url }))).statusCode, 401);
    assert.equal((await apiError(modelInfo({ name: 'alice/secret', hubUrl: hub.url, accessToken: BOB }))).statusCode, 404);
    const own = await modelInfo({ name: 'alice/secret', hubUrl: hub.url, accessToken: ALICE });
    assert.equal(own.private, true);
    assert.equal((await apiError(modelInfo({ name: 'org/unknown', hubUrl: hub.url, accessToken: BOB }))).statusCode, 404);
    assert.equal((await apiError(modelInfo({ name: 'org/open', hubUrl: hub.url, accessToken: 'hf_notaknowntoken00' }))).statusCode, 401);
    assert.ok(hub.log.every((e) => !JSON.stringify(e).includes('hf_')), 'the log never holds token values');
  });

  it('fileExists, repoExists, checkRepoAccess and whoAmI get the answers they expect', async () => {
    assert.equal(await fileExists({ repo: 'org/open', path: 'config.json', hubUrl: hub.url }), true);
    assert.equal(await fileExists({ repo: 'org/open', path: 'model.safetensors', hubUrl: hub.url }), true);
    assert.equal(await fileExists({ repo: 'org/open', path: 'nope.json', hubUrl: hub.url }), false);
    assert.equal(await repoExists({ repo: 'org/open', hubUrl: hub.url }), true);
    assert.equal(await repoExists({ repo: 'alice/secret', hubUrl: hub.url }), false);
    assert.equal(await repoExists({ repo: 'alice/secret', hubUrl: hub.url, accessToken: ALICE }), true);
    await checkRepoAccess({ repo: 'meta-llama/Tiny', hubUrl: hub.url, accessToken: CAROL });
    assert.equal((await apiError(checkRepoAccess({ repo: 'org/unknown', hubUrl: hub.url, accessToken: CAROL }))).statusCode, 404);
    const me = await whoAmI({ hubUrl: hub.url, accessToken: BOB });
    assert.equal(me.name, 'bob');
  });
});
