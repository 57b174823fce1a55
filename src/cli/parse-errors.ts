/**
 * oclif's parse errors are several lines written for its own printer (a list of missing arguments, a tab-indented
 * reason under "Parsing --threads", "See more help with --help"); the CLI prints one message and one hint. These
 * turn them into one whole line: nothing of what was missing, refused or expected is dropped.
 */
import { stripVTControlCharacters } from 'node:util';

interface MissingArg {
  name?: string;
  description?: string;
  options?: readonly string[];
}

const SEE_HELP = /^See more help with --help$/;
const HEADER = /^The following errors? occurred:$/;

/** "Missing the required argument INPUT — Checkpoint directory, …" from a RequiredArgsError's `args`. */
function missingArgs(args: readonly MissingArg[]): string {
  const named = args.map((a) => {
    const name = (a.name ?? 'argument').toUpperCase();
    const what = [a.options ? `one of ${a.options.join(', ')}` : '', a.description ?? ''].filter(Boolean).join(': ');
    return what ? `${name} — ${what.replace(/\.$/, '')}` : name;
  });
  return named.length === 1 ? `Missing the required argument ${named[0]}` : `Missing ${named.length} required arguments: ${named.join('; ')}`;
}

export interface ParseErrorText {
  message: string;
  /** Advice oclif adds (flags with several values must follow the arguments), for the hint. */
  note?: string;
}

/** One line with everything oclif said about the failed parse. */
export function parseErrorMessage(error: Error & { args?: unknown }): ParseErrorText {
  if (error.constructor?.name === 'RequiredArgsError' && Array.isArray(error.args) && error.args.length > 0) {
    const note = /Note: (.*)$/s.exec(stripVTControlCharacters(error.message))?.[1];
    const message = missingArgs(error.args as MissingArg[]);
    return note ? { message, note: note.replace(/\nSee more help with --help$/, '').replace(/\s*\n\s*/g, ' ').trim() } : { message };
  }
  const lines = stripVTControlCharacters(error.message)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !SEE_HELP.test(l) && !HEADER.test(l));
  const [first = error.message, ...rest] = lines;
  const parsing = /^Parsing (--?\S+)$/.exec(first);
  if (parsing) {
    const reason = rest.join('; ');
    return { message: `Invalid value for ${parsing[1]}${reason ? `: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}` : ''}` };
  }
  return { message: [first, ...rest].join('; ').replace(/:;/g, ':') };
}
