/**
 * `llama package`: load config → resolve lineage and run the license checks → stop on a blocking finding that is not
 * waived (nothing written) → stage → emit → archive → manifest.
 *
 * Order of the archive: every directory and file sorted by the bytes of its path (directories as `dir/`, so each
 * comes before its contents), except the two files derived from the digests, `bom.cdx.json` and then
 * `manifest.json`, which close it: the digests are computed while the bytes are archived, in one read, so the files
 * that record them can only be written after. The order is fixed, so the archive is still reproducible.
 */
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { ComplianceError, UsageError } from '../errors.ts';
import { writeFileAtomic } from '../fs/atomic.ts';
import { knownTokens, tokenFilePaths } from '../hub/token.ts';
import { noProgress, type ProgressSink } from '../progress/events.ts';
import { DEFAULT_EPOCH_SECONDS, DirectorySink, TarSink, type EntryDigest, type PackageSink } from './archive.ts';
import { buildBom } from './bom.ts';
import { BOM, composeCard, generatedPathPredicate, licenseFiles, MANIFEST, NOTICE, README, type EmittedFile } from './emit.ts';
import { buildManifest, serializeManifest, type PackageManifest } from './manifest.ts';
import { compareBytes, parseInputArgument, stageInputs, type PackageInput, type StagePlan } from './stage.ts';
import { assertNoToken, tokenInFileError, TokenScanner } from './token-scan.ts';
import { engineLicensing } from './licensing.ts';
import type { Licensing, PackageFinding, Relation } from './types.ts';
import { checkName, chooseVersion, packageBase, sourceDateEpoch, type BumpKind, type VersionChoice } from './version.ts';

export type PackageFormat = 'tar' | 'dir';

/** Where packages go when neither --out nor package.out says. */
export const DEFAULT_OUT_DIR = 'packages';

export interface PackageOptions {
  /** What to package; a string is an INPUT argument as the command line gives it (`SOURCE=DEST` places it). */
  inputs: ReadonlyArray<PackageInput | string>;
  /** A loaded configuration; default: discovered from `cwd` (or `configFile`). */
  config?: LoadedConfig;
  configFile?: string;
  out?: string;
  name?: string;
  version?: string;
  bump?: BumpKind;
  format?: PackageFormat;
  offline?: boolean;
  /** Hub access for the lineage (as `llama license check` takes them): default HF_ENDPOINT / pull.endpoint, HF_TOKEN or the token file, the HF cache / pull.cacheDir. */
  endpoint?: string;
  token?: string;
  cacheDir?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: ProgressSink;
  /** Stops the run (an AbortError); what was written so far is removed. */
  signal?: AbortSignal;
  licensing?: Licensing;
}

export interface PackageResult {
  name: string;
  version: string;
  versionChoice: VersionChoice;
  format: PackageFormat;
  /** The archive (tar) or the package directory (dir). */
  path: string;
  /** tar only: the archive's sha256, its size, and the `.sha256` file beside it. */
  sha256?: string;
  size?: number;
  sha256File?: string;
  manifest: PackageManifest;
  findings: PackageFinding[];
  /** Inputs left out, in words. */
  notes: string[];
  /** The model card: the input it was made from (as the inputs name it), and each change made to it, in words. */
  card: { source?: string; changes: string[] };
}

let toolVersionCache: string | undefined;

/** llama-dist's own version, from the package.json above this file (sources and dist/ alike). */
export function toolVersion(): string {
  if (toolVersionCache !== undefined) return toolVersionCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'llama-dist' && typeof pkg.version === 'string') {
        toolVersionCache = pkg.version;
        return pkg.version;
      }
    } catch {
      // not here; keep walking up
    }
    dir = dirname(dir);
  }
  toolVersionCache = '0.0.0';
  return toolVersionCache;
}

/** Findings that stop packaging: blocking and not waived. */
function blockingFindings(findings: readonly PackageFinding[]): PackageFinding[] {
  return findings.filter((f) => f.severity === 'blocking' && !f.waived);
}

function complianceError(blocking: readonly PackageFinding[], outDir: string): ComplianceError {
  const first = blocking[0]!;
  const list = blocking.map((f) => `${f.id}: ${f.message}`).join('; ');
  return new ComplianceError('PACKAGE_BLOCKED', `Packaging stopped by ${blocking.length} blocking license finding${blocking.length === 1 ? '' : 's'}: ${list}`, {
    hint: `${(first.hint ?? 'Fix the finding.').replace(/\.?$/, '.')} Nothing was written to ${outDir}. A finding that does not apply can be waived, with a reason, in the configuration's waivers.`,
    details: { findings: blocking, outDir },
  });
}

/** A directory input whose config.json or README.md makes it the derivative's own checkpoint. */
async function derivativeDirectory(inputs: readonly PackageInput[], cwd: string): Promise<string | undefined> {
  for (const input of inputs) {
    if (input.dest !== undefined) continue;
    const dir = resolve(cwd, input.source);
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) continue;
    for (const marker of ['README.md', 'config.json']) {
      if (await stat(join(dir, marker)).then((s) => s.isFile(), () => false)) return dir;
    }
  }
  return undefined;
}

export async function packageDerivative(options: PackageOptions): Promise<PackageResult> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const onProgress = options.onProgress ?? noProgress;
  const loaded = options.config ?? (await loadConfig({ cwd, ...(options.configFile !== undefined ? { configFile: options.configFile } : {}) }));
  const { config } = loaded;
  const inputs = await Promise.all(options.inputs.map((input) => (typeof input === 'string' ? parseInputArgument(input, cwd) : input)));
  // Every token this environment knows, read once: no byte of the package may hold one.
  const scanner = new TokenScanner(knownTokens(options.token, env));

  const rawName = options.name ?? config.derivative?.name;
  if (rawName === undefined) {
    throw new UsageError('PACKAGE_NAME_REQUIRED', 'The package needs a name.', {
      hint: 'Give --name, or derivative.name in the configuration (the name the derivative is distributed under).',
    });
  }
  const name = checkName(rawName);
  const outDir = options.out !== undefined ? resolve(cwd, options.out) : config.package?.out !== undefined ? resolve(loaded.baseDir, config.package.out) : resolve(cwd, DEFAULT_OUT_DIR);
  const format: PackageFormat = options.format ?? config.package?.format ?? 'tar';
  const versionChoice = await chooseVersion({
    name,
    outDir,
    ...(options.version !== undefined ? { flag: options.version } : {}),
    ...(options.bump !== undefined ? { bump: options.bump } : {}),
    ...(config.derivative?.version !== undefined ? { configVersion: config.derivative.version } : {}),
  });
  const version = versionChoice.version;
  const epochSeconds = sourceDateEpoch(env, DEFAULT_EPOCH_SECONDS);
  const relation = config.derivative?.relation as Relation | undefined;

  // License checks first: a blocking finding stops everything before the output directory is touched.
  const derivativeDir = await derivativeDirectory(inputs, cwd);
  const plan = await (options.licensing ?? engineLicensing)({
    loaded,
    name,
    version,
    ...(derivativeDir !== undefined ? { derivativeDir } : {}),
    ...(options.offline !== undefined ? { offline: options.offline } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: resolve(cwd, options.cacheDir) } : {}),
    env,
    onProgress,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  const blocking = blockingFindings(plan.findings);
  if (blocking.length > 0) throw complianceError(blocking, outDir);

  const staged: StagePlan = await stageInputs(inputs, {
    cwd,
    env,
    tokenFiles: tokenFilePaths(env),
    isGenerated: generatedPathPredicate(plan.licenses),
    isMerged: (path) => path === README,
    exclude: [outDir],
  });

  const emitted: EmittedFile[] = [...licenseFiles(plan.licenses)];
  if (plan.notice) emitted.push({ path: NOTICE, data: Buffer.from(plan.notice, 'utf8'), role: 'notice' });
  // The user's model card, when an input has one at README.md: kept, with what the licenses require.
  const userCard = staged.merged.find((file) => file.path === README);
  for (const other of staged.merged.filter((file) => file !== userCard)) staged.notes.push(`${other.shown} is left out: the model card is ${userCard?.shown}.`);
  const card = composeCard(
    { name, version, ...(relation ? { relation } : {}), plan, files: staged.files },
    userCard ? { text: await readFile(userCard.source, 'utf8'), shown: userCard.shown } : undefined,
  );
  emitted.push({ path: README, data: Buffer.from(card.text, 'utf8'), role: 'card' });
  for (const note of staged.notes) onProgress({ type: 'message', level: 'warn', text: note });
  for (const file of emitted) {
    const where = file.role === 'card' && userCard ? `${file.path} (from ${userCard.shown})` : file.path;
    if (file.role === 'card' || file.role === 'notice') assertNoToken(scanner, file.data, where);
  }

  const base = packageBase(name, version);
  const target = format === 'tar' ? join(outDir, `${base}.tar`) : join(outDir, base);
  if (await stat(target).then(() => true, () => false)) {
    throw new UsageError('PACKAGE_EXISTS', `${target} already exists.`, {
      hint: 'Choose a higher version (--bump patch), or remove the existing package first.',
      details: { path: target },
    });
  }

  // Everything in one sorted list: directories as "dir/" so each precedes its contents.
  type Item = { key: string } & ({ kind: 'dir'; path: string } | { kind: 'staged'; file: StagePlan['files'][number] } | { kind: 'emitted'; file: EmittedFile });
  const items: Item[] = [
    ...staged.directories.map((path): Item => ({ key: `${path}/`, kind: 'dir', path })),
    ...staged.files.map((file): Item => ({ key: file.path, kind: 'staged', file })),
    ...emitted.map((file): Item => ({ key: file.path, kind: 'emitted', file })),
  ].sort((a, b) => compareBytes(a.key, b.key));

  const totalBytes = staged.files.reduce((sum, f) => sum + f.size, 0);
  const task = 'package';
  onProgress({ type: 'start', task, label: `${base}${format === 'tar' ? '.tar' : '/'}`, unit: 'bytes', total: totalBytes });

  const sink: PackageSink = format === 'tar' ? await TarSink.create(target, { root: base, epochSeconds }) : await DirectorySink.create(target, { epochSeconds });
  let manifest: PackageManifest;
  let committed;
  try {
    const digests: EntryDigest[] = [];
    let doneBefore = 0;
    // At most a few progress events a second, whatever the chunk size (NDJSON consumers get every one).
    let lastAdvance = 0;
    const advance = (done: number, force: boolean) => {
      const now = Date.now();
      if (!force && now - lastAdvance < 200) return;
      lastAdvance = now;
      onProgress({ type: 'advance', task, done, total: totalBytes });
    };
    await sink.addDirectory('');
    for (const item of items) {
      options.signal?.throwIfAborted();
      if (item.kind === 'dir') {
        await sink.addDirectory(item.path);
      } else if (item.kind === 'emitted') {
        digests.push(await sink.addBytes(item.file.path, item.file.data));
      } else {
        const file = item.file;
        const start = doneBefore;
        const scan = scanner.file();
        digests.push(await sink.addFile(file.path, file.source, {
          mode: file.mode,
          expectedSize: file.size,
          onBytes: (done) => advance(start + done, false),
          inspect: {
            chunk: (bytes) => {
              // Ctrl-C stops the copy between two chunks; the sink then removes what it wrote.
              options.signal?.throwIfAborted();
              const match = scan.feed(bytes);
              if (match) throw tokenInFileError(match, file.shown);
            },
            end: () => {
              const match = scan.end();
              if (match) throw tokenInFileError(match, file.shown);
            },
          },
        }));
        doneBefore += file.size;
        advance(doneBefore, true);
      }
    }
    const bom = `${JSON.stringify(buildBom({ name, version, ...(relation ? { relation } : {}), toolVersion: toolVersion(), epochSeconds, plan, files: digests }), null, 2)}\n`;
    assertNoToken(scanner, bom, BOM);
    digests.push(await sink.addBytes(BOM, Buffer.from(bom, 'utf8')));
    manifest = buildManifest({ name, version, ...(relation ? { relation } : {}), toolVersion: toolVersion(), epochSeconds, plan, waivers: config.waivers, digests, emitted });
    const manifestText = serializeManifest(manifest);
    assertNoToken(scanner, manifestText, MANIFEST);
    await sink.addBytes(MANIFEST, Buffer.from(manifestText, 'utf8'));
    committed = await sink.commit();
  } catch (error) {
    await sink.abort();
    onProgress({ type: 'end', task, ok: false });
    throw error;
  }
  onProgress({ type: 'end', task, ok: true });

  const result: PackageResult = {
    name,
    version,
    versionChoice,
    format,
    path: committed.path,
    manifest,
    findings: plan.findings,
    notes: staged.notes,
    card: { ...(userCard ? { source: userCard.shown } : {}), changes: card.changes },
  };
  if (committed.sha256 !== undefined) {
    const sha256File = `${committed.path}.sha256`;
    // sha256sum's format, so `sha256sum -c NAME.tar.sha256` checks the archive.
    await writeFileAtomic(sha256File, `${committed.sha256}  ${base}.tar\n`);
    result.sha256 = committed.sha256;
    if (committed.size !== undefined) result.size = committed.size;
    result.sha256File = sha256File;
  }
  return result;
}
