/**
 * Ctrl-C / SIGTERM (issue 17 §8): the base command owns the signals. In process: the handler's first, second and
 * "did not stop" cases with a fake signal source. Through the built CLI: a command waiting on a hub that never
 * answers gets SIGINT or SIGTERM and exits 130 with one line (before: killed by the signal, nothing said).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterruptHandler, interruptedLine } from '../../src/cli/interrupt.ts';
import { AbortError, INTERRUPTED_EXIT_CODE, isAbortError } from '../../src/errors.ts';
import { CLI } from '../support/cli.ts';

function fakeProcess() {
  const source = new EventEmitter();
  const exits: number[] = [];
  const lines: string[] = [];
  const handler = new InterruptHandler({ source, exit: (code) => void exits.push(code), write: (line) => void lines.push(line), graceMs: 1000 });
  return { source, exits, lines, handler };
}

test('first signal aborts the signal with an AbortError naming it, and exits nothing yet', () => {
  const { source, exits, lines, handler } = fakeProcess();
  handler.install();
  try {
    assert.equal(handler.signal.aborted, false);
    source.emit('SIGTERM');
    assert.equal(handler.signal.aborted, true);
    assert.equal(handler.received, 'SIGTERM');
    assert.ok(isAbortError(handler.signal.reason));
    assert.equal((handler.signal.reason as Error).message, 'Interrupted by SIGTERM');
    assert.deepEqual(exits, []);
    assert.deepEqual(lines, []);
  } finally {
    handler.uninstall();
  }
});

test('a second signal exits 130 at once, with one line', () => {
  const { source, exits, lines, handler } = fakeProcess();
  handler.install();
  try {
    source.emit('SIGINT');
    source.emit('SIGINT');
    assert.deepEqual(exits, [INTERRUPTED_EXIT_CODE]);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /^Interrupted by SIGINT again: exiting at once/);
  } finally {
    handler.uninstall();
  }
});

test('a command that does not stop within the grace period is ended with 130', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { source, exits, lines, handler } = fakeProcess();
  handler.install();
  try {
    source.emit('SIGINT');
    t.mock.timers.tick(999);
    assert.deepEqual(exits, []);
    t.mock.timers.tick(1);
    assert.deepEqual(exits, [INTERRUPTED_EXIT_CODE]);
    assert.match(lines[0] ?? '', /^Interrupted by SIGINT: the command did not stop within 1 s and was ended/);
  } finally {
    handler.uninstall();
  }
});

test('a command that finishes cancels the forced exit and stops listening', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { source, exits, handler } = fakeProcess();
  handler.install();
  source.emit('SIGINT');
  handler.uninstall();
  t.mock.timers.tick(10_000);
  source.emit('SIGINT');
  assert.deepEqual(exits, []);
  assert.equal(source.listenerCount('SIGINT'), 0);
  assert.equal(source.listenerCount('SIGTERM'), 0);
});

test('the line says what the operation left, or that it stopped', () => {
  assert.equal(interruptedLine('SIGINT', new AbortError('quantization stopped; nothing was written')), 'Interrupted by SIGINT: quantization stopped; nothing was written');
  assert.equal(interruptedLine('SIGINT', new AbortError()), 'Interrupted by SIGINT: stopped before it finished');
  assert.equal(interruptedLine('SIGTERM', new DOMException('This operation was aborted', 'AbortError')), 'Interrupted by SIGTERM: stopped before it finished');
  assert.equal(interruptedLine(undefined, new AbortError('Interrupted by SIGINT')), 'Interrupted: stopped before it finished');
  assert.ok(isAbortError(new DOMException('x', 'AbortError')));
  assert.ok(!isAbortError(new Error('x')));
});

/** A hub that accepts requests and never answers them: the command waits until it is interrupted. */
async function silentHub(): Promise<{ server: Server; url: string; firstRequest: Promise<unknown> }> {
  const server = createServer(() => {});
  const firstRequest = once(server, 'request');
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${address.port}`, firstRequest };
}

async function interruptPull(signal: 'SIGINT' | 'SIGTERM', extra: string[] = []) {
  const { server, url, firstRequest } = await silentHub();
  const dir = await mkdtemp(join(tmpdir(), 'llama-interrupt-'));
  try {
    const child = spawn(process.execPath, [CLI, 'pull', 'org/model', '--endpoint', url, '--cache-dir', join(dir, 'cache'), '--lock', join(dir, 'llama.lock.json'), ...extra], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', HF_HOME: join(dir, 'hf'), HF_TOKEN: '', HF_HUB_OFFLINE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    await firstRequest; // the command is running (its handlers are installed before run())
    child.kill(signal);
    const [code, killedBy] = await closed;
    return { code, killedBy, stdout, stderr };
  } finally {
    server.closeAllConnections();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('CLI: SIGINT while waiting on the hub → exit 130 and one line', async () => {
  const r = await interruptPull('SIGINT');
  assert.equal(r.killedBy, null, 'the process handles the signal instead of dying of it');
  assert.equal(r.code, 130, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', /^Interrupted by SIGINT: /);
  assert.doesNotMatch(r.stderr, /^Error:/m);
});

test('CLI: SIGTERM → exit 130 too; under --json the line is a JSON error on stdout', async () => {
  const r = await interruptPull('SIGTERM', ['--json']);
  assert.equal(r.killedBy, null);
  assert.equal(r.code, 130, r.stderr);
  const json = JSON.parse(r.stdout) as { error: { code: string; message: string } };
  assert.equal(json.error.code, 'INTERRUPTED');
  assert.match(json.error.message, /^Interrupted by SIGTERM: /);
});
