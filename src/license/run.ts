/**
 * One call for what `llama license check` / `notice` and `llama package` share: read the configured docs, resolve
 * the lineage, run the checks. And one call per license command (checkLicenses, licenseNotice): the command parses
 * its flags, calls it and renders; hub access, option checks and the exit class are decided here.
 */
import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load.ts';
import type { LlamaConfig } from '../config/schema.ts';
import { ComplianceError, UsageError } from '../errors.ts';
import type { ProgressSink } from '../progress/events.ts';
import { checkDerivative, type LicenseReport } from './checks.ts';
import { hubAccess, type HubFlagValues } from './hub-access.ts';
import { resolveLineage, walkLineage, type Lineage, type ModelCardSource } from './lineage.ts';
import { lineageLicenses, noticeLines, renderNotice, type NoticeLine } from './notice.ts';
import type { SarifOptions } from './report.ts';

/** The product documentation named by `docs` (relative to the config file's directory). */
export async function readDocs(docs: string | undefined, baseDir: string): Promise<{ path: string; text: string } | undefined> {
  if (docs === undefined) return undefined;
  const path = resolve(baseDir, docs);
  try {
    return { path: docs, text: await readFile(path, 'utf8') };
  } catch (error) {
    throw new UsageError('LICENSE_DOCS_NOT_FOUND', `The product documentation ${path} (docs) cannot be read: ${(error as Error).message}.`, {
      hint: 'Fix the docs path in the configuration (relative to the configuration file), or remove the key.',
      details: { file: path },
      cause: error,
    });
  }
}

export interface LicenseCheckOptions {
  config: LlamaConfig;
  /** Where relative paths of the configuration are resolved (LoadedConfig.baseDir). */
  baseDir: string;
  /** The derivative checkpoint directory (its LICENSE files are checked; its card's base_model is the fallback). */
  dir?: string;
  offline?: boolean;
  hub?: ModelCardSource;
  cacheDir?: string;
  now?: Date;
  /** `dir` is what will be shipped: require the agreement copies and the NOTICE sentences in it. */
  requireFiles?: boolean;
  onProgress?: ProgressSink;
}

export interface LicenseCheckResult {
  lineage: Lineage;
  report: LicenseReport;
}

export async function runLicenseCheck(options: LicenseCheckOptions): Promise<LicenseCheckResult> {
  const { config, baseDir } = options;
  const docs = await readDocs(config.docs, baseDir);
  const lineage = await resolveLineage({
    baseModels: config.derivative?.baseModels ?? [],
    trainedOnOutputsOf: config.derivative?.trainedOnOutputsOf ?? [],
    baseDir,
    ...(options.dir !== undefined ? { derivativeDir: options.dir } : {}),
    ...(options.offline !== undefined ? { offline: options.offline } : {}),
    ...(options.hub !== undefined ? { hub: options.hub } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
  });
  const report = checkDerivative(config, lineage, {
    ...(docs ? { docs } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.requireFiles ? { requireFiles: true } : {}),
  });
  return { lineage, report };
}

export interface LicenseCommandOptions {
  loaded: LoadedConfig;
  /** The derivative checkpoint directory as given (relative to `cwd`). */
  dir?: string | undefined;
  hub: HubFlagValues;
  /** Where `dir` is resolved and report paths are made relative to; default process.cwd(). */
  cwd?: string;
  onProgress: ProgressSink;
}

export interface CheckLicensesResult extends LicenseCheckResult {
  /** Where SARIF locations point (paths relative to `cwd`, the configuration file as the default artifact). */
  sarif: SarifOptions;
  /** Set when a blocking finding is not waived: the error to exit with (3) once the report is rendered. */
  failure?: ComplianceError;
}

/** `llama license check [DIR]`: the report, and the compliance error to exit with when it blocks. */
export async function checkLicenses(options: LicenseCommandOptions & { requireFiles?: boolean }): Promise<CheckLicensesResult> {
  if (options.requireFiles === true && options.dir === undefined) {
    throw new UsageError('LICENSE_DIR_REQUIRED', '--require-files needs the directory to check.', {
      hint: 'Give the directory that will be shipped: llama license check DIR --require-files.',
    });
  }
  const cwd = options.cwd ?? process.cwd();
  const { loaded } = options;
  const access = await hubAccess(options.hub, options.onProgress);
  const result = await runLicenseCheck({
    config: loaded.config,
    baseDir: loaded.baseDir,
    ...(options.dir !== undefined ? { dir: resolve(cwd, options.dir) } : {}),
    offline: access.offline,
    ...(access.hub ? { hub: access.hub } : {}),
    cacheDir: access.cacheDir,
    requireFiles: options.requireFiles === true,
    onProgress: options.onProgress,
  });
  const artifactUri = loaded.filepath ? relative(cwd, loaded.filepath).split('\\').join('/') : undefined;
  const sarif: SarifOptions = { baseDir: cwd, ...(artifactUri ? { artifactUri } : {}) };
  const { report } = result;
  if (!report.blocking) return { ...result, sarif };
  const ids = [...new Set(report.findings.filter((f) => f.severity === 'blocking' && !f.waived).map((f) => f.id))];
  const failure = new ComplianceError('LICENSE_BLOCKING', `${report.counts.blocking} blocking license finding${report.counts.blocking === 1 ? '' : 's'} (${ids.join(', ')}).`, {
    hint: 'Fix each blocking finding as its "fix" line says, or add a waiver with the reason to the configuration (waivers stay visible in the report).',
    details: { counts: report.counts, report },
  });
  return { ...result, sarif, failure };
}

export interface LicenseNoticeResult {
  notice: string;
  lines: NoticeLine[];
}

/** `llama license notice [DIR]`: the NOTICE text; a compliance error when an ancestor's license is unknown. */
export async function licenseNotice(options: LicenseCommandOptions): Promise<LicenseNoticeResult> {
  const cwd = options.cwd ?? process.cwd();
  const { config, baseDir } = options.loaded;
  const access = await hubAccess(options.hub, options.onProgress);
  const lineage = await resolveLineage({
    baseModels: config.derivative?.baseModels ?? [],
    trainedOnOutputsOf: config.derivative?.trainedOnOutputsOf ?? [],
    baseDir,
    ...(options.dir !== undefined ? { derivativeDir: resolve(cwd, options.dir) } : {}),
    offline: access.offline,
    ...(access.hub ? { hub: access.hub } : {}),
    cacheDir: access.cacheDir,
    onProgress: options.onProgress,
  });
  const unknown = walkLineage(lineage).filter((n) => n.license === null);
  if (unknown.length > 0) {
    throw new ComplianceError('LICENSE_UNKNOWN', `The license of ${unknown.map((n) => n.ref).join(', ')} cannot be determined, so the NOTICE would be incomplete.`, {
      hint: 'Run `llama license check` for the reason and the fix for each ancestor.',
      details: { ancestors: unknown.map((n) => ({ ref: n.ref, problems: n.problems })) },
    });
  }
  const noticeOptions = { distribution: config.derivative?.distribution ?? 'weights', ...(config.derivative?.attribution !== undefined ? { attribution: config.derivative.attribution } : {}) } as const;
  return { notice: renderNotice(lineage, noticeOptions), lines: noticeLines(lineageLicenses(lineage), noticeOptions) };
}
