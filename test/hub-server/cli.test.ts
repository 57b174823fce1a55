/**
 * The CLI used by the demo and benchmarks: serves a folder as a gated repo, prints its URL, stops on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { downloadFile, HubApiError, listFiles } from '@huggingface/hub';

const MAIN = new URL('../support/hub-server/main.ts', import.meta.url).pathname;
const TOKEN = 'hf_clitoken123456789';
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-cli-'));
  await mkdir(join(dir, 'original'));
  await writeFile(join(dir, 'config.json'), '{"a":1}\n');
  await writeFile(join(dir, 'original', 'consolidated.00.pth'), Buffer.alloc(70_000, 3));
  await writeFile(join(dir, 'README.md'), '---\nlicense: llama3.1\n---\n');
});
after(() => rm(dir, { recursive: true, force: true }));

it('serves a folder as a gated repo and prints only its URL', async () => {
  const child = spawn(process.execPath, [MAIN, '--dir', dir, '--repo', 'meta-llama/Cli', '--gated', '--token', TOKEN], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', (code) => reject(new Error(`CLI exited with ${code}`)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(!url.includes(TOKEN));

    const paths: string[] = [];
    for await (const entry of listFiles({ repo: 'meta-llama/Cli', hubUrl: url, recursive: true })) paths.push(entry.path);
    assert.deepEqual(paths, ['README.md', 'config.json', 'original', 'original/consolidated.00.pth']);

    await assert.rejects(downloadFile({ repo: 'meta-llama/Cli', path: 'config.json', hubUrl: url }), (e: unknown) => e instanceof HubApiError && e.statusCode === 401);
    const blob = await downloadFile({ repo: 'meta-llama/Cli', path: 'original/consolidated.00.pth', hubUrl: url, accessToken: TOKEN });
    const digest = createHash('sha256').update(new Uint8Array(await (blob as Blob).arrayBuffer())).digest('hex');
    assert.equal(digest, createHash('sha256').update(Buffer.alloc(70_000, 3)).digest('hex'));
  } finally {
    const exited =
      child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  }
});
