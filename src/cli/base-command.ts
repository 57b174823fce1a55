/**
 * The base of every `llama` command. It owns what all commands share, so each command stays a thin
 * parse → call the library → render:
 * - `--json`: the command's `run()` result is printed as JSON on stdout; a failure prints
 *   `{"error":{"code","message","hint"}}` on stdout instead, and the exit code still tells the class;
 * - `--config FILE` and the loaded configuration (`this.loadConfig()`);
 * - `--progress auto|tty|plain|ndjson|none` and a progress sink for library calls (`this.progress`), written to
 *   stderr;
 * - errors: every failure becomes a LlamaError; the message and hint go to stderr, the stack only with
 *   DEBUG=llama* (or DEBUG=*), and the process exits with the error's exit code (README, "Exit codes");
 * - SIGINT/SIGTERM: `this.abortSignal` (pass it to library operations as `signal`) aborts on the first signal; the
 *   AbortError that comes back prints one line and exits 130 (see interrupt.ts for the second signal and the
 *   command that does not stop).
 */
import { Command, Flags, Errors } from '@oclif/core';
import { EXIT_CODES, INTERRUPTED_EXIT_CODE, LlamaError, UsageError, isAbortError, toLlamaError } from '../errors.ts';
import { InterruptHandler, interruptedLine } from './interrupt.ts';
import { parseErrorMessage } from './parse-errors.ts';
import { errorJson } from './report.ts';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { chooseProgressMode, colorEnabled, createRenderer, type Renderer } from '../progress/render.ts';
import type { ProgressSink } from '../progress/events.ts';
import { redactSecrets } from '../redact.ts';

export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const debug = env.DEBUG ?? '';
  return debug.split(/[\s,]+/).some((part) => part === '*' || part === 'llama' || part.startsWith('llama'));
}

export abstract class LlamaCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    config: Flags.string({
      description: 'Configuration file to use instead of searching for .llamarc / llama.config.* / package.json#llama.',
      helpGroup: 'GLOBAL',
    }),
    progress: Flags.string({
      description: 'How to show progress on stderr: bars on a terminal, plain lines otherwise (auto), NDJSON events, or none.',
      options: ['auto', 'tty', 'plain', 'ndjson', 'none'],
      default: 'auto',
      helpGroup: 'GLOBAL',
    }),
  };

  private renderer: Renderer | undefined;
  private progressMode: string | undefined;
  private configFlag: string | undefined;
  private readonly interrupts = new InterruptHandler({ write: (line) => this.reportInterrupted(line) });

  override async init(): Promise<void> {
    await super.init();
    this.interrupts.install();
    process.on('exit', this.prematureExit);
  }

  /**
   * A `process.exit(0)` before the command finished (from a configuration module, say) must not leave a release step
   * green: the command did not complete, so the process exits 1 and says so.
   */
  private readonly prematureExit = (code: number): void => {
    if (code !== 0) return;
    process.stderr.write(`Error: ${this.id ?? 'the command'} ended before it completed (process.exit(0) was called during the run, e.g. by a JavaScript configuration).\n`);
    process.exitCode = 1;
  };

  /** Aborted on Ctrl-C / SIGTERM: hand it to every library operation (`signal: this.abortSignal`). */
  protected get abortSignal(): AbortSignal {
    return this.interrupts.signal;
  }

  /** Parse argv, remembering the global flags. Commands call this instead of `this.parse`. */
  protected async parseInput<T extends typeof LlamaCommand>(command: T) {
    const parsed = await this.parse(command);
    const flags = parsed.flags as { config?: string; progress?: string };
    this.configFlag = flags.config;
    this.progressMode = flags.progress;
    return parsed;
  }

  /** The configuration (--config, else discovery from the working directory). */
  protected async loadConfig(): Promise<LoadedConfig> {
    return loadConfig({ configFile: this.configFlag });
  }

  /** The progress sink to hand to library operations. */
  protected get progress(): ProgressSink {
    if (!this.renderer) {
      const isTTY = Boolean(process.stderr.isTTY);
      const mode = chooseProgressMode({ requested: this.progressMode, json: this.jsonEnabled(), isTTY, env: process.env });
      this.renderer = createRenderer({ mode, stream: process.stderr, color: colorEnabled(process.env, isTTY) });
    }
    return this.renderer.sink;
  }

  /** Human output: suppressed under --json, where the returned result is the output. */
  protected say(message = ''): void {
    if (!this.jsonEnabled()) this.log(redactSecrets(message));
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    process.off('exit', this.prematureExit);
    this.interrupts.uninstall();
    this.renderer?.close();
    return super.finally(error);
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    // this.exit() throws an ExitError to unwind: let oclif finish it.
    if (error instanceof Errors.ExitError) throw error;
    this.renderer?.close();
    // Once the signal fired, whatever the command threw on its way out is the interruption.
    if (this.interrupts.received !== undefined || isAbortError(error)) return this.exitInterrupted(error);
    // oclif's ids use ':' (license:check); users type spaces.
    const llamaError = fromOclif(error, [this.config.bin, ...(this.id ?? '').split(':')].filter(Boolean).join(' '));
    if (this.jsonEnabled()) {
      this.logJson(errorJson(llamaError));
    } else {
      process.stderr.write(`Error: ${llamaError.message}\n`);
      if (llamaError.hint) process.stderr.write(`Hint: ${llamaError.hint}\n`);
    }
    if (debugEnabled()) process.stderr.write(`${redactSecrets((error.stack ?? String(error)))}\n`);
    process.exitCode = llamaError.exitCode;
    return this.exit(llamaError.exitCode);
  }

  /** The one line of an interruption: on stderr, or as the JSON error under --json. */
  private reportInterrupted(text: string): void {
    const line = redactSecrets(text);
    if (this.jsonEnabled()) this.logJson({ error: { code: 'INTERRUPTED', message: line, hint: 'Run the command again to finish.' } });
    else process.stderr.write(`${line}\n`);
  }

  private exitInterrupted(error: Error): never {
    this.reportInterrupted(interruptedLine(this.interrupts.received, error));
    if (debugEnabled()) process.stderr.write(`${redactSecrets(error.stack ?? String(error))}\n`);
    process.exitCode = INTERRUPTED_EXIT_CODE;
    return this.exit(INTERRUPTED_EXIT_CODE);
  }
}

/** oclif's own parse errors (unknown flag, missing argument, bad option) are usage errors: exit 2, said whole. */
function fromOclif(error: Error & { oclif?: { exit?: number } }, helpCommand: string): LlamaError {
  if (error instanceof LlamaError) return error;
  const isParseError = error.constructor?.name?.endsWith('Error') && (error as { parse?: unknown }).parse !== undefined;
  if (isParseError || error instanceof Errors.CLIError && error.oclif?.exit === 2) {
    const { message, note } = parseErrorMessage(error);
    return new UsageError('USAGE', message, {
      hint: `Run \`${helpCommand} --help\` for its arguments and flags.${note ? ` ${note}` : ''}`,
      cause: error,
    });
  }
  if (error instanceof Errors.CLIError && typeof error.oclif?.exit === 'number' && error.oclif.exit !== EXIT_CODES.unexpected) {
    return new UsageError('USAGE', parseErrorMessage(error).message, { hint: `Run \`${helpCommand} --help\`.`, cause: error });
  }
  return toLlamaError(error);
}
