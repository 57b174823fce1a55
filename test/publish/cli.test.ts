/**
 * The built CLI (`npm run build` first): `llama publish` → `llama pull` → `llama verify` against the local hub, the
 * token never in output or in the repo, kill -9 in the middle of an upload then a rerun that sends only what is
 * missing, and the OCI round trip with --password-stdin against the real registry.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, runCli } from '../support/cli.ts';
import { startHubServer, type HubServer } from '../support/hub-server/index.ts';
import { registryAvailable, startRegistry } from '../support/registry/index.ts';
import { HUB_TOKENS, makePackage, TOKENS, treeDigests } from './helpers.ts';

let root: string;
let tarPath: string;
let dirPath: string;
let hub: HubServer;
let cliEnv: NodeJS.ProcessEnv;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-publish-cli-'));
  const extra = { 'extra.safetensors': Buffer.alloc(200_000, 7) };
  tarPath = (await makePackage(join(root, 'p1'), { extra })).path;
  dirPath = (await makePackage(join(root, 'p2'), { format: 'dir', extra })).path;
  hub = await startHubServer({ tokens: HUB_TOKENS });
  cliEnv = { HOME: root, HF_HOME: join(root, 'hf-home'), HF_TOKEN: '', HF_ENDPOINT: hub.url, DOCKER_CONFIG: join(root, 'docker') };
});
after(async () => {
  await hub.close();
  await rm(root, { recursive: true, force: true });
});

describe('llama publish (CLI)', () => {
  it('publish → pull → verify byte for byte; the token appears nowhere', async () => {
    const published = await runCli(['publish', tarPath, '--to', 'hf://acme/CliTiny', '--token', TOKENS.writer, '--private'], { env: cliEnv, cwd: root });
    assert.equal(published.code, 0, published.stderr);
    assert.match(published.stdout, /created .*acme\/CliTiny/);
    assert.match(published.stdout, /tag v1\.0\.0: created/);
    const again = await runCli(['publish', tarPath, '--to', 'hf://acme/CliTiny', '--token', TOKENS.writer, '--json'], { env: cliEnv, cwd: root });
    assert.equal(again.code, 0, again.stderr);
    const json = JSON.parse(again.stdout) as { hub: { files: { status: string }[]; commits: unknown[] } };
    assert.ok(json.hub.files.every((f) => f.status === 'unchanged'));
    assert.equal(json.hub.commits.length, 0);

    const local = join(root, 'pulled');
    const lock = join(root, 'llama.lock.json');
    const pulled = await runCli(['pull', 'acme/CliTiny', '--local-dir', local, '--lock', lock, '--token', TOKENS.writer], { env: cliEnv, cwd: root });
    assert.equal(pulled.code, 0, pulled.stderr);
    const verified = await runCli(['verify', local, '--lock', lock], { env: cliEnv, cwd: root });
    assert.equal(verified.code, 0, verified.stderr);
    assert.deepEqual(await treeDigests(local, ['.cache']), await treeDigests(dirPath));

    for (const out of [published, again, pulled, verified]) assert.ok(!(out.stdout + out.stderr).includes(TOKENS.writer));
    const refused = await runCli(['publish', tarPath, '--to', 'hf://acme/CliRead', '--token', TOKENS.reader], { env: cliEnv, cwd: root });
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /read token/);
    assert.ok(!(refused.stdout + refused.stderr).includes(TOKENS.reader));
    // Nor in the repo: no file on the hub holds it.
    for (const f of hub.files('acme/CliTiny')) {
      const res = await fetch(`${hub.url}/acme/CliTiny/resolve/main/${f.path}`, { headers: { authorization: `Bearer ${TOKENS.writer}` } });
      assert.ok(!Buffer.from(await res.arrayBuffer()).includes(TOKENS.writer), f.path);
    }
  });

  it('kill -9 during an upload, then a rerun sends only the files the hub does not have', async () => {
    // The second LFS object's PUT hangs before its body is read; the first has completed.
    const hold = hub.injectFault({ kind: 'hold', ms: Infinity, routes: ['lfs-upload'], skip: 1, times: 1 });
    hub.resetLog();
    const child = spawn(process.execPath, [CLI, 'publish', tarPath, '--to', 'hf://acme/Killed', '--token', TOKENS.writer], {
      cwd: root, env: { ...process.env, ...cliEnv }, stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    // Uploads run in parallel: kill only once the other object's PUT has completed, so exactly one is on the hub.
    const otherDone = (): boolean => hub.log.some((e) => e.route === 'lfs-upload' && !e.faults.includes('hold') && e.done && e.status === 200);
    for (let i = 0; hold.applied === 0 || !otherDone(); i++) {
      assert.ok(i < 600, 'the held upload never came, or the other upload never completed');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    await hub.idle();
    // The held PUT stored nothing (its log entry carries the fault); the other one completed.
    const firstRun = hub.log.filter((e) => e.route === 'lfs-upload' && !e.faults.includes('hold')).map((e) => e.path.split('?')[0]);
    assert.equal(firstRun.length, 1);
    assert.equal(hub.files('acme/Killed').length, 0); // nothing committed

    hub.resetLog();
    const rerun = await runCli(['publish', tarPath, '--to', 'hf://acme/Killed', '--token', TOKENS.writer], { env: cliEnv, cwd: root });
    assert.equal(rerun.code, 0, rerun.stderr);
    const secondRun = hub.log.filter((e) => e.route === 'lfs-upload').map((e) => e.path.split('?')[0]);
    assert.equal(secondRun.length, 1);
    assert.ok(!secondRun.includes(firstRun[0]), 'the completed object was sent again');
    const local = join(root, 'pulled-killed');
    const pulled = await runCli(['pull', 'acme/Killed', '--local-dir', local, '--lock', join(root, 'killed.lock.json'), '--token', TOKENS.writer], { env: cliEnv, cwd: root });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.deepEqual(await treeDigests(local, ['.cache']), await treeDigests(dirPath));
  });

  it('kill -9 while the commit is answered late (the hub made it): the rerun uploads nothing, commits nothing, tags', async () => {
    const hold = hub.injectFault({ kind: 'hold', ms: Infinity, routes: ['commit'], times: 1 });
    const child = spawn(process.execPath, [CLI, 'publish', tarPath, '--to', 'hf://acme/KilledAtCommit', '--token', TOKENS.writer], {
      cwd: root, env: { ...process.env, ...cliEnv }, stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    for (let i = 0; hold.applied === 0; i++) {
      assert.ok(i < 600, 'the commit never came');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    await hub.idle();
    const head = hub.head('acme/KilledAtCommit');
    assert.equal(hub.tags('acme/KilledAtCommit')['v1.0.0'], undefined);
    hub.resetLog();
    const rerun = await runCli(['publish', tarPath, '--to', 'hf://acme/KilledAtCommit', '--token', TOKENS.writer, '--json'], { env: cliEnv, cwd: root });
    assert.equal(rerun.code, 0, rerun.stderr);
    const json = JSON.parse(rerun.stdout) as { hub: { commits: unknown[]; tag: { status: string; commit: string } } };
    assert.equal(json.hub.commits.length, 0);
    assert.deepEqual([json.hub.tag.status, json.hub.tag.commit], ['created', head]);
    assert.deepEqual(hub.log.filter((e) => ['lfs-upload', 'commit'].includes(e.route)), []);
  });

  it('oci: publish with --password-stdin, then pull oci:// lays out the same files', { skip: registryAvailable() ? false : 'docker-registry is not installed' }, async () => {
    const registry = await startRegistry({ auth: 'token', users: { ci: 'stdin-secret-7' } });
    try {
      const ref = `oci://${registry.host}/acme/cli:1.0.0`;
      const published = await runCli(['publish', tarPath, '--to', ref, '--username', 'ci', '--password-stdin'], { env: cliEnv, cwd: root, input: 'stdin-secret-7\n' });
      assert.equal(published.code, 0, published.stderr);
      const digest = /manifest digest: (sha256:[0-9a-f]{64})/.exec(published.stdout)?.[1];
      assert.ok(digest, published.stdout);
      const dry = await runCli(['publish', dirPath, '--to', ref, '--dry-run', '--json'], { env: cliEnv, cwd: root });
      assert.equal((JSON.parse(dry.stdout) as { oci: { manifestDigest: string } }).oci.manifestDigest, digest);
      assert.ok(!(published.stdout + published.stderr).includes('stdin-secret-7'));

      const dockerDir = join(root, 'docker');
      const { mkdir, writeFile } = await import('node:fs/promises');
      await mkdir(dockerDir, { recursive: true });
      await writeFile(join(dockerDir, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('ci:stdin-secret-7').toString('base64') } } }));
      const out = join(root, 'oci-pulled');
      const pulled = await runCli(['pull', ref, '--local-dir', out], { env: cliEnv, cwd: root });
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(pulled.stdout, new RegExp(digest!.replace(':', ':')));
      assert.deepEqual(await treeDigests(out), await treeDigests(dirPath));
    } finally {
      await registry.close();
    }
  });
});
