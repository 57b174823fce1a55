/**
 * Upload throughput of `llama publish`, each against `curl -T` of the same bytes in the same run:
 *   node bench/publish/run.ts [--files 2] [--mb 256] [--out DIR] [--skip-hub] [--skip-oci]
 * (a) hub: `llama publish DIR --to hf://user/bench-N` (hashing every byte, LFS batch, PUTs, commit) vs `curl -T` of each
 *     file to a presigned PUT URL the bench asks the hub's LFS batch for itself (no hashing by curl; the hub hashes both).
 * (b) registry: `llama publish DIR --to oci://127.0.0.1:PORT/bench/llama:N` (digests computed, HEAD, POST + PUT per blob,
 *     manifest) vs `curl -T` of each file as a monolithic blob PUT (digest precomputed, not timed).
 * Goal ≥ 0.9× curl, hashing included. Needs `npm run build`, curl, and for (b) docker-registry (Debian). The hub runs
 * in a child process (bench/publish/hub.ts) so it does not share the client's event loop; so does the registry.
 * Data: --files files of --mb MiB of incompressible bytes in bench/out/publish-data (made once, kept).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { registryAvailable, startRegistry } from '../../test/support/registry/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'hf_benchPublishToken000000001';
const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '2' },
    mb: { type: 'string', default: '256' },
    out: { type: 'string', default: join(ROOT, 'bench', 'out') },
    'skip-hub': { type: 'boolean', default: false },
    'skip-oci': { type: 'boolean', default: false },
  },
});
const DATA = join(values.out, 'publish-data');
const nFiles = Number(values.files);
const fileBytes = Number(values.mb) * 1024 * 1024;
const names = Array.from({ length: nFiles }, (_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(nFiles).padStart(5, '0')}.safetensors`);
const totalBytes = nFiles * fileBytes;

async function makeData(): Promise<void> {
  await mkdir(DATA, { recursive: true });
  for (const name of await readdir(DATA)) if (!names.includes(name)) await rm(join(DATA, name), { force: true });
  for (const [i, name] of names.entries()) {
    const path = join(DATA, name);
    if ((await stat(path).catch(() => undefined))?.size === fileBytes) continue;
    const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, i + 1), Buffer.alloc(16));
    const out = createWriteStream(path);
    const zeros = Buffer.alloc(1 << 20);
    for (let done = 0; done < fileBytes; done += zeros.length) {
      if (!out.write(cipher.update(zeros.subarray(0, Math.min(zeros.length, fileBytes - done))))) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function timed(label: string, run: () => void): number {
  execFileSync('sync');
  const start = process.hrtime.bigint();
  run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${label.padEnd(34)} ${seconds.toFixed(2)} s  ${(totalBytes / seconds / 1e6).toFixed(0)} MB/s`);
  return seconds;
}

function llama(args: string[]): void {
  execFileSync(process.execPath, [join(ROOT, 'bin/run.js'), ...args, '--progress', 'none'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, HF_TOKEN: TOKEN } });
}

function curlPut(url: string, file: string): void {
  execFileSync('curl', ['-sS', '-f', '-o', '/dev/null', '-T', file, url]);
}

async function startHub(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(ROOT, 'bench/publish/hub.ts'), '--token', TOKEN], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`bench hub exited with ${code}`)));
  });
  return { url, stop: () => new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill('SIGTERM'); }) };
}

async function presignedPuts(hub: string, repo: string, digests: string[]): Promise<string[]> {
  await fetch(`${hub}/api/repos/create`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: repo.split('/')[1], organization: repo.split('/')[0], type: 'model' }) });
  const res = await fetch(`${hub}/${repo}.git/info/lfs/objects/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/vnd.git-lfs+json' },
    body: JSON.stringify({ operation: 'upload', transfers: ['basic'], hash_algo: 'sha_256', ref: { name: 'main' }, objects: digests.map((oid) => ({ oid, size: fileBytes })) }),
  });
  const json = (await res.json()) as { objects: { actions?: { upload?: { href: string } } }[] };
  return json.objects.map((o) => o.actions?.upload?.href ?? '');
}

await makeData();
console.log(`${nFiles} × ${values.mb} MiB = ${(totalBytes / 2 ** 20).toFixed(0)} MiB; node ${process.version}`);
const digests = await Promise.all(names.map((n) => sha256File(join(DATA, n))));
const run = Date.now();

if (!values['skip-hub']) {
  const hub = await startHub();
  try {
    const urls = await presignedPuts(hub.url, `user/bench-curl-${run}`, digests);
    const curl = timed('hub: curl -T (presigned PUTs)', () => names.forEach((n, i) => curlPut(urls[i]!, join(DATA, n))));
    const ours = timed('hub: llama publish', () => llama(['publish', DATA, '--to', `hf://user/bench-llama-${run}`, '--endpoint', hub.url]));
    console.log(`hub ratio llama/curl throughput: ${(curl / ours).toFixed(2)}×`);
  } finally {
    await hub.stop();
  }
}

if (!values['skip-oci']) {
  if (!registryAvailable()) console.log('registry: skipped (docker-registry not installed)');
  else {
    const registry = await startRegistry();
    try {
      const curl = timed('registry: curl -T (blob PUTs)', () => names.forEach((n, i) => {
        const location = execFileSync('curl', ['-sS', '-f', '-D', '-', '-o', '/dev/null', '-X', 'POST', `${registry.url}/v2/bench/curl/blobs/uploads/`], { encoding: 'utf8' });
        const loc = /^location:\s*(\S+)/im.exec(location)?.[1] ?? '';
        const url = new URL(loc, registry.url);
        url.searchParams.set('digest', `sha256:${digests[i]}`);
        curlPut(url.href, join(DATA, n));
      }));
      const ours = timed('registry: llama publish', () => llama(['publish', DATA, '--to', `oci://${registry.host}/bench/llama:1`]));
      console.log(`registry ratio llama/curl throughput: ${(curl / ours).toFixed(2)}×`);
    } finally {
      await registry.close();
    }
  }
}
