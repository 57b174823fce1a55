/**
 * `llama pull` throughput against the local hub, each ratio against a baseline measured in the same run:
 *   node bench/pull/run.ts [--files 4] [--mb 512] [--capped-files 2] [--rate 20000000] [--concurrency 8] [--skip-capped]
 *     [--driver cli|lib] [--hub-script FILE] [--llama-script FILE] [--out DIR]
 * (a) uncapped: `llama pull` (sha256 / git sha1 of every byte included) vs `curl` fetching the same files one after
 *     another (no hashing). Goal ≥ 0.9× curl.
 * (b) every connection capped at --rate bytes/s by the hub: `llama pull` vs `aria2c -x8 -s8` (one file at a time, so
 *     both use 8 connections) and vs `curl`. Goal ≥ 1.0× aria2c.
 * (c) uncapped, the engine's HTTP client: the own client vs Node's built-in fetch (undici) plugged in as `get`, both
 *     through bench/pull/llama-lib.ts in the same run (--skip-clients to leave it out).
 * Needs `npm run build` (it runs bin/run.js; `--driver lib` runs bench/pull/llama-lib.ts, the same library call without
 * oclif's start-up), curl and aria2c (Debian package aria2). Data: --files files of --mb MiB
 * in bench/out/pull-data (made once, kept), served by test/support/hub-server/main.ts in a child process so the
 * server does not share the client's event loop.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REPO = 'bench/model';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '4' },
    mb: { type: 'string', default: '512' },
    'capped-files': { type: 'string', default: '2' },
    rate: { type: 'string', default: '20000000' },
    concurrency: { type: 'string', default: '8' },
    'skip-capped': { type: 'boolean', default: false },
    'skip-clients': { type: 'boolean', default: false },
    driver: { type: 'string', default: 'cli' },
    'hub-script': { type: 'string', default: join(ROOT, 'test/support/hub-server/main.ts') },
    'llama-script': { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'bench', 'out') },
  },
});
const OUT = join(values.out, 'pull');
const DATA = join(values.out, 'pull-data');
const nFiles = Number(values.files);
const fileBytes = Number(values.mb) * 1024 * 1024;
const names = Array.from({ length: nFiles }, (_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(nFiles).padStart(5, '0')}.safetensors`);

/** Incompressible, deterministic bytes: an AES-CTR keystream (fast, and no cache or proxy could shortcut it). */
async function makeData(): Promise<void> {
  await mkdir(DATA, { recursive: true });
  // The hub serves the whole folder: drop files of an earlier run with other sizes or counts.
  for (const name of await readdir(DATA)) if (!names.includes(name)) await rm(join(DATA, name), { force: true });
  for (const [i, name] of names.entries()) {
    const path = join(DATA, name);
    if ((await stat(path).catch(() => undefined))?.size === fileBytes) continue;
    const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, i + 1), Buffer.alloc(16));
    const out = createWriteStream(path);
    const zeros = Buffer.alloc(4 * 1024 * 1024);
    for (let left = fileBytes; left > 0; left -= zeros.length) {
      const chunk = cipher.update(zeros.subarray(0, Math.min(zeros.length, left)));
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
}

async function startHub(rate?: number): Promise<{ url: string; child: ChildProcess }> {
  const args = [values['hub-script'], '--dir', DATA, '--repo', REPO, ...(rate ? ['--rate', String(rate)] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) resolve(buf.trim());
    });
    child.once('exit', (code) => reject(new Error(`hub server exited with ${code}`)));
  });
  return { url, child };
}

async function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Each tool starts with no dirty pages from the one before (its 2 GiB would be written back, and the deleted
  // files discarded, during the next tool's run: measured at up to 4 s of extra system time on a 2-core VM).
  execFileSync('sync');
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} … exited with ${code}`))));
  });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function fresh(dir: string): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

const llamaEnv = { ...process.env, HF_TOKEN: '', HF_HUB_OFFLINE: '' };

async function llama(url: string, files: string[], client?: 'own' | 'fetch'): Promise<number> {
  const dir = await fresh(join(OUT, 'llama'));
  const include = files.length === names.length ? [] : files.flatMap((f) => ['--include', f]);
  const common = [REPO, ...include, '--endpoint', url, '--cache-dir', join(dir, 'cache'), '--lock', join(dir, 'lock.json'), '--concurrency', values.concurrency];
  if (client) return run(process.execPath, [join(ROOT, 'bench/pull/llama-lib.ts'), ...common, '--client', client], llamaEnv);
  if (values.driver === 'lib') return run(process.execPath, [values['llama-script'] ?? join(ROOT, 'bench/pull/llama-lib.ts'), ...common], llamaEnv);
  return run(process.execPath, [values['llama-script'] ?? join(ROOT, 'bin/run.js'), 'pull', ...common, '--progress', 'none'], llamaEnv);
}

async function curl(url: string, files: string[]): Promise<number> {
  const dir = await fresh(join(OUT, 'curl'));
  const args = files.flatMap((f) => ['-o', join(dir, f), `${url}/${REPO}/resolve/main/${f}`]);
  // One curl process, files one after another over one connection (as a shell loop would, minus process starts).
  return run('curl', ['-sSfL', ...args]);
}

async function aria2(url: string, files: string[]): Promise<number> {
  const dir = await fresh(join(OUT, 'aria2'));
  const list = join(OUT, 'aria2-input.txt');
  await writeFile(list, files.map((f) => `${url}/${REPO}/resolve/main/${f}\n  out=${f}\n`).join(''));
  return run('aria2c', ['-x8', '-s8', '-j1', '--file-allocation=none', '--console-log-level=warn', '--summary-interval=0', '-q', '-d', dir, '-i', list]);
}

const mbps = (bytes: number, s: number): string => `${(bytes / s / 1e6).toFixed(1)} MB/s`;

await makeData();
const all = names;
const total = all.length * fileBytes;
console.log(`data: ${all.length} × ${values.mb} MiB = ${(total / 2 ** 30).toFixed(2)} GiB; llama (${values.driver}) --concurrency ${values.concurrency}; ${availableParallelism()} CPUs`);

{
  const hub = await startHub();
  try {
    const tc = await curl(hub.url, all);
    const tl = await llama(hub.url, all);
    console.log(`(a) uncapped   curl ${tc.toFixed(2)} s (${mbps(total, tc)})   llama pull ${tl.toFixed(2)} s (${mbps(total, tl)}, hashing included)   llama/curl speed ${(tc / tl).toFixed(2)}×`);
  } finally {
    hub.child.kill('SIGTERM');
  }
}
if (!values['skip-clients']) {
  const hub = await startHub();
  try {
    const own = await llama(hub.url, all, 'own');
    const viaFetch = await llama(hub.url, all, 'fetch');
    console.log(`(c) uncapped, engine client   own ${own.toFixed(2)} s (${mbps(total, own)})   Node fetch (undici) ${viaFetch.toFixed(2)} s (${mbps(total, viaFetch)})   own/fetch speed ${(viaFetch / own).toFixed(2)}×`);
  } finally {
    hub.child.kill('SIGTERM');
  }
}
if (!values['skip-capped']) {
  const rate = Number(values.rate);
  const subset = all.slice(0, Number(values['capped-files']));
  const bytes = subset.length * fileBytes;
  const hub = await startHub(rate);
  try {
    const ta = await aria2(hub.url, subset);
    const tl = await llama(hub.url, subset);
    const tc = await curl(hub.url, subset);
    console.log(
      `(b) capped ${(rate / 1e6).toFixed(0)} MB/s per connection, ${subset.length} file(s), ${(bytes / 2 ** 20).toFixed(0)} MiB:   ` +
        `aria2c -x8 -s8 ${ta.toFixed(2)} s (${mbps(bytes, ta)})   llama pull ${tl.toFixed(2)} s (${mbps(bytes, tl)})   curl ${tc.toFixed(2)} s (${mbps(bytes, tc)})   ` +
        `llama/aria2c ${(ta / tl).toFixed(2)}×   llama/curl ${(tc / tl).toFixed(2)}×`,
    );
  } finally {
    hub.child.kill('SIGTERM');
  }
}
await rm(OUT, { recursive: true, force: true });
