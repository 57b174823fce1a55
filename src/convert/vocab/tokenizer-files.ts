/** What every tokenizer importer reads: the tokenizer files (JSON), tokenizer.json's model and added tokens, token types. */
import { stat } from 'node:fs/promises';
import { readOptionalRegularFile } from '../../fs/regular-file.ts';
import { UsageError } from '../../errors.ts';

/** gguf-py TokenType. */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export type Json = Record<string, unknown>;

/** Whether something is at `path`; a FIFO or device there is refused when read (readOptionalRegularFile), not skipped. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** An optional JSON file of the checkpoint: undefined when absent, {} when not an object. */
export async function readJson(path: string): Promise<Json | undefined> {
  const bytes = await readOptionalRegularFile(path);
  if (bytes === undefined) return undefined;
  try {
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
  } catch (error) {
    throw new UsageError('CONVERT_BAD_JSON', `${path} is not valid JSON: ${(error as Error).message}`, {
      hint: 'Repair or re-download the file.',
      details: { file: path },
      cause: error,
    });
  }
}

/** convert_hf_to_gguf.py `does_token_look_special`. */
export function looksSpecial(token: string): boolean {
  return (
    ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(token) ||
    (token.startsWith('<|') && token.endsWith('|>')) ||
    (token.startsWith('<｜') && token.endsWith('｜>')) ||
    (token.startsWith('<unused') && token.endsWith('>'))
  );
}


export function tokenizerModel(tokenizerJson: Json): Json {
  const model = tokenizerJson.model;
  return model !== null && typeof model === 'object' ? (model as Json) : {};
}

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  normalized: boolean;
}

export function addedTokens(tokenizerJson: Json): AddedToken[] {
  const list = Array.isArray(tokenizerJson.added_tokens) ? (tokenizerJson.added_tokens as unknown[]) : [];
  const out: AddedToken[] = [];
  for (const item of list) {
    const t = item as Partial<Record<keyof AddedToken, unknown>>;
    if (typeof t.id === 'number' && typeof t.content === 'string') {
      out.push({ id: t.id, content: t.content, special: t.special === true, normalized: t.normalized !== false });
    }
  }
  return out;
}

export function modelVocab(tokenizerJson: Json): Map<number, string> {
  const vocab = tokenizerModel(tokenizerJson).vocab;
  const byId = new Map<number, string>();
  if (vocab !== null && typeof vocab === 'object') {
    for (const [token, id] of Object.entries(vocab as Record<string, unknown>)) if (typeof id === 'number') byId.set(id, token);
  }
  return byId;
}

export function tokenContent(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (entry !== null && typeof entry === 'object' && typeof (entry as Json).content === 'string') return (entry as Json).content as string;
  return undefined;
}

