/**
 * Ctrl-C / SIGTERM during `llama quantize` (built CLI, a real signal to the child process): the run stops between
 * chunks, its temporary file is removed, nothing is written at --out, and the exit code is 130 (issue 17 §8).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { GgufWriter, kv } from '../../src/formats/gguf.ts';
import { CLI } from '../support/cli.ts';

let dir: string;
let input: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llama-quantize-interrupt-'));
  // one F32 tensor of 32 chunks (the CPU path cuts 4 Mi elements per chunk): the signal comes after the first
  input = join(dir, 'big-F32.gguf');
  const rows = 32 * 1024;
  const rowLength = 4096;
  const writer = await GgufWriter.create(input, [kv.str('general.architecture', 'llama'), kv.u32('llama.block_count', 1)], [
    { name: 'blk.0.ffn_up.weight', ne: [rowLength, rows], type: 0 },
  ]);
  const chunk = new Float32Array(rowLength * 1024).map((_, i) => Math.sin(i));
  for (let r = 0; r < rows; r += 1024) await writer.write(new Uint8Array(chunk.buffer));
  await writer.close();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function quantizeUntilProgress(signal: NodeJS.Signals, out: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'quantize', input, '--type', 'Q8_0', '--pure', '--threads', '1', '--out', out, '--progress', 'ndjson'], {
      cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let sent = false;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!sent && /"type":"advance"/.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} stops quantize: exit 130, no temporary file, nothing at --out`, async () => {
    const out = join(dir, `out-${signal}.gguf`);
    const r = await quantizeUntilProgress(signal, out);
    assert.equal(r.code, 130, r.stderr);
    const left = (await readdir(dir)).filter((n) => n !== 'big-F32.gguf');
    assert.deepEqual(left, []);
  });
}
