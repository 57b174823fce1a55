/** Test checkpoints on disk: a README.md card, upstream license files copied from templates/, config.json. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { templatesRoot } from '../../src/license/texts.ts';

export interface CheckpointSpec {
  /** Card front matter (license, license_name, base_model, pipeline_tag, …); omitted: no README.md. */
  card?: Record<string, unknown>;
  /** Copy templates/licenses/<id>/LICENSE.txt (and USE_POLICY.md when it exists) into the checkpoint. */
  licenseFrom?: string;
  /** Extra files (name → content). */
  files?: Record<string, string>;
  /** config.json content. */
  config?: Record<string, unknown>;
}

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-license-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function template(id: string, file = 'LICENSE.txt'): Promise<string> {
  return readFile(join(templatesRoot(), id, file), 'utf8');
}

export async function makeCheckpoint(dir: string, spec: CheckpointSpec): Promise<string> {
  await mkdir(dir, { recursive: true });
  if (spec.card) await writeFile(join(dir, 'README.md'), `---\n${stringify(spec.card)}---\n\n# Model\n`);
  if (spec.licenseFrom) {
    await writeFile(join(dir, 'LICENSE.txt'), await template(spec.licenseFrom));
    const policy = await template(spec.licenseFrom, 'USE_POLICY.md').catch(() => undefined);
    if (policy !== undefined) await writeFile(join(dir, 'USE_POLICY.md'), policy);
  }
  if (spec.config) await writeFile(join(dir, 'config.json'), JSON.stringify(spec.config));
  for (const [name, content] of Object.entries(spec.files ?? {})) await writeFile(join(dir, name), content);
  return dir;
}

/** A checkpoint in the Hugging Face cache layout: models--org--name/{refs/main, snapshots/<commit>/}. */
export async function makeCached(cacheDir: string, repo: string, spec: CheckpointSpec): Promise<string> {
  const root = join(cacheDir, `models--${repo.replace('/', '--')}`);
  const commit = 'c'.repeat(40);
  await mkdir(join(root, 'refs'), { recursive: true });
  await writeFile(join(root, 'refs', 'main'), commit);
  return makeCheckpoint(join(root, 'snapshots', commit), spec);
}
