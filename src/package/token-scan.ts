/**
 * Finding Hugging Face tokens in the bytes a package will hold, during the one pass that copies and hashes them
 * (./pipeline.ts), so no file is read twice:
 * - every file is searched for the exact tokens this environment knows (src/hub/token.ts `knownTokens`: the flag,
 *   HF_TOKEN, the token files, stored_tokens), as UTF-8 and as UTF-16LE bytes;
 * - text files are also searched for anything shaped like a token (`TOKEN_SHAPE`). A file is text when its first
 *   8000 bytes hold no NUL byte (git's test for binary content, xdiff-interface.c `buffer_is_binary`), whatever its
 *   name: logs, nohup.out, notebooks and backups carry no telling extension.
 * Chunks are fed in file order; a token split across two chunks is found through the bytes carried over.
 */
import { UsageError } from '../errors.ts';
import { TOKEN_SHAPE } from '../hub/token.ts';

export type TokenMatch = 'known' | 'shape';

/** Bytes inspected for a NUL to call a file binary (git's FIRST_FEW_BYTES). */
const TEXT_PROBE_BYTES = 8000;

/**
 * A token-shaped string is looked for only where `hf_` occurs (one Buffer.indexOf per chunk in ordinary text), and
 * decided there by TOKEN_SHAPE itself on a window of the bytes around it. This relies on TOKEN_SHAPE starting with
 * a word boundary and `hf_`.
 */
const PREFIX = Buffer.from('hf_');
if (!TOKEN_SHAPE.source.startsWith('\\bhf_')) throw new Error('token-scan: TOKEN_SHAPE no longer starts with \\bhf_');
const SHAPE = new RegExp(TOKEN_SHAPE.source, `${TOKEN_SHAPE.flags.replace(/[gy]/g, '')}y`);

const isAlnumByte = (b: number) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
/** A "word" character of a regular expression's \b: a letter, a digit or an underscore. */
const isWordByte = (b: number) => isAlnumByte(b) || b === 0x5f;

/** Longest token-shaped run followed across a chunk boundary; a real token is 37 characters. */
const SHAPE_CARRY = 4096;

/** The tokens of one run, searched in every file of the package. */
export class TokenScanner {
  readonly #needles: Buffer[];
  readonly #longest: number;

  constructor(tokens: readonly string[]) {
    this.#needles = tokens.flatMap((token) => [Buffer.from(token, 'utf8'), Buffer.from(token, 'utf16le')]);
    this.#longest = Math.max(0, ...this.#needles.map((n) => n.length));
  }

  /** A scan of one file, fed its bytes in order. */
  file(): FileTokenScan {
    return new FileTokenScan(this.#needles, this.#longest);
  }

  /** Whole bytes already in memory (generated files): what a file scan of them would find. */
  find(data: Uint8Array): TokenMatch | undefined {
    const scan = this.file();
    return scan.feed(data) ?? scan.end();
  }
}

export class FileTokenScan {
  readonly #needles: readonly Buffer[];
  readonly #longest: number;
  /** The last `longest - 1` bytes seen, for a known token split across chunks. */
  #tail = Buffer.alloc(0);
  #text: boolean | undefined;
  /**
   * Bytes kept for the next chunk's shape search: the last bytes (a `hf_` may be split) or an undecided candidate,
   * preceded by one byte of context unless they begin the file; `#from` is where candidates may start in them.
   */
  #carry: Buffer = Buffer.alloc(0);
  #from = 0;
  #carryAtFileStart = true;

  constructor(needles: readonly Buffer[], longest: number) {
    this.#needles = needles;
    this.#longest = longest;
  }

  /** Search the next chunk; the chunk's buffer may be reused once this returns. */
  feed(chunk: Uint8Array): TokenMatch | undefined {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#findKnown(bytes)) return 'known';
    this.#text ??= !bytes.subarray(0, TEXT_PROBE_BYTES).includes(0);
    return this.#text && this.#findShape(bytes, false) ? 'shape' : undefined;
  }

  /** The end of the file: a token-shaped string that reached the last chunk's end is complete now. */
  end(): TokenMatch | undefined {
    return this.#text && this.#findShape(Buffer.alloc(0), true) ? 'shape' : undefined;
  }

  #findKnown(bytes: Buffer): boolean {
    if (this.#longest === 0) return false;
    if (this.#tail.length > 0) {
      const joint = Buffer.concat([this.#tail, bytes.subarray(0, this.#longest - 1)]);
      if (this.#needles.some((needle) => joint.includes(needle))) return true;
    }
    if (this.#needles.some((needle) => bytes.includes(needle))) return true;
    const keep = this.#longest - 1;
    // A copy: the chunk's buffer is reused for the next read.
    this.#tail = Buffer.from(bytes.length >= keep ? bytes.subarray(bytes.length - keep) : Buffer.concat([this.#tail, bytes]).subarray(-keep));
    return false;
  }

  #findShape(next: Buffer, atEnd: boolean): boolean {
    const carry = this.#carry;
    if (carry.length > 0) {
      // Only when a candidate starts in the kept bytes are they joined to the chunk (the whole chunk is not copied).
      const first = Buffer.concat([carry, next.subarray(0, PREFIX.length)]).indexOf(PREFIX, this.#from);
      if (first !== -1 && first < carry.length) {
        const buf = Buffer.concat([carry, next]);
        return this.#scan(buf, this.#from, this.#carryAtFileStart ? undefined : NaN, atEnd);
      }
    }
    // The byte before the chunk is the context of a candidate at its start (none at the very start of the file).
    const before = carry.length > 0 ? carry[carry.length - 1] : undefined;
    return this.#scan(next, 0, before, atEnd);
  }

  /**
   * Candidates in `buf` from `from`; `before` is the byte preceding `buf` (undefined: `buf` begins the file; NaN:
   * `buf[0]` is itself context, so `from` ≥ 1 unless the file begins there).
   */
  #scan(buf: Buffer, from: number, before: number | undefined, atEnd: boolean): boolean {
    for (let at = buf.indexOf(PREFIX, from); at !== -1; at = buf.indexOf(PREFIX, at + 1)) {
      // The byte before the candidate, so TOKEN_SHAPE's leading \b sees what precedes it.
      const previous = at > 0 ? buf[at - 1] : Number.isNaN(before) ? undefined : before;
      // Most `hf_` in text are no token at all (`hf_transfer`, `hf_ `): a glance at the bytes around rules them out.
      const after = buf[at + PREFIX.length];
      if ((previous !== undefined && isWordByte(previous)) || (after !== undefined && !isAlnumByte(after))) continue;
      const lead = previous === undefined ? '' : String.fromCharCode(previous);
      for (let size = 64; ; size *= 4) {
        const windowEnd = Math.min(buf.length, at + size);
        SHAPE.lastIndex = lead.length;
        const matched = SHAPE.exec(lead + buf.toString('latin1', at, windowEnd)) !== null;
        // A match cut by the window may go on (an underscore after it undoes it), and so may a run cut too short.
        if (matched && at + SHAPE.lastIndex - lead.length < windowEnd) return true;
        if (windowEnd < buf.length) {
          if (!matched) break;
          continue;
        }
        if (atEnd) {
          if (matched) return true;
          break;
        }
        // Undecided until the next chunk: keep it, and what follows (a run longer than SHAPE_CARRY is let go).
        if (buf.length - at > SHAPE_CARRY) break;
        this.#keep(lead, buf.subarray(at));
        return false;
      }
    }
    // A `hf_` split across the boundary: keep the last two bytes, with the one before them as context.
    const tailStart = Math.max(from, buf.length - (PREFIX.length - 1));
    const previous = tailStart > 0 ? buf[tailStart - 1] : Number.isNaN(before) ? undefined : before;
    this.#keep(previous === undefined ? '' : String.fromCharCode(previous), buf.subarray(tailStart));
    return false;
  }

  /** Keep `bytes` (copied: the chunk's buffer is reused) after their context byte `lead` ('' at the file's start). */
  #keep(lead: string, bytes: Buffer): void {
    this.#carry = Buffer.concat([Buffer.from(lead, 'latin1'), bytes]);
    this.#from = lead.length;
    this.#carryAtFileStart = lead.length === 0;
  }
}

/** The error for a file that holds a token: it names the file, never the token. */
export function tokenInFileError(match: TokenMatch, file: string): UsageError {
  const what = match === 'known' ? 'a Hugging Face token this machine holds (from --token, HF_TOKEN or a token file)' : 'what looks like a Hugging Face token (hf_ and 30 or more letters and digits)';
  return new UsageError('PACKAGE_SECRET_IN_FILE', `${file} contains ${what}; a package never carries a token.`, {
    hint: 'Remove the token from the file, or leave the file out of the inputs, then package again. If the file was ever shared, revoke the token at https://huggingface.co/settings/tokens.',
    details: { file, match },
  });
}

/** Refuse a generated file (card, NOTICE, BOM, manifest) that would carry a token, pasted into a name, attribution, waiver reason or the user's card. */
export function assertNoToken(scanner: TokenScanner, data: Uint8Array | string, where: string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (scanner.find(bytes) !== undefined) {
    throw new UsageError('PACKAGE_SECRET_IN_OUTPUT', `The generated ${where} would contain a Hugging Face token.`, {
      hint: 'Remove the token from where it came from (the configuration\'s attribution, waivers and names, or the input model card) and revoke it at https://huggingface.co/settings/tokens if it was shared.',
      details: { file: where },
    });
  }
}
