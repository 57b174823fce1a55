/**
 * Fixtures for the publish tests: a real `llama package` output (tar and directory) built offline from the package
 * tests' tiny Llama 3.2 base and derivative, tokens the local hub knows, fast retries, and file comparison.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { packageDerivative, type PackageResult } from '../../src/package/package.ts';
import type { RetryPolicy } from '../../src/util/retry.ts';
import { makeBase, makeDerivative, writeConfig } from '../package/helpers.ts';

export const FAST_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 5, maxDelayMs: 40, maxRetryAfterMs: 1000 };

/** Tokens the fake hub knows (they must start with hf_). */
export const TOKENS = {
  writer: 'hf_publishWriter0000000000001',
  reader: 'hf_publishReader0000000000002',
  outsider: 'hf_publishOutsider00000000003',
} as const;

export const HUB_TOKENS = {
  [TOKENS.writer]: { user: 'alice', orgs: ['acme'] },
  [TOKENS.reader]: { user: 'alice', role: 'read' as const, orgs: ['acme'] },
  [TOKENS.outsider]: { user: 'mallory' },
};

export const NAME = 'Llama-3.2-Tiny-Acme-Q8_0';

/** A package of the tiny derivative in `root`: `format` tar or dir, version 1.0.0 unless given. */
export async function makePackage(root: string, options: { format?: 'tar' | 'dir'; version?: string; extra?: Record<string, string | Buffer>; out?: string } = {}): Promise<PackageResult> {
  const env = { HOME: root, HF_HOME: join(root, 'hf-home'), SOURCE_DATE_EPOCH: '1700000000' };
  await makeBase(join(root, 'base'), '3.2');
  const deriv = join(root, 'deriv');
  await makeDerivative(deriv);
  for (const [path, data] of Object.entries(options.extra ?? {})) await writeFile(join(deriv, path), data);
  const file = await writeConfig(root, {
    derivative: { name: NAME, version: options.version ?? '1.0.0', baseModels: ['./base'], relation: 'quantized' },
    licensee: { name: 'Acme Inc.', monthlyActiveUsers: 12_000, euEstablished: false, commercial: true },
  }, 'llama.json');
  return packageDerivative({
    inputs: [{ source: 'deriv' }],
    config: await loadConfig({ configFile: file, cwd: root }),
    cwd: root,
    offline: true,
    env,
    out: options.out ?? join(root, 'packages'),
    format: options.format ?? 'tar',
  });
}

export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** path → sha256 of every file under `dir`, skipping `skip` top-level names. */
export async function treeDigests(dir: string, skip: string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      const rel = relative(dir, full).split('\\').join('/');
      if (skip.includes(rel.split('/')[0] ?? '')) continue;
      if (entry.isDirectory()) await walk(full);
      else out[rel] = sha256(await readFile(full));
    }
  };
  await walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}
