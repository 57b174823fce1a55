/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8, `apt-get install docker-registry`;
 * .ci/run installs it) started on 127.0.0.1 with filesystem storage in a temporary folder, with one of three auth
 * set-ups:
 * - 'none': anonymous pull and push;
 * - 'htpasswd': Basic auth for user `llama` with password {@link HTPASSWD_PASSWORD} (its bcrypt hash is fixed below,
 *   so no bcrypt tool is needed);
 * - 'token': the Bearer token challenge, answered by a token service in this process that checks Basic credentials
 *   (`users`) and issues ES256 JWTs with the requested `access` (or only pull for `readOnly` users), signed by a
 *   certificate that openssl makes per run and the registry trusts (`rootcertbundle`; the JWT carries it in `x5c`).
 *
 * ```ts
 * const registry = await startRegistry({ auth: 'token', users: { ci: 'secret' } });
 * // push to oci://${registry.host}/acme/model:1.0.0 …
 * assert.equal(registry.tokenRequests.length, 1);
 * await registry.close();
 * ```
 *
 * Skip tests with `registryAvailable()` when /usr/bin/docker-registry is missing (a developer machine without it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, sign, X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';
export const HTPASSWD_USER = 'llama';
export const HTPASSWD_PASSWORD = 'llama-registry-test';
/** bcrypt (cost 5) of HTPASSWD_PASSWORD; `$2a$` so Go's bcrypt reads it. */
const HTPASSWD_HASH = '$2a$05$abcdefghijklmnopqrstuubW4IhpyYZM9ENbuI8.QkimI/I./IuKq';
const SERVICE = 'llama-test-registry';
const ISSUER = 'llama-test-issuer';

export function registryAvailable(): boolean {
  return existsSync(REGISTRY_BINARY);
}

export interface RegistryOptions {
  auth?: 'none' | 'htpasswd' | 'token';
  /** token auth: user → password accepted by the token service. */
  users?: Record<string, string>;
  /** token auth: users that only get `pull`. */
  readOnly?: string[];
}

export interface TokenRequest {
  user: string | undefined;
  scopes: string[];
  status: number;
}

export interface TestRegistry {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, as in oci://HOST/REPO:TAG */
  host: string;
  /** The storage folder (filesystem driver root). */
  storage: string;
  tokenRequests: TokenRequest[];
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

async function startTokenService(dir: string, options: RegistryOptions, log: TokenRequest[]): Promise<{ server: Server; realm: string; certPath: string }> {
  const keyPath = join(dir, 'token-key.pem');
  const certPath = join(dir, 'token-cert.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=llama-test-token'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`registry support: openssl failed: ${made.stderr}`);
  const key = createPrivateKey(await readFile(keyPath));
  const certDer = new X509Certificate(await readFile(certPath)).raw;
  const users = options.users ?? {};
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const scopes = url.searchParams.getAll('scope');
    let user: string | undefined;
    const header = req.headers.authorization ?? '';
    if (header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const name = decoded.slice(0, colon);
      if (users[name] !== undefined && users[name] === decoded.slice(colon + 1)) user = name;
      else {
        log.push({ user: name, scopes, status: 401 });
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"invalid credentials"}');
        return;
      }
    }
    if (user === undefined) {
      log.push({ user, scopes, status: 401 });
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="token"' }).end('{"details":"authentication required"}');
      return;
    }
    const access = scopes.map((scope) => {
      const [type, name, actions] = scope.split(':');
      const wanted = (actions ?? '').split(',').filter(Boolean);
      return { type, name, actions: options.readOnly?.includes(user) ? wanted.filter((a) => a === 'pull') : wanted };
    });
    const now = Math.floor(Date.now() / 1000);
    const head = base64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [certDer.toString('base64')] }));
    const claims = base64url(JSON.stringify({ iss: ISSUER, sub: user, aud: SERVICE, exp: now + 300, nbf: now - 30, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const signature = base64url(sign('sha256', Buffer.from(`${head}.${claims}`), { key, dsaEncoding: 'ieee-p1363' }));
    log.push({ user, scopes, status: 200 });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${head}.${claims}.${signature}`, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, realm: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`, certPath };
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-registry-'));
  const storage = join(dir, 'storage');
  const port = await freePort();
  const tokenRequests: TokenRequest[] = [];
  let token: Awaited<ReturnType<typeof startTokenService>> | undefined;
  let auth = '';
  if (options.auth === 'htpasswd') {
    await writeFile(join(dir, 'htpasswd'), `${HTPASSWD_USER}:${HTPASSWD_HASH}\n`);
    auth = `auth:\n  htpasswd:\n    realm: llama-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (options.auth === 'token') {
    token = await startTokenService(dir, options, tokenRequests);
    auth = `auth:\n  token:\n    realm: ${token.realm}\n    service: ${SERVICE}\n    issuer: ${ISSUER}\n    rootcertbundle: ${token.certPath}\n`;
  }
  const config = join(dir, 'config.yml');
  await writeFile(config, [
    'version: 0.1',
    'log:\n  level: error\n  accesslog:\n    disabled: true',
    `storage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false`,
    `http:\n  addr: 127.0.0.1:${port}\n  secret: ${randomBytes(16).toString('hex')}`,
    auth,
  ].join('\n'));
  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`registry support: docker-registry exited (${child.exitCode}): ${stderr}`);
    const ok = await fetch(`${url}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`registry support: docker-registry did not answer on ${url}: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    storage,
    tokenRequests,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (token) await new Promise<void>((resolve) => token.server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
