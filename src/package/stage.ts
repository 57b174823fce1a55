/**
 * Staging: turn the INPUT arguments into the list of files the package will hold, with their place in the package,
 * size and normalised mode, and enforce the safety rules of ./safety.ts. Nothing is read here: the bytes are read
 * once, later, when they are archived (or copied into a package directory), hashed and searched for tokens on the
 * way (./token-scan.ts).
 *
 * Layout: a file INPUT lands at the package root under its own name; a directory INPUT contributes its contents
 * (not the directory itself) to the root. `SOURCE=DEST` places a file or directory at DEST inside the package.
 */
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.ts';
import { EXEC_MODE, FILE_MODE } from './archive.ts';
import { tokenFilePaths } from '../hub/token.ts';
import { checkPackagePath, secretReason, SKIPPED_DIRECTORIES } from './safety.ts';

export interface PackageInput {
  /** A file or directory (absolute, or relative to `cwd`). */
  source: string;
  /** Where it goes inside the package; default: a file's name at the root, a directory's contents at the root. */
  dest?: string;
}

export interface StagedFile {
  /** Path inside the package (posix). */
  path: string;
  /** Absolute, symlink-free path of the bytes. */
  source: string;
  size: number;
  /** 0644, or 0755 when the owner may execute the source. */
  mode: number;
  /** Named directly as an INPUT (the opt-in for secret-looking names). */
  explicit: boolean;
  /** The file as the inputs name it (`deriv/train.log`), for messages. */
  shown: string;
}

export interface StagePlan {
  /** Sorted by path (byte order of the UTF-8 encoding). */
  files: StagedFile[];
  /** Every directory that holds a file, sorted the same way. */
  directories: string[];
  /** Things skipped, in words (shown as warnings). */
  notes: string[];
  /** Inputs the package reads into its own file at their path instead of shipping them (the user's model card). */
  merged: StagedFile[];
}

export interface StageOptions {
  cwd?: string;
  /** Paths the package generates itself (LICENSE, NOTICE, README.md, …): an input at such a path is left out. */
  isGenerated?: (path: string) => boolean;
  /** Paths whose input the package reads into its own file (README.md, the model card): kept apart in `merged`. */
  isMerged?: (path: string) => boolean;
  /** Absolute directories never staged (the output directory, when it lies inside an input directory). */
  exclude?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** The files that hold a token (default: src/hub/token.ts tokenFilePaths(env)); never staged, by any name or link. */
  tokenFiles?: readonly string[];
}

/** `SOURCE=DEST` on the command line; a path that exists as written is never split. */
export async function parseInputArgument(argument: string, cwd = process.cwd()): Promise<PackageInput> {
  const at = argument.indexOf('=');
  if (at > 0 && !(await exists(resolve(cwd, argument)))) {
    return { source: argument.slice(0, at), dest: argument.slice(at + 1) };
  }
  return { source: argument };
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Byte order of UTF-8: the same on every machine and locale (JavaScript's default sort compares UTF-16 units). */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function modeOf(stats: Stats): number {
  return stats.mode & 0o100 ? EXEC_MODE : FILE_MODE;
}

export async function stageInputs(inputs: PackageInput[], options: StageOptions = {}): Promise<StagePlan> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  // A token file is known by its device and inode too, so a hard link to it (another name, the same bytes) is refused.
  const tokenFiles = new Set<string>();
  const tokenInodes = new Set<string>();
  for (const path of options.tokenFiles ?? tokenFilePaths(env)) {
    tokenFiles.add(await realpath(path).catch(() => path));
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile()) tokenInodes.add(`${info.dev}:${info.ino}`);
  }

  if (inputs.length === 0) {
    throw new UsageError('PACKAGE_NO_INPUT', 'No input files or directories were given.', {
      hint: 'Name the derivative\'s files or directories: llama package ./out/model-Q4_K_M.gguf',
    });
  }

  const files: StagedFile[] = [];
  const merged: StagedFile[] = [];
  const notes: string[] = [];
  const excluded = new Set<string>();
  for (const path of options.exclude ?? []) {
    excluded.add(resolve(path));
    excluded.add(await realpath(path).catch(() => resolve(path)));
  }

  const addFile = async (path: string, source: string, stats: Stats, explicit: boolean, shownAs: string): Promise<void> => {
    if (tokenFiles.has(source) || tokenInodes.has(`${stats.dev}:${stats.ino}`)) {
      throw new UsageError('PACKAGE_SECRET_FILE', `${shownAs} is the Hugging Face token file${tokenFiles.has(source) ? '' : ' (a hard link to it)'}; it is never packaged.`, {
        hint: 'Remove it from the inputs. The token stays on this machine.',
        details: { file: shownAs },
      });
    }
    if (options.isMerged?.(path)) {
      merged.push({ path, source, size: stats.size, mode: modeOf(stats), explicit, shown: shownAs });
      return;
    }
    if (options.isGenerated?.(path)) {
      notes.push(`${shownAs} is left out: the package generates its own ${path}.`);
      return;
    }
    const reason = explicit ? undefined : secretReason(basename(path));
    if (reason) {
      throw new UsageError('PACKAGE_SECRET_FILE', `Refusing to package ${shownAs}: ${reason}.`, {
        hint: `Remove it from the input directory, or, if it really belongs in the package, name the file itself as an INPUT (for example ${shownAs}=${path}).`,
        details: { file: shownAs, path },
      });
    }
    files.push({ path, source, size: stats.size, mode: modeOf(stats), explicit, shown: shownAs });
  };

  const walk = async (root: string, dir: string, destPrefix: string, chain: Set<string>, shownRoot: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      throw new UsageError('PACKAGE_INPUT_UNREADABLE', `Cannot read the directory ${dir}: ${(error as Error).message}`, {
        hint: 'Check that the directory exists and is readable.',
        details: { path: dir },
        cause: error,
      });
    }
    entries.sort((a, b) => compareBytes(a.name, b.name));
    for (const entry of entries) {
      const full = join(dir, entry.name);
      const rel = relative(root, full).split(sep).join('/');
      const shown = `${shownRoot}/${rel}`;
      const path = checkPackagePath(destPrefix ? `${destPrefix}/${rel}` : rel, `path of ${shown}`);
      let target = full;
      let stats: Stats;
      if (entry.isSymbolicLink()) {
        try {
          target = await realpath(full);
        } catch {
          throw new UsageError('PACKAGE_SYMLINK_BROKEN', `${shown} is a symbolic link to something that does not exist.`, {
            hint: 'Remove the link or make it point to a file inside the input directory.',
            details: { path: shown },
          });
        }
        if (!isInside(root, target)) {
          throw new UsageError('PACKAGE_SYMLINK_ESCAPES', `${shown} is a symbolic link to ${target}, outside the input directory ${shownRoot}.`, {
            hint: 'Copy the file into the directory, or name the target itself as an INPUT (SOURCE=DEST places it in the package).',
            details: { path: shown, target },
          });
        }
        stats = await stat(target);
      } else {
        stats = await lstat(full);
      }
      if (stats.isDirectory()) {
        if (excluded.has(full) || excluded.has(target)) {
          notes.push(`${shown}/ is left out (it is the output directory).`);
          continue;
        }
        if (SKIPPED_DIRECTORIES.has(entry.name)) {
          notes.push(`${shown}/ is left out (version-control metadata).`);
          continue;
        }
        const secret = secretReason(entry.name, true);
        if (secret) {
          throw new UsageError('PACKAGE_SECRET_FILE', `Refusing to package ${shown}: ${secret}.`, {
            hint: 'Remove it from the input directory.',
            details: { path: shown },
          });
        }
        if (chain.has(target)) {
          throw new UsageError('PACKAGE_SYMLINK_LOOP', `${shown} is a symbolic link back into one of its own parent directories.`, {
            hint: 'Remove the link.',
            details: { path: shown },
          });
        }
        await walk(root, full, destPrefix, new Set([...chain, target]), shownRoot);
      } else if (stats.isFile()) {
        await addFile(path, target, stats, false, shown);
      } else {
        throw new UsageError('PACKAGE_UNSUPPORTED_FILE', `${shown} is not a regular file or directory (a socket, FIFO or device).`, {
          hint: 'Remove it from the input directory.',
          details: { path: shown },
        });
      }
    }
  };

  for (const input of inputs) {
    const absolute = resolve(cwd, input.source);
    let real: string;
    let stats: Stats;
    try {
      real = await realpath(absolute);
      stats = await stat(real);
    } catch {
      throw new UsageError('PACKAGE_INPUT_NOT_FOUND', `The input ${input.source} does not exist.`, {
        hint: 'Check the path (relative paths are taken from the current directory).',
        details: { path: input.source },
      });
    }
    const dest = input.dest === undefined ? undefined : checkPackagePath(input.dest);
    if (stats.isDirectory()) {
      // `real` is the root every symlink inside must stay within, even when the argument itself was a link.
      await walk(real, real, dest ?? '', new Set([real]), input.source.replace(/\/+$/, ''));
    } else if (stats.isFile()) {
      await addFile(dest ?? checkPackagePath(basename(absolute)), real, stats, true, input.source);
    } else {
      throw new UsageError('PACKAGE_UNSUPPORTED_FILE', `${input.source} is not a regular file or directory.`, {
        hint: 'Name files or directories.',
        details: { path: input.source },
      });
    }
  }

  files.sort((a, b) => compareBytes(a.path, b.path));
  const directories = new Set<string>();
  const seen = new Map<string, StagedFile>();
  for (const file of files) {
    // Case-insensitive file systems (macOS, Windows) would let one extracted file overwrite the other.
    const key = file.path.toLowerCase();
    const other = seen.get(key);
    if (other) {
      throw new UsageError('PACKAGE_PATH_CONFLICT', `Two inputs land on the same package path: ${other.source} and ${file.source} (${file.path}).`, {
        hint: 'Rename one of them, or place it elsewhere with SOURCE=DEST.',
        details: { path: file.path, sources: [other.source, file.source] },
      });
    }
    seen.set(key, file);
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) directories.add(parts.slice(0, i).join('/'));
  }
  for (const dir of directories) {
    const clash = seen.get(dir.toLowerCase());
    if (clash) {
      throw new UsageError('PACKAGE_PATH_CONFLICT', `${clash.path} is both a file and a directory in the package.`, {
        hint: 'Place one of the inputs elsewhere with SOURCE=DEST.',
        details: { path: clash.path },
      });
    }
  }
  return { files, directories: [...directories].sort(compareBytes), notes, merged };
}
