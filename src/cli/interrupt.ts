/**
 * Ctrl-C and SIGTERM for every command, owned by the base command: the first signal aborts the command's
 * AbortSignal (library operations stop and clean up, then throw an AbortError); a second signal, or a command that
 * has not stopped `graceMs` after the first, ends the process at once. Every way out exits 130 with one line.
 */
import { AbortError, INTERRUPTED_EXIT_CODE } from '../errors.ts';

export type InterruptSignal = 'SIGINT' | 'SIGTERM';
const SIGNALS: readonly InterruptSignal[] = ['SIGINT', 'SIGTERM'];

/** Long enough for a command to remove its temporary files, short enough that Ctrl-C feels like it works. */
export const DEFAULT_GRACE_MS = 5000;

export interface SignalSource {
  on(signal: InterruptSignal, listener: () => void): unknown;
  off(signal: InterruptSignal, listener: () => void): unknown;
}

export interface InterruptOptions {
  /** Where signals come from (default: the process). */
  source?: SignalSource;
  /** How the process is ended when the command does not stop by itself (default: process.exit). */
  exit?: (code: number) => void;
  /** Where the one line goes (default: stderr). */
  write?: (line: string) => void;
  graceMs?: number;
}

export class InterruptHandler {
  readonly #controller = new AbortController();
  readonly #source: SignalSource;
  readonly #exit: (code: number) => void;
  readonly #write: (line: string) => void;
  readonly #graceMs: number;
  readonly #listeners = new Map<InterruptSignal, () => void>();
  #received: InterruptSignal | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: InterruptOptions = {}) {
    this.#source = options.source ?? process;
    this.#exit = options.exit ?? ((code) => process.exit(code));
    this.#write = options.write ?? ((line) => void process.stderr.write(`${line}\n`));
    this.#graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  }

  /** Aborted on the first SIGINT/SIGTERM; its reason is an AbortError "Interrupted by SIGINT". */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The signal that arrived first, if any. */
  get received(): InterruptSignal | undefined {
    return this.#received;
  }

  install(): void {
    for (const name of SIGNALS) {
      const listener = (): void => this.#onSignal(name);
      this.#listeners.set(name, listener);
      this.#source.on(name, listener);
    }
  }

  /** The command is over (finished or unwound): stop listening and cancel the forced exit. */
  uninstall(): void {
    for (const [name, listener] of this.#listeners) this.#source.off(name, listener);
    this.#listeners.clear();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #onSignal(name: InterruptSignal): void {
    if (this.#received !== undefined) {
      this.#write(`Interrupted by ${name} again: exiting at once; files being written may be left under temporary names.`);
      this.#exit(INTERRUPTED_EXIT_CODE);
      return;
    }
    this.#received = name;
    this.#controller.abort(new AbortError(`Interrupted by ${name}`));
    // unref: a command that does finish in time exits normally, without waiting for this timer.
    this.#timer = setTimeout(() => {
      this.#write(`Interrupted by ${name}: the command did not stop within ${this.#graceMs / 1000} s and was ended; files being written may be left under temporary names.`);
      this.#exit(INTERRUPTED_EXIT_CODE);
    }, this.#graceMs);
    this.#timer.unref();
  }
}

/** Messages that say only "aborted": the line then says the command stopped, not what the library left. */
const GENERIC_ABORT = /^(?:the|this) operation was aborted\.?$|^interrupted by sig(?:int|term)$|^aborted$/i;

/**
 * The one line for an interrupted command: "Interrupted by SIGINT: <what the operation says it left>", or that it
 * stopped before finishing when the error says nothing more than "aborted".
 */
export function interruptedLine(signal: InterruptSignal | undefined, error: unknown): string {
  const message = error instanceof Error ? error.message.trim() : '';
  const what = message && !GENERIC_ABORT.test(message) ? message : 'stopped before it finished';
  return `Interrupted${signal ? ` by ${signal}` : ''}: ${what}`;
}
