/**
 * Which files of a repo to fetch, the way `hf download` chooses them (huggingface_hub `utils/_paths.py
 * filter_repo_objects`): fnmatch-style globs where `*` also matches `/`, a pattern ending in `/` means everything
 * below it, and positional paths name files or folders (`dir/`). On top of that, the transformers habit: when a repo
 * has `*.safetensors` weights, the duplicate weight formats are skipped unless asked for.
 */
import { UsageError } from '../errors.ts';

/** Python fnmatch semantics (case-sensitive): `*` any run, `?` one character, `[seq]`, `[!seq]`. */
export function fnmatchToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/\\/g, '\\\\').replace(/\^/g, '\\^')}]`;
      i = close;
    } else out += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
}

function compile(patterns: readonly string[]): RegExp[] {
  return patterns.map((p) => fnmatchToRegExp(p.endsWith('/') ? `${p}*` : p));
}

/** Duplicate weight formats that transformers does not need when safetensors weights exist. */
export const DUPLICATE_WEIGHT_PATTERNS = ['*.bin', '*.pth', '*.pt', 'consolidated.*', 'original/*'] as const;

export interface Selection {
  selected: string[];
  /** Skipped by the default rule (not by --exclude), to tell the user. */
  skipped: string[];
}

export interface SelectOptions {
  paths?: readonly string[];
  include?: readonly string[];
  exclude?: readonly string[];
}

export function selectFiles(all: readonly string[], options: SelectOptions, repo = 'the repo'): Selection {
  let chosen: string[];
  const paths = options.paths ?? [];
  if (paths.length > 0) {
    const set = new Set(all);
    const missing: string[] = [];
    const picked = new Set<string>();
    for (const raw of paths) {
      const p = raw.replace(/^\.\//, '');
      if (set.has(p)) {
        picked.add(p);
        continue;
      }
      const prefix = p.endsWith('/') ? p : `${p}/`;
      const below = all.filter((f) => f.startsWith(prefix));
      if (below.length === 0) missing.push(raw);
      for (const f of below) picked.add(f);
    }
    if (missing.length > 0) {
      throw new UsageError('HUB_ENTRY_NOT_FOUND', `Not in ${repo}: ${missing.join(', ')}.`, {
        hint: 'Check the paths against the repo\'s file list (they are case-sensitive); folders can be given as dir/.',
        details: { missing },
      });
    }
    chosen = all.filter((f) => picked.has(f));
  } else {
    chosen = [...all];
  }
  const include = compile(options.include ?? []);
  const exclude = compile(options.exclude ?? []);
  if (include.length > 0) chosen = chosen.filter((f) => include.some((r) => r.test(f)));
  if (exclude.length > 0) chosen = chosen.filter((f) => !exclude.some((r) => r.test(f)));
  const skipped: string[] = [];
  if (paths.length === 0 && include.length === 0 && all.some((f) => f.endsWith('.safetensors'))) {
    const dup = compile(DUPLICATE_WEIGHT_PATTERNS);
    chosen = chosen.filter((f) => {
      if (f.endsWith('.safetensors') || !dup.some((r) => r.test(f))) return true;
      skipped.push(f);
      return false;
    });
  }
  return { selected: chosen.sort(), skipped: skipped.sort() };
}

/** --include / --exclude (or paths) that leave nothing to fetch are a usage error, never "0 file(s) verified". */
export function nothingSelected(repo: string, selection: SelectOptions, where: string): UsageError {
  const given = [
    ...(selection.include ?? []).map((p) => `--include ${p}`),
    ...(selection.exclude ?? []).map((p) => `--exclude ${p}`),
  ];
  return new UsageError('NOTHING_SELECTED', `No file of ${where} matches ${given.length > 0 ? given.join(' ') : 'the selection'}.`, {
    hint: 'Patterns are fnmatch globs matched against the whole path (`*` also matches `/`); check them against the repo\'s file list.',
    details: { repo, include: selection.include ?? [], exclude: selection.exclude ?? [] },
  });
}
