/**
 * Configuration discovery and validation. cosmiconfig searches from the working directory up to the project root
 * (the nearest package.json) for `llama` config in the places listed in SEARCH_PLACES; `--config FILE` skips the
 * search. The result is validated against `configSchema`; an invalid file is a UsageError (exit 2) naming the
 * file, the key path and what was expected.
 */
import { cosmiconfig, defaultLoaders, type Loader } from 'cosmiconfig';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { UsageError } from '../errors.ts';
import { nearest } from '../util/nearest.ts';
import { configSchema, type LlamaConfig } from './schema.ts';

export const MODULE_NAME = 'llama';

/** Where we look, in order (the issue's list; cosmiconfig's `.config/` forms are not offered). */
export const SEARCH_PLACES = [
  'package.json',
  '.llamarc',
  '.llamarc.json',
  '.llamarc.yaml',
  '.llamarc.yml',
  '.llamarc.js',
  '.llamarc.mjs',
  '.llamarc.cjs',
  'llama.config.js',
  'llama.config.mjs',
  'llama.config.cjs',
  'llama.config.ts',
] as const;

export interface LoadedConfig {
  config: LlamaConfig;
  /** Absolute path of the file the configuration came from; null when none was found (defaults only). */
  filepath: string | null;
  /** Directory relative paths in the config are resolved against (the file's directory, else the cwd). */
  baseDir: string;
  /** How the file was found. */
  source: 'flag' | 'search' | 'defaults';
}

export interface LoadConfigOptions {
  /** An explicit file (`--config`): no search. */
  configFile?: string;
  /** Where the search starts (default: process.cwd()). */
  cwd?: string;
}

/**
 * ES modules (and TypeScript, which Node 22.18+/24 strip natively) are loaded with import(); a config module
 * exports the object as default. cosmiconfig's own .ts loader would need the TypeScript compiler at run time.
 */
const importModule: Loader = async (filepath) => {
  const module = (await import(pathToFileURL(filepath).href)) as { default?: unknown };
  // The configuration is data: read it once, here, into plain values, so that a getter that throws or a Proxy that
  // refuses to be read is an error that names this file, not a failure deep in the command.
  try {
    return JSON.parse(JSON.stringify(module.default ?? module)) as unknown;
  } catch (error) {
    throw new UsageError('CONFIG_UNREADABLE', `Could not read the configuration exported by ${filepath}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'Export a plain object of data (no getters that throw, no Proxy, no cycles) from the configuration module.',
      details: { file: filepath },
      cause: error,
    });
  }
};

function explorer() {
  return cosmiconfig(MODULE_NAME, {
    searchPlaces: [...SEARCH_PLACES],
    searchStrategy: 'project',
    cache: false,
    loaders: {
      ...defaultLoaders,
      '.mjs': importModule,
      '.js': importModule,
      '.ts': importModule,
    },
  });
}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = resolve(options.cwd ?? process.cwd());
  let raw: unknown = {};
  let filepath: string | null = null;
  let source: LoadedConfig['source'] = 'defaults';

  try {
    if (options.configFile !== undefined) {
      const file = resolve(cwd, options.configFile);
      if (!existsSync(file)) {
        throw new UsageError('CONFIG_NOT_FOUND', `Configuration file ${file} does not exist.`, {
          hint: 'Check the path given to --config, or drop the flag to use the discovered configuration.',
          details: { file },
        });
      }
      const result = await explorer().load(file);
      raw = result?.config ?? {};
      filepath = file;
      source = 'flag';
    } else {
      const result = await explorer().search(cwd);
      if (result) {
        raw = result.config ?? {};
        filepath = result.filepath;
        source = 'search';
      }
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const file = filepath ?? options.configFile ?? 'configuration file';
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError('CONFIG_UNREADABLE', `Could not read ${file}: ${message}`, {
      hint: 'Fix the syntax of the file (JSON, YAML or a module that exports the configuration object).',
      details: { file },
      cause: error,
    });
  }

  let config: LlamaConfig;
  try {
    config = validateConfig(raw, filepath ?? '(defaults)');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // A JavaScript configuration is code: a getter that throws or a Proxy that refuses to be read fails here.
    const file = filepath ?? '(defaults)';
    throw new UsageError('CONFIG_UNREADABLE', `Could not read the configuration exported by ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'Export a plain object (no getters that throw, no Proxy) from the configuration module.',
      details: { file },
      cause: error,
    });
  }
  return { config, filepath, baseDir: filepath ? dirname(filepath) : cwd, source };
}

/** Validate a raw configuration object; `origin` names where it came from in the error. */
export function validateConfig(raw: unknown, origin: string): LlamaConfig {
  const parsed = configSchema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(describeIssue);
  const first = problems[0] ?? { path: '(root)', expected: 'a valid configuration' };
  throw new UsageError(
    'CONFIG_INVALID',
    `Invalid configuration in ${origin}: ${problems.map((p) => `${p.path}: ${p.expected}`).join('; ')}`,
    {
      hint: `Fix ${first.path} in ${origin} (the README's Configuration section lists every key).`,
      details: { file: origin, problems },
    },
  );
}

interface SchemaNode {
  def?: { innerType?: SchemaNode; element?: SchemaNode; type?: string };
  shape?: Record<string, SchemaNode>;
}

/** Through .optional() and .default() to the schema they wrap. */
function unwrap(schema: SchemaNode | undefined): SchemaNode | undefined {
  let node = schema;
  while (node?.def?.innerType !== undefined) node = node.def.innerType;
  return node;
}

/** The keys the schema allows in the object at `path` (for "did you mean"). */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let node = unwrap(configSchema as unknown as SchemaNode);
  for (const step of path) {
    if (typeof step === 'number' && node?.def?.type === 'array') node = unwrap(node.def.element);
    else if (typeof step === 'string' && node?.shape && Object.hasOwn(node.shape, step)) node = unwrap(node.shape[step]);
    else return [];
  }
  return node?.shape ? Object.keys(node.shape) : [];
}

function describeIssue(issue: z.core.$ZodIssue): { path: string; expected: string } {
  const path = issue.path.length === 0 ? '(root)' : issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.join(', ');
    const known = knownKeysAt(issue.path);
    const suggestions = issue.keys.map((k) => nearest(k, known)).filter((k): k is string => k !== undefined);
    const meant = suggestions.length > 0 ? `; did you mean ${suggestions.join(', ')}?` : '';
    return { path: issue.path.length === 0 ? keys : `${path}.${keys}`, expected: `unknown key (not part of the schema${known.length > 0 ? `: known keys are ${known.join(', ')}` : ''})${meant}` };
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // Say what each alternative wanted ("expected number … or expected record …") instead of "Invalid input".
    const alternatives = [...new Set(issue.errors.map((branch) => branch[0]?.message).filter((m): m is string => Boolean(m)))];
    if (alternatives.length > 0) return { path, expected: alternatives.join(' or ') };
  }
  return { path, expected: issue.message };
}
