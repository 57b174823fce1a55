/**
 * The configuration schema (cosmiconfig name `llama`). This is the interface users write in `.llamarc*`,
 * `llama.config.*` or `package.json#llama`: extend it, never rename keys. Objects are strict, so a misspelt key is
 * an error that names it rather than a setting silently ignored.
 *
 * The derivative / licensee / intendedUses / docs / waivers part follows the license-engine issue; `pull`,
 * `quantize` and `package` hold defaults for those commands' flags.
 */
import semver from 'semver';
import { z } from 'zod';
import { QUANT_DEVICE_MODES } from '../quant/gpu/modes.ts';
import { FTYPE_NAMES } from '../quant/types.ts';
import { nearest } from '../util/nearest.ts';

const yearMonth = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a calendar month written YYYY-MM');
const userCount = z.number().int().nonnegative();

/** A file or folder name: checked when loaded (not only when a command uses it), existence is the command's affair. */
const pathString = z
  .string()
  .min(1, 'a path (an empty string names no file)')
  .refine((p) => !p.includes('\0'), 'a path without NUL characters');

/** A llama-quantize type name (case-insensitive, as --type). */
const quantType = z.string().superRefine((value, ctx) => {
  if (FTYPE_NAMES.some((name) => name === value.trim().toUpperCase())) return;
  const near = nearest(value.trim().toUpperCase(), FTYPE_NAMES);
  ctx.addIssue({ code: 'custom', message: `a quantization type${near ? ` (did you mean ${near}?)` : ''}: one of ${FTYPE_NAMES.join(', ')}` });
});

const semverString = z.string().refine((v) => semver.valid(v) !== null, 'a semantic version such as 1.0.0 (https://semver.org)');

export const relationSchema = z.enum(['quantized', 'finetune', 'adapter', 'merge', 'distillation']);
export const distributionSchema = z.enum(['weights', 'service', 'both']);

export const derivativeSchema = z.strictObject({
  /** The name under which the derivative is distributed. */
  name: z.string().min(1).optional(),
  /** semver */
  version: semverString.optional(),
  /** Direct bases: hub repo ids or local checkpoint directories (absolute, or relative to the config file). */
  baseModels: z.array(pathString).default([]),
  relation: relationSchema.optional(),
  /** Models whose outputs were used to create or train this one. */
  trainedOnOutputsOf: z.array(z.string().min(1)).default([]),
  /** Default: taken from the base's config / card. */
  multimodal: z.boolean().optional(),
  distribution: distributionSchema.default('weights'),
  /** The user's own attribution lines, appended to NOTICE after the upstream sentences. */
  attribution: z.string().optional(),
});

export const licenseeSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** Products and services of the licensee AND its affiliates: one figure, or one per calendar month. */
  monthlyActiveUsers: z.union([userCount, z.record(yearMonth, userCount)]).optional(),
  /** An individual domiciled in, or a company with its principal place of business in, the EU. */
  euEstablished: z.boolean().optional(),
  commercial: z.boolean().optional(),
});

export const waiverSchema = z.strictObject({
  finding: z.string().min(1),
  reason: z.string().min(1),
});

export const pullSchema = z.strictObject({
  endpoint: z.url().optional(),
  cacheDir: pathString.optional(),
  concurrency: z.number().int().min(1).max(64).optional(),
  lock: pathString.optional(),
});

export const quantizeSchema = z.strictObject({
  type: quantType.optional(),
  device: z.enum(QUANT_DEVICE_MODES).optional(),
  threads: z.number().int().min(1).optional(),
});

export const packageSchema = z.strictObject({
  out: pathString.optional(),
  format: z.enum(['tar', 'dir']).optional(),
});

export const configSchema = z.strictObject({
  derivative: derivativeSchema.optional(),
  licensee: licenseeSchema.optional(),
  intendedUses: z.array(z.string().min(1)).default([]),
  /** Product documentation checked for the "Built with …" line. */
  docs: pathString.optional(),
  waivers: z.array(waiverSchema).default([]),
  pull: pullSchema.optional(),
  quantize: quantizeSchema.optional(),
  package: packageSchema.optional(),
});

export type LlamaConfig = z.infer<typeof configSchema>;
export type DerivativeConfig = z.infer<typeof derivativeSchema>;
export type LicenseeConfig = z.infer<typeof licenseeSchema>;
export type Waiver = z.infer<typeof waiverSchema>;
