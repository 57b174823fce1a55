/**
 * Issue 17 §6: DEBUG=* and DEBUG=llama* never print a token. oclif's debug log prints argv (and process.argv) before
 * a command runs; the bin script redacts every debug line. Through the built CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { secretFlagValues } from '../../src/cli/debug-redaction.ts';

const HF_SHAPED = 'hf_DebugLogSecret0123456789abcdefghijkl';
const MIRROR = 'mirror-token-without-prefix-42';

async function pullOffline(args: string[], env: NodeJS.ProcessEnv) {
  const dir = await mkdtemp(join(tmpdir(), 'llama-secrets-'));
  try {
    return await runCli(['pull', 'org/model', '--offline', '--cache-dir', join(dir, 'cache'), '--lock', join(dir, 'lock.json'), ...args], {
      cwd: dir,
      env: { HF_HOME: join(dir, 'hf'), HF_TOKEN: '', ...env },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// What shows the debug output ran (else the test proves nothing): oclif's argv lines, or llama's stack trace.
const DEBUG_RAN: Record<string, RegExp> = { '*': /argv/, 'llama*': /\n\s+at /, 'oclif*,llama*': /argv/ };

for (const [debug, ran] of Object.entries(DEBUG_RAN)) {
  test(`DEBUG=${debug}: neither --token VALUE nor --token=VALUE nor HF_TOKEN is printed`, async () => {
    const spaced = await pullOffline(['--token', HF_SHAPED], { DEBUG: debug });
    assert.match(spaced.stderr, ran, 'the debug output ran');
    assert.ok(!spaced.stderr.includes(HF_SHAPED), 'hf_ token in the debug log');
    assert.ok(!spaced.stdout.includes(HF_SHAPED));
    const joined = await pullOffline([`--token=${MIRROR}`], { DEBUG: debug });
    assert.match(joined.stderr, ran);
    assert.ok(!joined.stderr.includes(MIRROR), 'a token without the hf_ prefix in the debug log');
    const fromEnv = await pullOffline([], { DEBUG: debug, HF_TOKEN: MIRROR });
    assert.ok(!fromEnv.stderr.includes(MIRROR), 'HF_TOKEN in the debug log');
  });
}

test('secret flag values are found in both argv forms, and not after --', () => {
  assert.deepEqual(secretFlagValues(['pull', '--token', 'a1', '--token=b2', '--', '--token', 'c3']), ['a1', 'b2']);
  assert.deepEqual(secretFlagValues(['--token']), []);
});
