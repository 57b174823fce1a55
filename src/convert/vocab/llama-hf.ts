/** Tokenizer kind B: a byte-fallback BPE tokenizer.json (gguf-py LlamaHfVocab, as _set_vocab_llama_hf uses it). */
import { UsageError } from '../../errors.ts';
import { addedTokens, modelVocab, tokenContent, tokenizerModel, TokenType, type Json } from './tokenizer-files.ts';

/** gguf-py LlamaHfVocab's test: a byte-fallback BPE with a Sequence decoder (not Llama 3's ignore_merges BPE). */
export function isLlamaHfBpe(tokenizerJson: Json): boolean {
  const model = tokenizerModel(tokenizerJson);
  const isLlama3 = model.type === 'BPE' && model.ignore_merges === true && model.byte_fallback === false;
  if (isLlama3) return false;
  const decoder = tokenizerJson.decoder as Json | null | undefined;
  return model.type === 'BPE' && model.byte_fallback === true && decoder?.type === 'Sequence';
}


/**
 * Rank of the first BPE merge that produces each token. Deliberate difference from gguf-py's LlamaHfVocab, which
 * scores every token -1000: llama.cpp's SentencePiece tokenizer merges the pair whose result scores highest, so with
 * equal scores it cannot follow the merge order and splits runs of spaces differently from Hugging Face. Scoring each
 * token by minus its merge rank makes llama.cpp merge in the tokenizer.json order (tests compare both tokenizers).
 */
function mergeRanks(tokenizerJson: Json): Map<string, number> {
  const merges = tokenizerModel(tokenizerJson).merges;
  const ranks = new Map<string, number>();
  if (!Array.isArray(merges)) return ranks;
  merges.forEach((merge: unknown, rank) => {
    const pair = typeof merge === 'string' ? merge.split(' ') : Array.isArray(merge) ? (merge as string[]) : [];
    if (pair.length !== 2) return;
    const text = pair.join('');
    if (!ranks.has(text)) ranks.set(text, rank);
  });
  return ranks;
}

/**
 * gguf-py LlamaHfVocab: base vocab in id order (BYTE / CONTROL / NORMAL), then added tokens past it; scores from the
 * merge ranks (see mergeRanks).
 */
export function llamaHfVocab(tokenizerJson: Json, tokenizerConfig: Json | undefined) {
  const base = modelVocab(tokenizerJson);
  const baseSize = base.size;
  // transformers' all_special_tokens for a Llama tokenizer: the configured special tokens (defaults <unk>, <s>, </s>)
  const config = tokenizerConfig ?? {};
  const specialTexts = new Set<string>();
  const defaults: Record<string, string> = { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' };
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token']) {
    const text = key in config ? tokenContent(config[key]) : defaults[key];
    if (text !== undefined) specialTexts.add(text);
  }
  const extra = config.additional_special_tokens;
  if (Array.isArray(extra)) for (const e of extra) { const t = tokenContent(e); if (t !== undefined) specialTexts.add(t); }
  const added = addedTokens(tokenizerJson);
  const idOf = new Map<string, number>();
  for (const [id, text] of base) idOf.set(text, id);
  for (const t of added) idOf.set(t.content, t.id);
  const specialIds = new Set<number>();
  for (const text of specialTexts) { const id = idOf.get(text); if (id !== undefined) specialIds.add(id); }
  const addedPast = added.filter((t) => t.id >= baseSize).sort((a, b) => a.id - b.id);
  const addedIds = new Set(addedPast.map((t) => t.id));
  const tokens: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  const byteToken = /^<0x[0-9A-Fa-f]{2}>$/;
  const ranks = mergeRanks(tokenizerJson);
  for (let id = 0; id < baseSize; id++) {
    if (addedIds.has(id)) continue;
    const text = base.get(id);
    if (text === undefined) {
      throw new UsageError('CONVERT_BAD_TOKENIZER', `tokenizer.json vocab has no token with id ${id}`, {
        hint: 'tokenizer.json is inconsistent; re-download it.',
      });
    }
    tokens.push(text);
    const rank = ranks.get(text);
    scores.push(rank === undefined ? -1000.0 : -rank);
    types.push(byteToken.test(text) ? TokenType.BYTE : specialIds.has(id) ? TokenType.CONTROL : TokenType.NORMAL);
  }
  for (const t of addedPast) {
    tokens.push(t.content);
    scores.push(-1000.0);
    types.push(specialTexts.has(t.content) ? TokenType.CONTROL : TokenType.USER_DEFINED);
  }
  return { tokens, scores, types };
}

