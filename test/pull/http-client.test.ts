/**
 * The transfer engine's own HTTP/1.1 client (src/transfer/http.ts) against servers that frame responses in the ways
 * HTTP allows and the local hub does not exercise: chunked bodies, a head split across reads, a kept-alive socket the
 * server has closed, TLS (with a redirect), and a large Content-Length body through the shared slabs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bodyText, httpGet, releaseChunk } from '../../src/transfer/http.ts';

/** Listen on 127.0.0.1; on cleanup close the server and destroy the connections the client keeps alive. */
function listen(server: net.Server, t: { after(fn: () => void): void }): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('chunked body and a response head split across reads', async (t) => {
  const server = net.createServer((socket) => {
    socket.once('data', async () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Ty');
      await sleep(20);
      socket.write('pe: text/plain\r\nTransfer-Encoding: chunked\r\nX-Repo-Commit: abc\r\n\r\n');
      await sleep(20);
      socket.write('5\r\nhello\r\n');
      await sleep(10);
      socket.write('7\r\n, world\r\n1;ext=1\r\n!\r\n0\r\n\r\n');
    });
  });
  const port = await listen(server, t);
  const answer = await httpGet(`http://127.0.0.1:${port}/x`, { headers: {} });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['x-repo-commit'], 'abc');
  assert.equal(await bodyText(answer.body), 'hello, world!');
});

test('a kept-alive connection the server closed is replaced, not reported as a failure', async (t) => {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.on('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      // Close the idle connection shortly after answering, as servers with a short keep-alive timeout do.
      setTimeout(() => socket.destroy(), 30);
    });
  });
  const port = await listen(server, t);
  const first = await httpGet(`http://127.0.0.1:${port}/a`, { headers: {} });
  assert.equal(await bodyText(first.body), 'ok');
  await sleep(100);
  const second = await httpGet(`http://127.0.0.1:${port}/b`, { headers: {} });
  assert.equal(await bodyText(second.body), 'ok');
  assert.equal(connections, 2);
});

test('a request sent on a kept-alive socket that the server drops unanswered is sent again on a fresh one', async (t) => {
  // The race the retry exists for: the client reuses an idle connection just as the server closes it, so the request
  // goes out and the socket closes before any answer byte. Here the server drops every second request on a socket.
  const requestsPerSocket: number[] = [];
  const server = net.createServer((socket) => {
    const index = requestsPerSocket.push(0) - 1;
    socket.on('data', () => {
      requestsPerSocket[index] = (requestsPerSocket[index] ?? 0) + 1;
      if (requestsPerSocket[index] === 2) socket.destroy();
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
    });
  });
  const port = await listen(server, t);
  const first = await httpGet(`http://127.0.0.1:${port}/a`, { headers: {} });
  assert.equal(await bodyText(first.body), 'ok');
  const second = await httpGet(`http://127.0.0.1:${port}/b`, { headers: {} });
  assert.equal(await bodyText(second.body), 'ok');
  assert.deepEqual(requestsPerSocket, [2, 1], 'sent on the kept-alive socket first, then once on a fresh one');
});

test('a large Content-Length body arrives intact through the shared slabs', async (t) => {
  const payload = randomBytes(5 * 1024 * 1024 + 123);
  const server = net.createServer((socket) => {
    socket.once('data', () => {
      socket.write(`HTTP/1.1 206 Partial Content\r\nContent-Length: ${payload.length}\r\nContent-Range: bytes 0-${payload.length - 1}/${payload.length}\r\n\r\n`);
      socket.end(payload);
    });
  });
  const port = await listen(server, t);
  const answer = await httpGet(`http://127.0.0.1:${port}/big`, { headers: { Range: `bytes=0-${payload.length - 1}` } });
  assert.equal(answer.status, 206);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of answer.body) {
    hash.update(chunk);
    size += chunk.length;
    releaseChunk(chunk);
  }
  assert.equal(size, payload.length);
  assert.equal(hash.digest('hex'), createHash('sha256').update(payload).digest('hex'));
});

test('TLS: an https redirect chain is followed and the bytes verified', async (t) => {
  const openssl = spawnSync('openssl', ['version']);
  if (openssl.status !== 0) {
    t.skip('openssl is not installed, so no test certificate can be made');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'llama-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  // NODE_EXTRA_CA_CERTS is read at start-up, so the client runs in a child that trusts the test certificate.
  const httpModule = fileURLToPath(new URL('../../src/transfer/http.ts', import.meta.url));
  const script = `
    import https from 'node:https';
    import { readFileSync } from 'node:fs';
    import { createHash } from 'node:crypto';
    import { httpGet, releaseChunk } from ${JSON.stringify(httpModule)};
    const payload = Buffer.alloc(3 * 1024 * 1024, 7);
    const server = https.createServer({ key: readFileSync(${JSON.stringify(join(dir, 'key.pem'))}), cert: readFileSync(${JSON.stringify(join(dir, 'cert.pem'))}) }, (req, res) => {
      if (req.url === '/start') { res.writeHead(302, { Location: '/cdn/file' }); res.end(); return; }
      res.writeHead(200, { 'Content-Length': payload.length }); res.end(payload);
    });
    server.listen(0, '127.0.0.1', async () => {
      const { port } = server.address();
      const answer = await httpGet('https://localhost:' + port + '/start', { headers: {} });
      const hash = createHash('sha256');
      for await (const chunk of answer.body) { hash.update(chunk); releaseChunk(chunk); }
      console.log(JSON.stringify({ status: answer.status, url: answer.url, sha256: hash.digest('hex') }));
      server.close();
    });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { status: number; url: string; sha256: string };
  assert.equal(out.status, 200);
  assert.match(out.url, /^https:\/\/localhost:\d+\/cdn\/file$/);
  assert.equal(out.sha256, createHash('sha256').update(Buffer.alloc(3 * 1024 * 1024, 7)).digest('hex'));
});
