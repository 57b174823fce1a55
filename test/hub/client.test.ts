/**
 * The one hub client every command uses (src/hub/client.ts): endpoint and token resolved once from flags, the
 * hf tools' variables and files; a rejected token named by where it came from, never printed; a mirror's token
 * need not start with hf_; a request that never answers is timed out and retried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHubServer } from '../support/hub-server/index.ts';
import { connectHub, HubClient } from '../../src/hub/client.ts';
import { isLlamaError } from '../../src/errors.ts';

const RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5 };

test('a rejected token is named by its source (HF_TOKEN, --token, token file) and never printed', async (t) => {
  const hub = await startHubServer();
  t.after(() => hub.close());
  await hub.addRepo({ id: 'acme/model', files: { 'README.md': '# x\n' } });
  const home = await mkdtemp(join(tmpdir(), 'llama-hub-token-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  const bad = 'hf_thisTokenIsNotKnownToTheHub000001';
  const tokenFile = join(home, 'my-token');
  await writeFile(tokenFile, `${bad}\n`);
  const cases: Array<{ token?: string; env: Record<string, string>; source: RegExp }> = [
    { env: { HF_TOKEN: bad, HF_HOME: home }, source: /from HF_TOKEN\b/ },
    { token: bad, env: { HF_HOME: home }, source: /from --token\b/ },
    { env: { HF_TOKEN_PATH: tokenFile, HF_HOME: home }, source: new RegExp(`from the token file ${tokenFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(HF_TOKEN_PATH\\)`) },
  ];
  for (const c of cases) {
    const client = connectHub({ endpoint: hub.url, env: c.env, retry: RETRY, ...(c.token ? { token: c.token } : {}) });
    await assert.rejects(client.resolveCommit('acme/model', 'main'), (e: unknown) => {
      assert.ok(isLlamaError(e));
      assert.equal(e.code, 'HUB_INVALID_TOKEN');
      assert.equal(e.exitCode, 5);
      assert.match(e.message, c.source);
      assert.ok(!JSON.stringify({ m: e.message, h: e.hint, d: e.details }).includes(bad), 'the token is not in the error');
      return true;
    });
  }
});

test('a mirror token that does not start with hf_ is sent and accepted', async (t) => {
  const token = 'mirror-token-123';
  const hub = await startHubServer({ tokens: { [token]: 'acme' } });
  t.after(() => hub.close());
  const commit = await hub.addRepo({ id: 'acme/private', private: true, files: { 'README.md': '# private\n' } });
  await assert.rejects(connectHub({ endpoint: hub.url, env: { HF_HOME: '/nonexistent' }, retry: RETRY }).resolveCommit('acme/private', 'main'), /not found/, 'private: hidden without the token');
  const client = connectHub({ endpoint: hub.url, env: { HF_TOKEN: token, HF_HOME: '/nonexistent' }, retry: RETRY });
  const resolved = await client.resolveCommit('acme/private', 'main');
  assert.equal(resolved, commit);
  assert.ok(hub.log.some((e) => e.authorization));
});

test('a request that never answers is timed out and retried; one that never answers at all is a NetworkError', async (t) => {
  let requests = 0;
  const held: Array<() => void> = [];
  const sha = 'a'.repeat(40);
  const server = createServer((req, res) => {
    requests++;
    if (requests === 1 || req.url?.includes('never')) {
      held.push(() => res.destroy());
      return; // no answer
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: 'acme/model', sha }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const release of held) release();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const client = new HubClient({ endpoint: `http://127.0.0.1:${port}`, retry: RETRY, requestTimeoutMs: 200 });
  assert.equal(await client.resolveCommit('acme/model', 'main'), sha);
  assert.equal(requests, 2, 'the first request timed out and was tried again');
  await assert.rejects(client.resolveCommit('acme/never', 'main'), (e: unknown) => {
    assert.ok(isLlamaError(e));
    assert.equal(e.code, 'HUB_UNREACHABLE');
    assert.equal(e.exitCode, 6);
    assert.match(e.message, /no answer within 0\.2 s/);
    return true;
  });
});
