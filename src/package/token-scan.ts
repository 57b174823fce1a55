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
 * Characters of text kept from one chunk for the next, for a token-shaped string that crosses the boundary. A real
 * token is 37 characters; a token-shaped run longer than this that crosses a boundary is not looked at again.
 */
const SHAPE_CARRY = 4096;

const SHAPE = new RegExp(TOKEN_SHAPE.source, `${TOKEN_SHAPE.flags.replace('g', '')}g`);

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
  /** Text not yet ruled out for a token shape, and where in it the search starts (after one character of context). */
  #carry = '';
  #from = 0;

  constructor(needles: readonly Buffer[], longest: number) {
    this.#needles = needles;
    this.#longest = longest;
  }

  /** Search the next chunk; the chunk's buffer may be reused once this returns. */
  feed(chunk: Uint8Array): TokenMatch | undefined {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#findKnown(bytes)) return 'known';
    this.#text ??= !bytes.subarray(0, TEXT_PROBE_BYTES).includes(0);
    return this.#text && this.#findShape(bytes.toString('latin1'), false) ? 'shape' : undefined;
  }

  /** The end of the file: a token-shaped string that reached the last chunk's end is complete now. */
  end(): TokenMatch | undefined {
    return this.#text && this.#findShape('', true) ? 'shape' : undefined;
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

  #findShape(next: string, atEnd: boolean): boolean {
    const text = this.#carry + next;
    SHAPE.lastIndex = this.#from;
    const match = SHAPE.exec(text);
    // A match that reaches the end of what was read may go on in the next chunk (and an underscore there undoes it).
    if (match && (atEnd || match.index + match[0].length < text.length)) return true;
    if (text.length > SHAPE_CARRY + 1) {
      this.#carry = text.slice(text.length - SHAPE_CARRY - 1);
      this.#from = 1;
    } else {
      this.#carry = text;
    }
    return false;
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
