/** Tokenizer kind C: the byte-level BPE of Llama 3 (convert_hf_to_gguf.py _set_vocab_gpt2 / get_vocab_base, pre "llama-bpe"). */
import { join } from 'node:path';
import { UsageError } from '../../errors.ts';
import { addedTokens, looksSpecial, modelVocab, TokenType, type AddedToken, type Json } from './tokenizer-files.ts';

/**
 * The pre-tokenizer regex of Meta's Llama 3 tokenizer.json. convert_hf_to_gguf.py identifies the pre-tokenizer by
 * hashing the tokenization of a fixed text; the Llama 3 / 3.1 / 3.2 / 3.3 tokenizer gives hash 0ef9807a… → "llama-bpe".
 * Without a tokenizer at run time we recognise the same tokenizer by its split regex.
 */
const LLAMA3_SPLIT_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";


/** convert_hf_to_gguf.py get_vocab_base for byte-level BPE (Llama 3). */
export function gpt2Vocab(dir: string, tokenizerJson: Json, configVocab: number | undefined) {
  const pre = tokenizerJson.pre_tokenizer as Json | null | undefined;
  const pattern = findSplitPattern(pre);
  if (pattern !== LLAMA3_SPLIT_REGEX) {
    throw new UsageError('CONVERT_UNKNOWN_PRETOKENIZER', `the BPE pre-tokenizer of ${join(dir, 'tokenizer.json')} is not Llama 3's`, {
      hint: 'Only the Llama 3 byte-level BPE tokenizer ("llama-bpe") and SentencePiece tokenizers are supported; convert others with llama.cpp.',
      details: { file: join(dir, 'tokenizer.json') },
    });
  }
  const vocab = modelVocab(tokenizerJson);
  const added = addedTokens(tokenizerJson);
  const addedById = new Map<number, AddedToken>();
  for (const t of added) {
    vocab.set(t.id, t.content);
    addedById.set(t.id, t);
  }
  let maxId = -1;
  for (const id of vocab.keys()) maxId = Math.max(maxId, id);
  const vocabSize = configVocab ?? vocab.size;
  if (maxId >= vocabSize) {
    throw new UsageError('CONVERT_BAD_TOKENIZER', `tokenizer.json has token id ${maxId}, beyond vocab_size ${vocabSize}`, {
      hint: 'config.json and tokenizer.json do not belong together.',
    });
  }
  const tokens: string[] = [];
  const types: number[] = [];
  for (let i = 0; i < vocabSize; i++) {
    const token = vocab.get(i);
    if (token === undefined) {
      tokens.push(`[PAD${i}]`);
      types.push(TokenType.UNUSED);
      continue;
    }
    const addedToken = addedById.get(i);
    if (addedToken !== undefined) {
      // Non-normalized added tokens are round-tripped through the tokenizer by convert; for the whole-token specials
      // of Llama 3 that is the identity.
      if (addedToken.special || looksSpecial(token)) {
        tokens.push(token);
        types.push(TokenType.CONTROL);
      } else {
        tokens.push(token.replaceAll('\u2581', ' '));
        types.push(TokenType.USER_DEFINED);
      }
    } else {
      tokens.push(token);
      types.push(TokenType.NORMAL);
    }
  }
  return { tokens, types, pre: 'llama-bpe' };
}

function findSplitPattern(pre: Json | null | undefined): string | undefined {
  if (pre === null || pre === undefined) return undefined;
  if (pre.type === 'Split') {
    const pattern = pre.pattern as Json | undefined;
    return typeof pattern?.Regex === 'string' ? pattern.Regex : undefined;
  }
  if (pre.type === 'Sequence' && Array.isArray(pre.pretokenizers)) {
    for (const p of pre.pretokenizers as Json[]) {
      const found = findSplitPattern(p);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

