/**
 * The CLI is installed under two names, `llama` and `llama-dist` (llama.cpp and llama-stack install a `llama` of
 * their own). oclif prints its configured bin in usage lines and `<%= config.bin %>` examples; bin/run.js hands it
 * the name the user typed instead, so `llama-dist pull --help` shows `$ llama-dist pull …`.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

interface PackageJson {
  bin?: Record<string, string>;
  oclif?: { bin?: string; binAliases?: string[] };
  [key: string]: unknown;
}

/** The bin name `argv1` (process.argv[1]) was started as, when it is one of `names` (a symlink npm made). */
export function invokedName(argv1: string | undefined, names: readonly string[]): string | undefined {
  if (!argv1) return undefined;
  const name = basename(argv1).replace(/\.(?:cmd|ps1|exe)$/i, '');
  return names.includes(name) ? name : undefined;
}

/**
 * oclif load options for the package at `root`: its package.json with oclif's bin set to the name the user typed
 * and the other names as bin aliases (so LLAMA_* and LLAMA_DIST_* scoped variables both apply). Undefined when
 * started by path (node bin/run.js): oclif's own configuration then applies.
 */
export function loadOptionsFor(root: string, argv1: string | undefined): { root: string; pjson: PackageJson } | undefined {
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const names = Object.keys(pjson.bin ?? {});
  const name = invokedName(argv1, names);
  if (name === undefined || name === pjson.oclif?.bin) return undefined;
  return { root, pjson: { ...pjson, oclif: { ...pjson.oclif, bin: name, binAliases: names.filter((n) => n !== name) } } };
}
