/**
 * Package names and versions. A version is strict semver (https://semver.org, as the `semver` package parses it,
 * without a leading `v`). `--bump` increments the newest version already packaged in the output directory, else the
 * configured one; whichever way the version was chosen, it must be greater than every version already in the output
 * directory, so a release is never overwritten or published out of order.
 */
import { readdir } from 'node:fs/promises';
import semver from 'semver';
import { UsageError } from '../errors.ts';

export type BumpKind = 'patch' | 'minor' | 'major';

/** A distributable name: a Hub-style `name` or `org/name` of letters, digits, `.`, `_` and `-`. */
const NAME_PATTERN = /^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

export function checkName(name: string): string {
  if (!NAME_PATTERN.test(name) || name.includes('..')) {
    throw new UsageError('PACKAGE_NAME_INVALID', `"${name}" is not a usable package name.`, {
      hint: 'Use letters, digits, ".", "_" and "-" (optionally "org/name"), starting with a letter or digit, at most 96 characters per part.',
      details: { name },
    });
  }
  return name;
}

/** The file-name stem for a package name: `org/name` becomes `org--name` (the Hub cache's convention). */
function fileStem(name: string): string {
  return name.replace('/', '--');
}

/** The package's base name: `<stem>-<version>` (archive `<base>.tar`, directory `<base>/`). */
export function packageBase(name: string, version: string): string {
  return `${fileStem(name)}-${version}`;
}

/** Strict semver: what `semver` parses, written exactly in its canonical form (no `v`, spaces or `=`). */
function isStrictSemver(version: string): boolean {
  const parsed = semver.parse(version);
  if (parsed === null) return false;
  return `${parsed.version}${parsed.build.length > 0 ? `+${parsed.build.join('.')}` : ''}` === version;
}

export function checkVersion(version: string, origin: string): string {
  if (!isStrictSemver(version)) {
    throw new UsageError('PACKAGE_VERSION_INVALID', `The version "${version}" (${origin}) is not a semantic version.`, {
      hint: 'Write MAJOR.MINOR.PATCH, optionally with a pre-release or build suffix: 1.2.0, 1.3.0-rc.1.',
      details: { version, origin },
    });
  }
  return version;
}

/** Versions of `name` already packaged in `outDir` (archives `<stem>-<v>.tar` and directories `<stem>-<v>`). */
export async function packagedVersions(outDir: string, name: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(outDir);
  } catch {
    return [];
  }
  const prefix = `${fileStem(name)}-`;
  const versions = new Set<string>();
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const rest = entry.slice(prefix.length).replace(/\.tar$/, '');
    if (isStrictSemver(rest)) versions.add(rest);
  }
  return [...versions].sort(semver.rcompare);
}

export interface VersionChoice {
  version: string;
  /** Where it came from: the flag, the configuration, or a bump of an earlier version. */
  origin: 'flag' | 'config' | 'bump';
  /** The version bumped from, and where that was found. */
  previous?: { version: string; from: 'out' | 'config' };
}

export async function chooseVersion(options: {
  name: string;
  outDir: string;
  flag?: string;
  bump?: BumpKind;
  configVersion?: string;
}): Promise<VersionChoice> {
  if (options.flag !== undefined && options.bump !== undefined) {
    throw new UsageError('PACKAGE_VERSION_CONFLICT', '--version and --bump were both given.', {
      hint: 'Give one: --version 1.2.0 sets the version, --bump patch|minor|major derives it from the last package.',
    });
  }
  const existing = await packagedVersions(options.outDir, options.name);
  const newest = existing[0];
  let choice: VersionChoice;
  if (options.bump !== undefined) {
    const previous = newest !== undefined ? { version: newest, from: 'out' as const } : options.configVersion !== undefined ? { version: checkVersion(options.configVersion, 'derivative.version in the configuration'), from: 'config' as const } : undefined;
    if (!previous) {
      throw new UsageError('PACKAGE_VERSION_NOTHING_TO_BUMP', `--bump ${options.bump} needs a previous version, and there is no package of ${options.name} in ${options.outDir} nor a derivative.version in the configuration.`, {
        hint: 'Give the first version with --version 1.0.0 (or derivative.version in the configuration).',
        details: { outDir: options.outDir },
      });
    }
    const version = semver.inc(previous.version, options.bump);
    if (version === null) throw new Error(`semver.inc(${previous.version}, ${options.bump}) failed`);
    choice = { version, origin: 'bump', previous };
  } else if (options.flag !== undefined) {
    choice = { version: checkVersion(options.flag, '--version'), origin: 'flag' };
  } else if (options.configVersion !== undefined) {
    choice = { version: checkVersion(options.configVersion, 'derivative.version in the configuration'), origin: 'config' };
  } else {
    throw new UsageError('PACKAGE_VERSION_REQUIRED', 'The package needs a version.', {
      hint: 'Give --version 1.0.0, --bump patch|minor|major, or derivative.version in the configuration.',
    });
  }
  if (newest !== undefined && !semver.gt(choice.version, newest)) {
    throw new UsageError('PACKAGE_VERSION_NOT_INCREASING', `Version ${choice.version} of ${options.name} is not greater than ${newest}, already packaged in ${options.outDir}.`, {
      hint: `Use a version above ${newest}, for example --bump patch (→ ${semver.inc(newest, 'patch') ?? ''}).`,
      details: { version: choice.version, newest, outDir: options.outDir },
    });
  }
  return choice;
}

/** SOURCE_DATE_EPOCH (https://reproducible-builds.org/specs/source-date-epoch/): a non-negative integer. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv, fallback: number): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return fallback;
  // ustar's mtime field holds 11 octal digits; a later date would need a pax header.
  if (!/^\d+$/.test(raw) || Number(raw) > 0o77777777777) {
    throw new UsageError('SOURCE_DATE_EPOCH_INVALID', `SOURCE_DATE_EPOCH="${raw}" is not a number of seconds since 1970-01-01.`, {
      hint: 'Set it to an integer such as $(git log -1 --format=%ct), or unset it.',
      details: { value: raw },
    });
  }
  return Number(raw);
}
