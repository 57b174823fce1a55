/**
 * `publish --to oci://` and `pull oci://` against a real registry (Debian's docker-registry 2.8, started per suite
 * on 127.0.0.1), cross-checked with skopeo: the registry holds exactly the manifest, config and blobs computed here,
 * the digest is reproducible, blobs are skipped or mounted, auth works the ways registries do it, and pull verifies
 * every digest.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isLlamaError } from '../../src/errors.ts';
import { buildArtifact } from '../../src/publish/oci-artifact.ts';
import { RegistryClient, parseChallenge } from '../../src/publish/oci-registry.ts';
import { publish, pullFromRegistry, readPublishSource, type OciPushResult } from '../../src/publish/index.ts';
import { registryAvailable, startRegistry, HTPASSWD_PASSWORD, HTPASSWD_USER, type TestRegistry } from '../support/registry/index.ts';
import { FAST_RETRY, makePackage, sha256, treeDigests } from './helpers.ts';

const skip = registryAvailable() ? false : 'docker-registry is not installed (apt-get install docker-registry skopeo)';
let root: string;
let tarPath: string;
let dirPath: string;
let sigTar: string;
let sigDir: string;

before(async () => {
  if (skip) return;
  root = await mkdtemp(join(tmpdir(), 'llama-oci-'));
  tarPath = (await makePackage(join(root, 'p1'))).path;
  dirPath = (await makePackage(join(root, 'p2'), { format: 'dir' })).path;
  const signature = JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', note: 'stand-in bundle' });
  sigTar = (await makePackage(join(root, 'p3'), { extra: { 'model.sig': signature } })).path;
  sigDir = (await makePackage(join(root, 'p4'), { format: 'dir', extra: { 'model.sig': signature } })).path;
});
after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}): Record<string, string | undefined> => ({ HOME: root, PATH: process.env.PATH, ...extra });

async function push(registry: TestRegistry, repo: string, extra: Partial<Parameters<typeof publish>[0]> = {}): Promise<OciPushResult> {
  const out = await publish({ source: tarPath, to: `oci://${registry.host}/${repo}`, retry: FAST_RETRY, env: env(), ...extra });
  assert.equal(out.kind, 'oci');
  return out.kind === 'oci' ? out.oci : (undefined as never);
}

function skopeo(...args: string[]): Buffer {
  return execFileSync('skopeo', args, { maxBuffer: 64 << 20 });
}

describe('publish to an OCI registry', { skip }, () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry();
  });
  after(() => registry?.close());

  it('pushes a ModelPack artifact that skopeo reads back byte for byte, and pull lays out the package again', async () => {
    const r = await push(registry, 'acme/tiny:1.0.0');
    const source = await readPublishSource(tarPath, root);
    const built = await buildArtifact(source, { format: 'modelpack', env: env() });
    assert.equal(r.manifestDigest, built.manifestDigest);
    assert.equal(r.blobs.uploaded, source.files.length);
    const raw = skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/acme/tiny:1.0.0`);
    assert.deepEqual(raw, built.manifest);
    const manifest = JSON.parse(raw.toString('utf8')) as { artifactType: string; config: { mediaType: string }; layers: { mediaType: string; digest: string; annotations: Record<string, string> }[] };
    assert.equal(manifest.artifactType, 'application/vnd.cncf.model.manifest.v1+json');
    assert.equal(manifest.config.mediaType, 'application/vnd.cncf.model.config.v1+json');
    const byPath = new Map(manifest.layers.map((l) => [l.annotations['org.cncf.model.filepath'], l] as const));
    assert.equal(byPath.get('model-Q8_0.gguf')?.mediaType, 'application/vnd.cncf.model.weight.v1.raw');
    assert.equal(byPath.get('tokenizer/tokenizer_config.json')?.mediaType, 'application/vnd.cncf.model.weight.config.v1.raw');
    assert.equal(byPath.get('LICENSE')?.mediaType, 'application/vnd.cncf.model.doc.v1.raw');
    const meta = JSON.parse(byPath.get('model-Q8_0.gguf')!.annotations['org.cncf.model.file.metadata+json']!) as Record<string, unknown>;
    assert.deepEqual(meta, { name: 'model-Q8_0.gguf', mode: 0o644, uid: 0, gid: 0, size: source.files.find((f) => f.path === 'model-Q8_0.gguf')!.size, mtime: '2023-11-14T22:13:20Z', typeflag: 48 });
    const config = JSON.parse(skopeo('inspect', '--raw', '--config', '--tls-verify=false', `docker://${registry.host}/acme/tiny:1.0.0`).toString('utf8')) as {
      descriptor: { licenses: string[]; createdAt: string; name: string; version: string }; modelfs: { type: string; diffIds: string[] }; config: { format: string; quantization: string };
    };
    assert.deepEqual(config.descriptor.licenses, ['LicenseRef-scancode-llama-3.2-license-2024']);
    assert.equal(config.descriptor.createdAt, '2023-11-14T22:13:20Z');
    assert.deepEqual(config.modelfs, { type: 'layers', diffIds: manifest.layers.map((l) => l.digest) });
    assert.equal(config.config.format, 'gguf');
    assert.equal(config.config.quantization, 'Q8_0');

    // skopeo copy fetches every blob; each is the package file its layer names.
    const copied = join(root, 'skopeo-copy');
    skopeo('copy', '--src-tls-verify=false', `docker://${registry.host}/acme/tiny:1.0.0`, `dir:${copied}`);
    const names = new Set(await readdir(copied));
    for (const layer of manifest.layers) {
      const hex = layer.digest.slice('sha256:'.length);
      assert.ok(names.has(hex), `skopeo copied ${hex}`);
      assert.equal(sha256(await readFile(join(copied, hex))), hex);
    }

    const out = join(root, 'pulled');
    const pulled = await pullFromRegistry({ reference: `oci://${registry.host}/acme/tiny:1.0.0`, localDir: out, env: env() });
    assert.equal(pulled.manifestDigest, r.manifestDigest);
    assert.deepEqual(await treeDigests(out), await treeDigests(dirPath));
  });

  it('is reproducible: dry run, tar and directory give the same digest; a second push sends nothing; another epoch another digest', async () => {
    const first = await push(registry, 'acme/tiny:1.0.0', { dryRun: true });
    const again = await push(registry, 'acme/tiny:again');
    const fromDir = await push(registry, 'acme/tiny:dir', { source: dirPath });
    assert.equal(first.dryRun, true);
    assert.equal(again.manifestDigest, first.manifestDigest);
    assert.equal(fromDir.manifestDigest, first.manifestDigest);
    assert.equal(again.bytesUploaded, 0);
    assert.ok(again.layers.every((l) => l.status === 'present'));
    const other = await push(registry, 'acme/tiny:epoch', { env: env({ SOURCE_DATE_EPOCH: '1600000000' }) });
    assert.notEqual(other.manifestDigest, first.manifestDigest);
  });

  it('streams big layers in chunks (PATCH) and mounts blobs from another repository', async () => {
    const chunked = await push(registry, 'acme/chunked:1', { chunkBytes: 64 * 1024 });
    assert.equal(chunked.blobs.uploaded, chunked.layers.length);
    const pulled = await pullFromRegistry({ reference: `oci://${registry.host}/acme/chunked:1`, localDir: join(root, 'chunked'), env: env() });
    assert.deepEqual(await treeDigests(pulled.dir), await treeDigests(dirPath));
    const mounted = await push(registry, 'other/copy:1', { mountFrom: ['acme/chunked'] });
    assert.equal(mounted.blobs.mounted, mounted.layers.length);
    assert.equal(mounted.bytesUploaded, 0);
    assert.equal(mounted.manifestDigest, chunked.manifestDigest);
  });

  it('--oci-format docker writes Docker Model Runner media types and no artifactType', async () => {
    const r = await push(registry, 'acme/docker:1', { ociFormat: 'docker' });
    const manifest = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/acme/docker:1`).toString('utf8')) as {
      artifactType?: string; config: { mediaType: string }; layers: { mediaType: string; annotations: Record<string, string> }[];
    };
    assert.equal(manifest.artifactType, undefined);
    assert.equal(manifest.config.mediaType, 'application/vnd.docker.ai.model.config.v0.2+json');
    const types = Object.fromEntries(manifest.layers.map((l) => [l.annotations['org.cncf.model.filepath'], l.mediaType]));
    assert.equal(types['model-Q8_0.gguf'], 'application/vnd.docker.ai.gguf.v3');
    assert.equal(types.LICENSE, 'application/vnd.docker.ai.license');
    assert.equal(types['README.md'], 'application/vnd.docker.ai.model.file');
    const config = JSON.parse(skopeo('inspect', '--raw', '--config', '--tls-verify=false', `docker://${registry.host}/acme/docker:1`).toString('utf8')) as { rootfs: { type: string; diff_ids: string[] }; descriptor: { created: string } };
    assert.equal(config.rootfs.type, 'rootfs');
    assert.equal(config.rootfs.diff_ids.length, r.layers.length);
    assert.equal(config.descriptor.created, '2023-11-14T22:13:20Z');
  });

  it('a model.sig becomes a referrer under the sha256-<hex> tag (no referrers API in distribution 2.8) and comes back with pull', async () => {
    const out = await publish({ source: sigTar, to: `oci://${registry.host}/acme/signed:1.0.0`, retry: FAST_RETRY, env: env() });
    const r = out.kind === 'oci' ? out.oci : (undefined as never);
    assert.equal(r.signature?.via, 'tag schema');
    assert.ok(!r.layers.some((l) => l.path === 'model.sig'));
    const index = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/acme/signed:${r.signature!.tag}`).toString('utf8')) as { manifests: { digest: string; artifactType: string }[] };
    assert.deepEqual(index.manifests.map((m) => [m.digest, m.artifactType]), [[r.signature!.digest, 'application/vnd.dev.sigstore.bundle.v0.3+json']]);
    const referrer = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/acme/signed@${r.signature!.digest}`).toString('utf8')) as { subject: { digest: string } };
    assert.equal(referrer.subject.digest, r.manifestDigest);
    const pulled = await pullFromRegistry({ reference: `oci://${registry.host}/acme/signed:1.0.0`, localDir: join(root, 'signed'), env: env() });
    assert.ok(pulled.signature);
    assert.deepEqual(await treeDigests(pulled.dir), await treeDigests(sigDir));
  });

  it('pull refuses a blob whose bytes changed in the registry and places nothing', async () => {
    const r = await push(registry, 'acme/tamper:1');
    const weight = r.layers.find((l) => l.path === 'model-Q8_0.gguf')!;
    const hex = weight.digest.slice('sha256:'.length);
    const data = join(registry.storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
    const bytes = await readFile(data);
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    await writeFile(data, bytes);
    const out = join(root, 'tampered');
    await assert.rejects(pullFromRegistry({ reference: `oci://${registry.host}/acme/tamper:1`, localDir: out, env: env() }), (e: unknown) => isLlamaError(e) && e.code === 'OCI_BLOB_MISMATCH' && e.exitCode === 4);
    const left = await readdir(out).catch((): string[] => []);
    assert.ok(!left.includes('model-Q8_0.gguf') && !left.some((f) => f.endsWith('.llama-partial')), left.join(','));
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    await writeFile(data, bytes);
  });
});

describe('registry authentication', { skip }, () => {
  it('Bearer token challenge: --username/--password, the docker config, a credential helper; wrong, missing and read-only credentials are refused', async () => {
    const registry = await startRegistry({ auth: 'token', users: { ci: 'ci-secret-1', viewer: 'viewer-secret-2' }, readOnly: ['viewer'] });
    try {
      const withPassword = await push(registry, 'acme/auth:1', { username: 'ci', password: 'ci-secret-1' });
      assert.equal(withPassword.credentials, '--username/--password-stdin');
      assert.ok(registry.tokenRequests.some((t) => t.user === 'ci' && t.scopes.includes('repository:acme/auth:pull,push') && t.status === 200));

      const dockerDir = join(root, 'docker-config');
      await mkdir(dockerDir, { recursive: true });
      await writeFile(join(dockerDir, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('ci:ci-secret-1').toString('base64') } } }));
      const viaConfig = await push(registry, 'acme/auth:2', { env: env({ DOCKER_CONFIG: dockerDir }) });
      assert.match(viaConfig.credentials ?? '', /docker config/);

      const bin = join(root, 'bin');
      await mkdir(bin, { recursive: true });
      const helper = join(bin, 'docker-credential-llamatest');
      await writeFile(helper, `#!/bin/sh\nread server\n[ "$server" = "${registry.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '{"ServerURL":"'$server'","Username":"ci","Secret":"ci-secret-1"}'\n`);
      await chmod(helper, 0o755);
      const helperDir = join(root, 'docker-helper');
      await mkdir(helperDir, { recursive: true });
      await writeFile(join(helperDir, 'config.json'), JSON.stringify({ credHelpers: { [registry.host]: 'llamatest' } }));
      const viaHelper = await push(registry, 'acme/auth:3', { env: env({ DOCKER_CONFIG: helperDir, PATH: `${bin}:${process.env.PATH ?? ''}` }) });
      assert.equal(viaHelper.credentials, 'docker-credential-llamatest');

      const pulled = await pullFromRegistry({ reference: `oci://${registry.host}/acme/auth:3`, localDir: join(root, 'auth-pull'), env: env({ DOCKER_CONFIG: dockerDir }) });
      assert.equal(pulled.manifestDigest, viaHelper.manifestDigest);

      const refused = async (extra: Partial<Parameters<typeof publish>[0]>, code: string): Promise<void> => {
        await assert.rejects(push(registry, 'acme/auth:x', extra), (e: unknown) => {
          assert.ok(isLlamaError(e), String(e));
          assert.equal(e.code, code, e.message);
          assert.equal(e.exitCode, 5);
          assert.ok(!e.message.includes('secret') && !e.hint.includes('secret'), e.message);
          return true;
        });
      };
      await refused({ username: 'ci', password: 'wrong-secret-9' }, 'OCI_AUTH_FAILED');
      await refused({ env: env({ DOCKER_CONFIG: join(root, 'no-such-config') }) }, 'OCI_AUTH_REQUIRED');
      await refused({ username: 'viewer', password: 'viewer-secret-2' }, 'OCI_DENIED');
    } finally {
      await registry.close();
    }
  });

  it('Basic auth (htpasswd) from the docker config', async () => {
    const registry = await startRegistry({ auth: 'htpasswd' });
    try {
      const dir = join(root, 'docker-basic');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [`https://${registry.host}`]: { auth: Buffer.from(`${HTPASSWD_USER}:${HTPASSWD_PASSWORD}`).toString('base64') } } }));
      const r = await push(registry, 'acme/basic:1', { env: env({ DOCKER_CONFIG: dir }) });
      assert.equal(r.blobs.uploaded, r.layers.length);
      await assert.rejects(push(registry, 'acme/basic:2', { env: env({ DOCKER_CONFIG: join(root, 'none') }) }), (e: unknown) => isLlamaError(e) && e.code === 'OCI_AUTH_REQUIRED');
    } finally {
      await registry.close();
    }
  });
});

describe('registry client basics', () => {
  it('speaks HTTPS unless asked for plain HTTP or the registry is loopback', () => {
    assert.equal(new RegistryClient({ registry: 'registry.example:5000' }).base, 'https://registry.example:5000');
    assert.equal(new RegistryClient({ registry: 'registry.example:5000', plainHttp: true }).base, 'http://registry.example:5000');
    assert.equal(new RegistryClient({ registry: '127.0.0.1:5000' }).base, 'http://127.0.0.1:5000');
    assert.equal(new RegistryClient({ registry: 'localhost:5000' }).base, 'http://localhost:5000');
    assert.equal(new RegistryClient({ registry: '[::1]:5000' }).base, 'http://[::1]:5000');
  });

  it('parses WWW-Authenticate challenges', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), {
      scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    });
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
    assert.equal(parseChallenge(null), undefined);
  });
});
