/**
 * Fixtures for the package tests: base checkpoints of each Llama version (from the shared tiny-checkpoint
 * generator, shrunk so each is a few MB), derivative inputs, configuration files, and a snapshot of a directory tree
 * to prove an output directory was left untouched.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import ajvModule from 'ajv';
import formatsModule from 'ajv-formats';
import { generateCheckpoint, type LlamaVersion } from '../support/checkpoint/index.ts';

/** The smallest shape the generator accepts that still looks like a Llama checkpoint. */
const SMALL = { layers: 1, hidden: 8, intermediate: 16, heads: 2, kvHeads: 2 };

export type BaseVersion = LlamaVersion | '4';

/** A local base checkpoint: config.json, weights, README.md card and the verbatim LICENSE / USE_POLICY.md. */
export async function makeBase(dir: string, version: BaseVersion, options: { tamper?: boolean; card?: Record<string, unknown> } = {}): Promise<string> {
  if (version === '4') {
    // The generator stops at 3.3; a Llama 4 base is its card and texts (what the lineage reads).
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'README.md'), '---\nlicense: llama4\npipeline_tag: image-text-to-text\n---\n\n# Tiny Llama 4 stand-in\n');
    const templates = new URL('../../templates/licenses/llama4/', import.meta.url);
    await writeFile(join(dir, 'LICENSE'), await readFile(new URL('LICENSE.txt', templates)));
    await writeFile(join(dir, 'USE_POLICY.md'), await readFile(new URL('USE_POLICY.md', templates)));
    return dir;
  }
  await generateCheckpoint(dir, {
    version,
    shape: SMALL,
    tokenizer: false,
    generationConfig: false,
    ...(options.tamper ? { license: { tamper: 'LICENSE' as const } } : {}),
    ...(options.card ? { card: { extra: options.card } } : {}),
  });
  return dir;
}

/** A derivative's own files: a GGUF-looking weight file and a tokenizer config. */
export async function makeDerivative(dir: string, seed = 1): Promise<string> {
  await mkdir(join(dir, 'tokenizer'), { recursive: true });
  const weights = Buffer.alloc(300_000 + seed);
  for (let i = 0; i < weights.length; i++) weights[i] = (i * 31 + seed * 7) & 0xff;
  await writeFile(join(dir, 'model-Q8_0.gguf'), weights);
  await writeFile(join(dir, 'tokenizer', 'tokenizer_config.json'), '{"bos_token": "<s>"}\n');
  return dir;
}

export async function writeConfig(dir: string, config: Record<string, unknown>, name = '.llamarc.json'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, name);
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** Every entry under `dir` with its type and, for files, its sha256: equal snapshots mean nothing changed. */
export async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string) => {
    let names: string[];
    try {
      names = await readdir(current);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const full = join(current, name);
      const info = await lstat(full);
      const rel = relative(dir, full);
      if (info.isDirectory()) {
        out.push(`${rel}/`);
        await walk(full);
      } else {
        out.push(`${rel} ${createHash('sha256').update(await readFile(full)).digest('hex')}`);
      }
    }
  };
  await walk(dir);
  return out;
}

/** The YAML front matter of a Markdown file, unparsed. */
export function frontMatter(markdown: string): string {
  const match = /^---\n([\s\S]*?)\n---\n/.exec(markdown);
  if (!match) throw new Error('no front matter');
  return match[1]!;
}

/**
 * Validate a CycloneDX 1.6 JSON BOM against the schema bundled with @cyclonedx/cyclonedx-library. The library's own
 * JsonStrictValidator needs the optional peer ajv-formats-draft2019, which is not installed; then the same check is
 * made the way the library makes it (its _optPlug.node/__jsonValidators/ajv.js): ajv with the same options, the
 * bundled bom-1.6, spdx, jsf and cryptography-defs schemas, ajv-formats, and the one format the draft-2019 plugin
 * adds (idn-email). Returns the errors, or null when the BOM is valid.
 */
export async function validateCycloneDx16(json: string): Promise<unknown[] | null> {
  try {
    const errors = await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(json);
    return errors === null ? null : [errors];
  } catch (error) {
    if ((error as Error).constructor.name !== 'MissingOptionalDependencyError') throw error;
  }
  // Both are CommonJS modules whose exports also carry themselves as `.default`, which is what TypeScript sees.
  const Ajv = ajvModule.default;
  const addFormats = formatsModule.default;
  const schemaDir = join(dirname(createRequire(import.meta.url).resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
  const load = async (name: string) => JSON.parse(await readFile(join(schemaDir, name), 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({
    useDefaults: false,
    strict: false,
    strictSchema: false,
    addUsedSchema: false,
    schemas: {
      'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json': await load('spdx.SNAPSHOT.schema.json'),
      'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json': await load('cryptography-defs.SNAPSHOT.schema.json'),
      'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json': await load('jsf-0.82.SNAPSHOT.schema.json'),
    },
  });
  addFormats(ajv);
  ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
  ajv.addFormat('iri-reference', true);
  const validate = ajv.compile(await load('bom-1.6.SNAPSHOT.schema.json'));
  return validate(JSON.parse(json)) ? null : (validate.errors ?? []);
}
