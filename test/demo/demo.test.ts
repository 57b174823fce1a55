/**
 * The README's quick start: `npm run demo` must keep working and keep its promise (a reproducible archive).
 * Runs the demo script (which drives the built CLI) in a temporary working directory, twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../support/cli.ts';

function runDemo(cwd: string) {
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'demo', 'run.ts')], { cwd, encoding: 'utf8', timeout: 300_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('npm run demo: gated pull refused then verified, quantize, license check, package with its sha256', async () => {
  const a = await mkdtemp(join(tmpdir(), 'llama-demo-a-'));
  const b = await mkdtemp(join(tmpdir(), 'llama-demo-b-'));
  try {
    const first = runDemo(a);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /gated: accept the license at http:\/\/127\.0\.0\.1:\d+\/demo-org\/Llama-2-tiny-hf, then pass a token/);
    assert.match(first.out, /10 ok, 0 mismatch, 0 missing, 0 extra/);
    assert.match(first.out, /Q4_K_M, 21 tensors \(3 Q6_K, 5 F32, 13 Q4_K\)/);
    assert.match(first.out, /0 blocking, 0 advisory, 0 waived — OK/);
    assert.match(first.out, /\/LICENSE +7023 B/);
    assert.match(first.out, /\/NOTICE +\d+ B/);
    const sha = /^sha256: {2}([0-9a-f]{64})$/m.exec(first.out)?.[1];
    assert.ok(sha, first.out);
    assert.doesNotMatch(first.out, /hf_demoToken/, 'the token never appears in output');

    const second = runDemo(b);
    assert.equal(second.code, 0, second.out);
    assert.equal(/^sha256: {2}([0-9a-f]{64})$/m.exec(second.out)?.[1], sha, 'same inputs, same archive bytes');
  } finally {
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
});
