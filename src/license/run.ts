/**
 * One call for what `llama license check` / `notice` and `llama package` share: read the configured docs, resolve
 * the lineage, run the checks.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { LlamaConfig } from '../config/schema.ts';
import { UsageError } from '../errors.ts';
import type { ProgressSink } from '../progress/events.ts';
import { checkDerivative, type LicenseReport } from './checks.ts';
import { resolveLineage, type Lineage, type ModelCardSource } from './lineage.ts';

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
