/**
 * DEBUG=* must not print a token. oclif logs argv (with `--token VALUE`) through the `debug` module before any
 * command runs, so the bin scripts call `redactDebugOutput()` first: the secret flag values in argv and the tokens
 * the environment knows are registered with the redactor, and every `debug` line passes through redactSecrets.
 */
import { createRequire } from 'node:module';
import { formatWithOptions, type InspectOptions } from 'node:util';
import { knownTokens } from '../hub/token.ts';
import { redactSecrets, registerSecret } from '../redact.ts';

/** Flags whose value is a secret. */
export const SECRET_FLAGS: readonly string[] = ['--token'];
/** Flags whose value is a URL whose query string is a secret (Meta's presigned link: pull meta:… --url). */
export const SECRET_QUERY_FLAGS: readonly string[] = ['--url'];

/** The query strings of the values given to SECRET_QUERY_FLAGS. */
export function secretQueryValues(argv: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') break;
    for (const flag of SECRET_QUERY_FLAGS) {
      const value = arg === flag ? argv[i + 1] : arg.startsWith(`${flag}=`) ? arg.slice(flag.length + 1) : undefined;
      const q = value?.indexOf('?') ?? -1;
      if (value !== undefined && q >= 0) values.push(value.slice(q + 1), ...value.slice(q + 1).split('&').map((p) => p.slice(p.indexOf('=') + 1)));
    }
  }
  return values.filter((v) => v.length > 0);
}

/** The values given to secret flags, as `--token VALUE` or `--token=VALUE`. */
export function secretFlagValues(argv: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') break;
    for (const flag of SECRET_FLAGS) {
      if (arg === flag && i + 1 < argv.length) values.push(argv[i + 1] ?? '');
      else if (arg.startsWith(`${flag}=`)) values.push(arg.slice(flag.length + 1));
    }
  }
  return values.filter((v) => v.length > 0);
}

interface DebugModule {
  log: (...args: unknown[]) => unknown;
  inspectOpts?: InspectOptions;
}

/** The `debug` instance oclif logs through (resolved from @oclif/core, so it is the same copy). */
function oclifDebugModule(): DebugModule {
  const here = createRequire(import.meta.url);
  return createRequire(here.resolve('@oclif/core'))('debug') as DebugModule;
}

let installed = false;

export function redactDebugOutput(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): void {
  const flagValues = secretFlagValues(argv);
  for (const value of flagValues) registerSecret(value);
  for (const value of secretQueryValues(argv)) registerSecret(value);
  knownTokens(flagValues[0], env); // registers HF_TOKEN and the token files' tokens too
  if (installed) return;
  installed = true;
  const debug = oclifDebugModule();
  // As debug's own node log (util.formatWithOptions with its inspect options, one line on stderr), redacted.
  debug.log = (...args: unknown[]): boolean => process.stderr.write(`${redactSecrets(formatWithOptions(debug.inspectOpts ?? {}, ...args))}\n`);
}
