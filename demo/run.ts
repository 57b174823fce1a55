/**
 * `npm run demo`: the whole pipeline on an embedded default, against a local Hugging Face Hub on 127.0.0.1.
 *
 * 1. writes a tiny random Llama 2-style checkpoint (real Llama 2 tokenizer, LICENSE, USE_POLICY.md, model card);
 * 2. serves it from the local hub as a *gated* repo that only the demo token may read;
 * 3. runs the real CLI (`bin/run.js`), one command at a time, exactly as a CI job would:
 *    pull (anonymous first, to show the refusal) → verify → quantize to Q4_K_M → license check → license notice
 *    → package, and prints where the archive is and its sha256.
 * Everything lands in ./.llama-demo (removed at the start of each run); nothing leaves this machine.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { list as listArchive } from 'tar';
import { generateCheckpoint } from '../test/support/checkpoint/index.ts';
import { startHubServer } from '../test/support/hub-server/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'bin', 'run.js');
const work = resolve(process.cwd(), '.llama-demo');
const repo = 'demo-org/Llama-2-tiny-hf';
const token = 'hf_demoTokenForTheLocalHub0001';

interface Step {
  code: number | null;
  stdout: string;
}

/** Run `llama ARGS` in a child process with the demo's environment, echoing the command and its output. */
function llama(args: string[], env: NodeJS.ProcessEnv, options: { expectCode?: number; quiet?: boolean } = {}): Promise<Step> {
  const shown = args.map((a) => (a.startsWith(work) ? relative(process.cwd(), a) : a)).join(' ');
  process.stdout.write(`\n$ llama ${shown}\n`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: work, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!options.quiet) process.stdout.write(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => process.stdout.write(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const expected = options.expectCode ?? 0;
      if (code !== expected) reject(new Error(`llama ${args[0]} exited with ${code}, expected ${expected}`));
      else resolvePromise({ code, stdout });
    });
  });
}

async function main(): Promise<void> {
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const upstream = join(work, 'upstream');

  console.log('== 1. a tiny Llama 2-style checkpoint (seeded random weights, F16, 2 shards)');
  // Rows of 256 so the K-quant types apply (smaller rows fall back to legacy types, as llama-quantize does).
  const shape = { layers: 2, hidden: 256, intermediate: 512, heads: 4, kvHeads: 4 };
  const checkpoint = await generateCheckpoint(upstream, { version: '2', dtype: 'F16', shards: 2, seed: 'demo', shape });
  for (const file of checkpoint.files) console.log(`   ${file.path.padEnd(36)} ${String(file.size).padStart(9)} B`);

  console.log(`\n== 2. a local Hugging Face Hub serving ${repo} as a gated repo`);
  const hub = await startHubServer({ tokens: { [token]: 'demo-user' } });
  try {
    const files: Record<string, { path: string }> = {};
    for (const file of checkpoint.files) files[file.path] = { path: join(upstream, file.path) };
    await hub.addRepo({ id: repo, gated: 'manual', access: { 'demo-user': 'granted' }, files });
    console.log(`   hub at ${hub.url} (the demo token has accepted the license; anonymous users have not)`);

    const cache = join(work, 'hf-cache');
    const base = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_TOKEN: '', HF_HOME: join(work, 'hf-home') };
    const withToken = { ...base, HF_TOKEN: token };
    const plain = ['--progress', 'plain'];

    console.log('\n== 3. pull: anonymous is refused (exit 5), the token gets every byte verified and pinned');
    await llama(['pull', repo, ...plain], base, { expectCode: 5 });
    await llama(['pull', repo, '--lock', join(work, 'llama.lock.json'), ...plain], withToken);
    await llama(['verify', '--lock', join(work, 'llama.lock.json')], withToken);

    console.log('\n== 4. quantize the pulled checkpoint to Q4_K_M (CPU path, bit-identical to llama.cpp)');
    const gguf = join(work, 'out', 'Llama-2-tiny-Demo-Q4_K_M.gguf');
    await llama(['quantize', repo, '--type', 'Q4_K_M', '--out', gguf, ...plain], withToken);

    console.log('\n== 5. the derivative against its base license');
    const config = join(work, 'llama.config.json');
    await writeFile(
      config,
      `${JSON.stringify(
        {
          derivative: { name: 'Llama-2-tiny-Demo-Q4_K_M', version: '1.0.0', baseModels: [repo], relation: 'quantized' },
          licensee: { name: 'Demo Inc.', monthlyActiveUsers: 25_000, euEstablished: false, commercial: true },
          intendedUses: ['customer support chat', 'summarization'],
        },
        null,
        2,
      )}\n`,
    );
    await llama(['license', 'check', '--config', config], withToken);
    await llama(['license', 'notice', '--config', config], withToken);

    console.log('\n== 6. package: verbatim LICENSE / USE_POLICY, NOTICE, model card, manifest, CycloneDX ML-BOM, reproducible tar');
    const out = join(work, 'packages');
    const step = await llama(['package', gguf, '--config', config, '--out', out, '--json'], withToken, { quiet: true });
    const result = JSON.parse(step.stdout) as { path: string; sha256: string };
    await listArchive({ file: result.path, onReadEntry: (entry) => console.log(`   ${entry.path.padEnd(56)} ${String(entry.size).padStart(9)} B`) });
    console.log(`\narchive: ${relative(process.cwd(), result.path)}`);
    console.log(`sha256:  ${result.sha256}`);
    console.log(`beside it: ${(await readdir(out)).filter((f) => f !== basename(result.path)).join(', ')}`);
  } finally {
    await hub.close();
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
