/**
 * One error family for the whole tool. Every failure a user can cause or meet is a LlamaError with a stable
 * code, a plain-words message, a hint that says what to do, and an exit class that maps to the exit-code table
 * in ARCHITECTURE.md (and the README). Library callers switch on `code`; the CLI prints message and hint.
 */
import { redactSecrets } from './redact.ts';

export const EXIT_CODES = {
  success: 0,
  unexpected: 1,
  usage: 2,
  compliance: 3,
  integrity: 4,
  access: 5,
  network: 6,
  environment: 7,
} as const;

export type ExitClass = Exclude<keyof typeof EXIT_CODES, 'success'>;

export interface LlamaErrorOptions {
  hint?: string;
  /** Structured facts for --json and for programs (file names, expected/actual hashes, …). Never secrets. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export interface ErrorJson {
  code: string;
  message: string;
  hint: string;
  exitCode: number;
  details?: Record<string, unknown>;
}

export class LlamaError extends Error {
  readonly code: string;
  readonly hint: string;
  readonly exitClass: ExitClass;
  readonly details: Record<string, unknown> | undefined;

  constructor(exitClass: ExitClass, code: string, message: string, options: LlamaErrorOptions = {}) {
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LlamaError';
    this.exitClass = exitClass;
    this.code = code;
    this.hint = redactSecrets(options.hint ?? '');
    this.details = options.details;
  }

  get exitCode(): number {
    return EXIT_CODES[this.exitClass];
  }

  toJSON(): ErrorJson {
    const json: ErrorJson = { code: this.code, message: this.message, hint: this.hint, exitCode: this.exitCode };
    if (this.details !== undefined) json.details = this.details;
    return json;
  }
}

/** Bad flags, arguments or configuration; unknown repo, revision or path; unsupported input. Exit 2. */
export class UsageError extends LlamaError {
  constructor(code: string, message: string, options?: LlamaErrorOptions) {
    super('usage', code, message, options);
    this.name = 'UsageError';
  }
}

/** A license finding blocks the operation. Exit 3. */
export class ComplianceError extends LlamaError {
  constructor(code: string, message: string, options?: LlamaErrorOptions) {
    super('compliance', code, message, options);
    this.name = 'ComplianceError';
  }
}

/** Hash mismatch, truncated or corrupt file. Exit 4. */
export class IntegrityError extends LlamaError {
  constructor(code: string, message: string, options?: LlamaErrorOptions) {
    super('integrity', code, message, options);
    this.name = 'IntegrityError';
  }
}

/** Authentication failed, or a gated repo whose terms were not accepted. Exit 5. */
export class AccessError extends LlamaError {
  constructor(code: string, message: string, options?: LlamaErrorOptions) {
    super('access', code, message, options);
    this.name = 'AccessError';
  }
}

/** Network or hub unavailable after retries. Exit 6. */
export class NetworkError extends LlamaError {
  constructor(code: string, message: string, options?: LlamaErrorOptions) {
    super('network', code, message, options);
    this.name = 'NetworkError';
  }
}

/** Something about the machine: no GPU when one was required, disk full, missing system library. Exit 7. */
export class EnvironmentError extends LlamaError {
  constructor(code: string, message: string, options?: LlamaErrorOptions) {
    super('environment', code, message, options);
    this.name = 'EnvironmentError';
  }
}

/** Anything that is not a LlamaError is a bug or an unforeseen failure: exit 1, with its own message. */
export function toLlamaError(error: unknown): LlamaError {
  if (error instanceof LlamaError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new LlamaError('unexpected', 'UNEXPECTED', message || 'unexpected failure', {
    hint: 'This is a bug or an unforeseen condition. Run again with DEBUG=llama* for the stack trace and report it.',
    cause: error,
  });
}

export function isLlamaError(error: unknown): error is LlamaError {
  return error instanceof LlamaError;
}

/**
 * Exit code of a command stopped by SIGINT or SIGTERM (128 + SIGINT's number, what shells report for Ctrl-C).
 * Not an ExitClass: an interruption is not a failure of the input or the machine.
 */
export const INTERRUPTED_EXIT_CODE = 130;

/**
 * What a library operation throws when its `signal` aborts (the name is the one fetch and node:stream use). The
 * message says what the operation left behind, e.g. "quantization stopped; nothing was written".
 */
export class AbortError extends Error {
  constructor(message = 'The operation was aborted', options: { cause?: unknown } = {}) {
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AbortError';
  }
}

/** An abort from any source: our AbortError, fetch's DOMException, node's `ABORT_ERR`. */
export function isAbortError(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown } | null | undefined;
  return e?.name === 'AbortError' || e?.code === 'ABORT_ERR';
}
