/** How a failure is shown, for the base command and for what runs before a command exists (hooks). */
import type { LlamaError } from '../errors.ts';

/** `{"error":{code,message,hint[,details]}}`: what --json prints on stdout for a failure. */
export function errorJson(error: LlamaError): { error: Record<string, unknown> } {
  return { error: { code: error.code, message: error.message, hint: error.hint, ...(error.details ? { details: error.details } : {}) } };
}

/** "Error: …" and "Hint: …" on stderr, or the JSON error on stdout. */
export function writeError(error: LlamaError, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(errorJson(error), null, 2)}\n`);
    return;
  }
  process.stderr.write(`Error: ${error.message}\n`);
  if (error.hint) process.stderr.write(`Hint: ${error.hint}\n`);
}
