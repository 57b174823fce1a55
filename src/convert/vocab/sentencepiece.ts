/** Tokenizer kind A: tokenizer.model (SentencePiece) → tokens, scores and types, as _set_vocab_sentencepiece does. */
import { join } from 'node:path';
import { readSentencePieceModel, SentencePieceType } from '../../formats/sentencepiece.ts';
import { looksSpecial, readJson, TokenType, type Json } from './tokenizer-files.ts';

export async function sentencePieceVocab(dir: string, configVocab: number | undefined, tokenizerConfig: Json | undefined) {
  const pieces = await readSentencePieceModel(join(dir, 'tokenizer.model'));
  const vocabSize = configVocab ?? pieces.length;
  const tokens = Array.from({ length: vocabSize }, (_, i) => `[PAD${i}]`);
  const scores = new Array<number>(vocabSize).fill(-10000.0);
  const types = new Array<number>(vocabSize).fill(TokenType.UNUSED);
  for (let id = 0; id < Math.min(pieces.length, vocabSize); id++) {
    const p = pieces[id]!;
    tokens[id] = p.piece;
    scores[id] = p.score;
    // sentencepiece IsUnknown / IsControl / IsUnused / IsByte; USER_DEFINED pieces become NORMAL.
    types[id] =
      p.type === SentencePieceType.UNKNOWN ? TokenType.UNKNOWN
      : p.type === SentencePieceType.CONTROL ? TokenType.CONTROL
      : p.type === SentencePieceType.UNUSED ? TokenType.UNUSED
      : p.type === SentencePieceType.BYTE ? TokenType.BYTE
      : TokenType.NORMAL;
  }
  const added = await readJson(join(dir, 'added_tokens.json'));
  if (added !== undefined) {
    for (const [text, id] of Object.entries(added)) {
      if (typeof id !== 'number' || id >= vocabSize || id < 0) continue;
      tokens[id] = text;
      scores[id] = -1000.0;
      types[id] = TokenType.USER_DEFINED;
    }
  }
  applyAddedTokensDecoder(tokenizerConfig, tokens, scores, types, vocabSize);
  return { tokens, scores, types };
}

function applyAddedTokensDecoder(tokenizerConfig: Json | undefined, tokens: string[], scores: number[], types: number[], vocabSize: number): void {
  const decoder = tokenizerConfig?.added_tokens_decoder;
  if (decoder === null || typeof decoder !== 'object') return;
  for (const [key, data] of Object.entries(decoder as Record<string, unknown>)) {
    const id = Number.parseInt(key, 10);
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) continue;
    const entry = data as { content?: unknown; special?: unknown };
    if (typeof entry.content !== 'string') continue;
    let text = entry.content;
    if (entry.special === true || looksSpecial(text)) types[id] = TokenType.CONTROL;
    else {
      text = text.replaceAll('\u2581', ' '); // pre-normalize user-defined spaces, as convert does
      types[id] = TokenType.USER_DEFINED;
    }
    scores[id] = -1000.0;
    tokens[id] = text;
  }
}

