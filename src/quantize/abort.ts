import { AbortError, isAbortError } from '../errors.ts';

/**
 * What a quantize run throws when its signal aborts: the signal's reason when that is already an abort error (the
 * CLI's base command aborts with one), else an error named AbortError, the name every caller tests for.
 */
function interrupted(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && isAbortError(reason)) return reason;
  return new AbortError('quantization stopped; nothing was written');
}

/** Throws interrupted(signal) when the signal has aborted. */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw interrupted(signal);
}
