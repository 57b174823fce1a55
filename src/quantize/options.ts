/**
 * What `llama quantize` runs with: its flags over the configuration's `quantize` section (flags win), so that a
 * program importing llama-dist gets the CLI's defaults and refusals.
 */
import type { LlamaConfig } from '../config/schema.ts';
import { UsageError } from '../errors.ts';
import type { QuantDeviceMode } from '../quant/gpu/modes.ts';
import { FTYPE_NAMES } from '../quant/types.ts';
import type { QuantizeOptions } from './quantize.ts';

/** The flags of `llama quantize`, as parsed (absent ones undefined). */
export interface QuantizeFlags {
  input: string;
  type?: string | undefined;
  out?: string | undefined;
  device?: string | undefined;
  threads?: number | undefined;
  pure?: boolean | undefined;
  cacheDir?: string | undefined;
}

/** The options for quantize(): flags, else the configuration's `quantize` section, else the defaults; no type at all is exit 2. */
export function resolveQuantizeOptions(
  flags: QuantizeFlags,
  settings: LlamaConfig['quantize'] = {},
  context: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): QuantizeOptions {
  const type = flags.type ?? settings.type;
  if (type === undefined) {
    throw new UsageError('QUANTIZE_NO_TYPE', 'no output type: pass --type or set quantize.type in the configuration', {
      hint: `Choose one of ${FTYPE_NAMES.join(', ')}.`,
    });
  }
  const threads = flags.threads ?? settings.threads;
  const options: QuantizeOptions = {
    input: flags.input,
    type,
    device: (flags.device ?? settings.device ?? 'auto') as QuantDeviceMode,
    pure: flags.pure === true,
  };
  if (flags.out !== undefined) options.out = flags.out;
  if (threads !== undefined) options.threads = threads;
  if (flags.cacheDir !== undefined) options.cacheDir = flags.cacheDir;
  if (context.cwd !== undefined) options.cwd = context.cwd;
  if (context.env !== undefined) options.env = context.env;
  return options;
}
