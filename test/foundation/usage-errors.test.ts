/**
 * Issue 17 §7: oclif's parse errors reach the user whole; an unknown command gets the nearest one in the Error/Hint
 * form (JSON under --json); `llama help`, `llama help COMMAND` and `-h` work; oclif's `:` joining never shows.
 * Through the built CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.ts';
import { editDistance, nearest } from '../../src/util/nearest.ts';

function errorLines(stderr: string): { error: string; hint: string } {
  return { error: /^Error: (.*)$/m.exec(stderr)?.[1] ?? '', hint: /^Hint: (.*)$/m.exec(stderr)?.[1] ?? '' };
}

test('a missing argument is named, with what it is', async () => {
  const r = await runCli(['quantize']);
  assert.equal(r.code, 2, r.stderr);
  const { error, hint } = errorLines(r.stderr);
  assert.equal(error, 'Missing the required argument INPUT — Checkpoint directory, pulled repo id, or F32/F16/BF16 .gguf file');
  assert.equal(hint, 'Run `llama quantize --help` for its arguments and flags.');
});

test('a refused flag value says the flag, the value and what is expected', async () => {
  const notInt = errorLines((await runCli(['quantize', 'x', '--threads', 'abc'])).stderr);
  assert.equal(notInt.error, 'Invalid value for --threads: expected an integer but received: abc');
  const tooMany = await runCli(['pull', 'org/x', '--concurrency', '99']);
  assert.equal(tooMany.code, 2);
  assert.equal(errorLines(tooMany.stderr).error, 'Invalid value for --concurrency: expected an integer less than or equal to 64 but received: 99');
  const option = errorLines((await runCli(['quantize', 'x', '--device', 'tpu'])).stderr);
  assert.equal(option.error, 'Expected --device=tpu to be one of: auto, cpu, gpu');
  const json = await runCli(['quantize', 'x', '--threads', 'abc', '--json']);
  assert.equal((JSON.parse(json.stdout) as { error: { message: string } }).error.message, notInt.error);
});

test('an argument a command does not take is named', async () => {
  const r = await runCli(['config', 'extra']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(errorLines(r.stderr).error, 'Unexpected argument to llama config: extra');
  assert.doesNotMatch(r.stderr, /config:extra/);
});

test('an unknown command suggests the nearest one, in the Error/Hint form', async () => {
  const r = await runCli(['pul', 'org/x']);
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(errorLines(r.stderr), {
    error: 'llama has no command "pul": did you mean pull?',
    hint: 'Run `llama pull --help` for its arguments, or `llama --help` for every command.',
  });
  const sub = await runCli(['license', 'chek', '--json']);
  assert.equal(sub.code, 2);
  assert.doesNotMatch(sub.stdout + sub.stderr, /license:chek/, "oclif's : joining");
  const json = JSON.parse(sub.stdout) as { error: { code: string; message: string; details: { suggestion: string } } };
  assert.equal(json.error.code, 'COMMAND_NOT_FOUND');
  assert.equal(json.error.message, 'llama has no command "license chek": did you mean license check?');
  assert.equal(json.error.details.suggestion, 'license check');
  const far = await runCli(['xyzzy']);
  assert.equal(far.code, 2);
  assert.deepEqual(errorLines(far.stderr), { error: 'llama has no command "xyzzy".', hint: 'Run `llama --help` for the commands.' });
});

test('`llama help`, `llama help pull`, `llama help license check` and `-h` show help', async () => {
  const root = await runCli(['help']);
  assert.equal(root.code, 0, root.stderr);
  assert.match(root.stdout, /^ {2}\$ llama \[COMMAND\]$/m);
  for (const argv of [['help', 'pull'], ['pull', '-h'], ['pull', '--help']]) {
    const r = await runCli(argv);
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /^ {2}\$ llama pull REPO/m, argv.join(' '));
  }
  const nested = await runCli(['help', 'license', 'check']);
  assert.equal(nested.code, 0, nested.stderr);
  assert.match(nested.stdout, /^ {2}\$ llama license check/m);
  const unknown = await runCli(['help', 'pul']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^Error: llama has no command "pul": did you mean pull\?$/m);
});

test('nearest: typos, swaps and unambiguous prefixes; nothing for the far-off', () => {
  const names = ['pull', 'verify', 'quantize', 'package', 'config', 'license', 'license check', 'license identify', 'license notice', 'help'];
  assert.equal(nearest('pul', names), 'pull');
  assert.equal(nearest('quantise', names), 'quantize');
  assert.equal(nearest('license chek', names), 'license check');
  assert.equal(nearest('verfiy', names), 'verify');
  assert.equal(nearest('lic', names), 'license');
  assert.equal(nearest('xyzzy', names), undefined);
  assert.equal(nearest('p', names), undefined);
  assert.equal(editDistance('chek', 'ckeh'), 2);
  assert.equal(editDistance('ab', 'ba'), 1);
  assert.equal(editDistance('', 'abc'), 3);
});
