/**
 * Tokenizer import as convert_hf_to_gguf.py does it for LlamaModel.set_vocab (../shared/research/gguf.md §6 "Vocab";
 * llama.cpp convert_hf_to_gguf.py `_set_vocab_sentencepiece`, `_set_vocab_llama_hf`, `_set_vocab_gpt2`,
 * gguf-py `vocab.py` LlamaHfVocab and SpecialVocab):
 *   A. tokenizer.model present → SentencePiece tokens/scores/types ("llama", pre "default");
 *   B. else tokenizer.json of a byte-fallback BPE with a Sequence decoder → LlamaHfVocab ("llama", pre "default");
 *   C. else byte-level BPE (Llama 3) → "gpt2", pre "llama-bpe", tokens, token types and merges.
 * Then the special vocab: merges, special token ids, add_bos/add_eos, chat template.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { kv, type GgufKv } from '../formats/gguf.ts';
import { readSentencePieceModel, SentencePieceType } from '../formats/sentencepiece.ts';

/** gguf-py TokenType. */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/**
 * The pre-tokenizer regex of Meta's Llama 3 tokenizer.json. convert_hf_to_gguf.py identifies the pre-tokenizer by
 * hashing the tokenization of a fixed text; the Llama 3 / 3.1 / 3.2 / 3.3 tokenizer gives hash 0ef9807a… → "llama-bpe".
 * Without a tokenizer at run time we recognise the same tokenizer by its split regex.
 */
const LLAMA3_SPLIT_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

type Json = Record<string, unknown>;

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function readJson(path: string): Promise<Json | undefined> {
  if (!(await exists(path))) return undefined;
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
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

export interface VocabOptions {
  dir: string;
  /** config.json `vocab_size`. */
  vocabSize: number | undefined;
  config: Json;
}

export async function vocabKvs(options: VocabOptions): Promise<GgufKv[]> {
  const { dir } = options;
  const tokenizerConfig = await readJson(join(dir, 'tokenizer_config.json'));
  const tokenizerJson = await readJson(join(dir, 'tokenizer.json'));
  // current upstream LlamaModel.set_vocab writes add_prefix_space before the vocabulary (the 2025-02 tree wrote it last)
  const prefix: GgufKv[] = [];
  if (tokenizerConfig !== undefined && typeof tokenizerConfig.add_prefix_space === 'boolean') {
    prefix.push(kv.bool('tokenizer.ggml.add_space_prefix', tokenizerConfig.add_prefix_space));
  }
  let out: GgufKv[];
  let special: GgufKv[];
  if (await exists(join(dir, 'tokenizer.model'))) {
    const { tokens, scores, types } = await sentencePieceVocab(dir, options.vocabSize, tokenizerConfig);
    out = [kv.str('tokenizer.ggml.model', 'llama'), kv.str('tokenizer.ggml.pre', 'default'), kv.strArray('tokenizer.ggml.tokens', tokens), kv.f32Array('tokenizer.ggml.scores', scores), kv.i32Array('tokenizer.ggml.token_type', types)];
    special = await specialVocab(dir, tokenizerJson, tokenizerConfig, options.config, tokens.length, false);
  } else if (tokenizerJson !== undefined && isLlamaHfBpe(tokenizerJson)) {
    const { tokens, scores, types } = llamaHfVocab(tokenizerJson, tokenizerConfig);
    out = [kv.str('tokenizer.ggml.model', 'llama'), kv.str('tokenizer.ggml.pre', 'default'), kv.strArray('tokenizer.ggml.tokens', tokens), kv.f32Array('tokenizer.ggml.scores', scores), kv.i32Array('tokenizer.ggml.token_type', types)];
    special = await specialVocab(dir, tokenizerJson, tokenizerConfig, options.config, tokens.length, false);
  } else if (tokenizerJson !== undefined) {
    const { tokens, types, pre } = gpt2Vocab(dir, tokenizerJson, options.vocabSize);
    out = [kv.str('tokenizer.ggml.model', 'gpt2'), kv.str('tokenizer.ggml.pre', pre), kv.strArray('tokenizer.ggml.tokens', tokens), kv.i32Array('tokenizer.ggml.token_type', types)];
    special = await specialVocab(dir, tokenizerJson, tokenizerConfig, options.config, undefined, true);
  } else {
    throw new UsageError('CONVERT_NO_TOKENIZER', `no tokenizer.model or tokenizer.json in ${dir}`, {
      hint: 'A GGUF needs the vocabulary: download the tokenizer files of the checkpoint too.',
      details: { dir },
    });
  }
  out.push(...special);
  // LlamaModel.set_vocab: CodeLlama's infill tokens.
  if (options.vocabSize === 32016) {
    const have = new Set(out.map((k) => k.key));
    const infill: [string, number][] = [['tokenizer.ggml.prefix_token_id', 32007], ['tokenizer.ggml.suffix_token_id', 32008], ['tokenizer.ggml.middle_token_id', 32009], ['tokenizer.ggml.eot_token_id', 32010]];
    for (const [key, id] of infill) if (!have.has(key)) out.push(kv.u32(key, id));
  }
  return [...prefix, ...out];
}

async function sentencePieceVocab(dir: string, configVocab: number | undefined, tokenizerConfig: Json | undefined) {
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

function tokenizerModel(tokenizerJson: Json): Json {
  const model = tokenizerJson.model;
  return model !== null && typeof model === 'object' ? (model as Json) : {};
}

/** gguf-py LlamaHfVocab's test: a byte-fallback BPE with a Sequence decoder (not Llama 3's ignore_merges BPE). */
function isLlamaHfBpe(tokenizerJson: Json): boolean {
  const model = tokenizerModel(tokenizerJson);
  const isLlama3 = model.type === 'BPE' && model.ignore_merges === true && model.byte_fallback === false;
  if (isLlama3) return false;
  const decoder = tokenizerJson.decoder as Json | null | undefined;
  return model.type === 'BPE' && model.byte_fallback === true && decoder?.type === 'Sequence';
}

interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  normalized: boolean;
}

function addedTokens(tokenizerJson: Json): AddedToken[] {
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

function modelVocab(tokenizerJson: Json): Map<number, string> {
  const vocab = tokenizerModel(tokenizerJson).vocab;
  const byId = new Map<number, string>();
  if (vocab !== null && typeof vocab === 'object') {
    for (const [token, id] of Object.entries(vocab as Record<string, unknown>)) if (typeof id === 'number') byId.set(id, token);
  }
  return byId;
}

function tokenContent(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (entry !== null && typeof entry === 'object' && typeof (entry as Json).content === 'string') return (entry as Json).content as string;
  return undefined;
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
function llamaHfVocab(tokenizerJson: Json, tokenizerConfig: Json | undefined) {
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

/** convert_hf_to_gguf.py get_vocab_base for byte-level BPE (Llama 3). */
function gpt2Vocab(dir: string, tokenizerJson: Json, configVocab: number | undefined) {
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

const SPECIAL_TYPES = ['bos', 'eos', 'unk', 'sep', 'pad', 'cls', 'mask'];
/** GGUFWriter handlers SpecialVocab finds (`add_{typ}_token_id`; cls, eot and eom have none among these: skipped). */
const SPECIAL_ID_KEYS: Record<string, string> = {
  bos: 'tokenizer.ggml.bos_token_id',
  eos: 'tokenizer.ggml.eos_token_id',
  unk: 'tokenizer.ggml.unknown_token_id',
  sep: 'tokenizer.ggml.seperator_token_id',
  pad: 'tokenizer.ggml.padding_token_id',
  mask: 'tokenizer.ggml.mask_token_id',
  eot: 'tokenizer.ggml.eot_token_id',
  eom: 'tokenizer.ggml.eom_token_id',
};
const ADD_KEYS: Record<string, string> = {
  bos: 'tokenizer.ggml.add_bos_token',
  eos: 'tokenizer.ggml.add_eos_token',
  sep: 'tokenizer.ggml.add_sep_token',
};

function specialId(entry: unknown): string | undefined {
  const special = (entry as { SpecialToken?: { id?: unknown } } | null)?.SpecialToken;
  return typeof special?.id === 'string' ? special.id : undefined;
}

function sequenceId(entry: unknown): string | undefined {
  const seq = (entry as { Sequence?: { id?: unknown } } | null)?.Sequence;
  return typeof seq?.id === 'string' ? seq.id : undefined;
}

/**
 * gguf-py SpecialVocab (current upstream): merges, the tokenizer.json post-processor's view of which specials are
 * added (TemplateProcessing / RobertaProcessing), normalizer flags, chat template (tokenizer_config.json, else
 * chat_template.jinja, else chat_template.json), special token ids from tokenizer_config.json then config.json,
 * add_* flags; emitted in SpecialVocab.add_to_gguf order.
 */
async function specialVocab(
  dir: string,
  tokenizerJson: Json | undefined,
  tokenizerConfigIn: Json | undefined,
  config: Json,
  nVocab: number | undefined,
  loadMerges: boolean,
): Promise<GgufKv[]> {
  const out: GgufKv[] = [];
  let merges: string[] = [];
  const types = [...SPECIAL_TYPES];
  const ids = new Map<string, number>();
  const adds = new Map<string, boolean>();
  let lowercase: boolean | undefined;
  let stripAccents: boolean | undefined;
  const setId = (typ: string, id: unknown): void => {
    if (typeof id !== 'number' || !Number.isInteger(id)) return;
    if (id < 0) {
      throw new UsageError('CONVERT_BAD_TOKENIZER', `invalid value for special token type ${typ}: ${id}`, { hint: 'Fix the special token ids in config.json / tokenizer_config.json.' });
    }
    if (nVocab !== undefined && id >= nVocab) return;
    if (!ids.has(typ)) ids.set(typ, id);
  };
  // a copy: SpecialVocab fills in tokens it infers from the post-processor
  const tokenizerConfig: Json | undefined = tokenizerConfigIn === undefined ? undefined : { ...tokenizerConfigIn };
  const hasConfig = tokenizerConfig !== undefined && Object.keys(tokenizerConfig).length > 0;
  let added: AddedToken[] = [];
  if (tokenizerJson !== undefined) {
    if (loadMerges) {
      const list = tokenizerModel(tokenizerJson).merges;
      if (Array.isArray(list) && list.length > 0) {
        if (typeof list[0] === 'string') merges = list as string[];
        else if (Array.isArray(list[0]) && list[0].length === 2 && typeof list[0][0] === 'string') {
          // transformers >= 4.45 pairs: joined with a space, a literal space inside a part encoded as U+0120
          merges = (list as string[][]).map((pair) => pair.map((part) => part.replaceAll(' ', '\u0120')).join(' '));
        } else {
          throw new UsageError('CONVERT_BAD_TOKENIZER', 'unknown tokenizer merges format in tokenizer.json', {
            hint: 'tokenizer.json is not a Hugging Face BPE tokenizer file.',
          });
        }
      }
    }
    const parseNormalizer = (n: Json | null | undefined): void => {
      if (n === null || n === undefined) return;
      if (n.type === 'Lowercase') lowercase = true;
      else if (n.type === 'StripAccents') stripAccents = true;
      else if (n.type === 'BertNormalizer') {
        if ('lowercase' in n) lowercase = n.lowercase as boolean;
        if ('strip_accents' in n) stripAccents = n.strip_accents as boolean;
      } else if (n.type === 'Sequence' && Array.isArray(n.normalizers)) for (const x of n.normalizers as Json[]) parseNormalizer(x);
    };
    parseNormalizer(tokenizerJson.normalizer as Json | null | undefined);
    added = addedTokens(tokenizerJson);
    inferFromPostProcessor(tokenizerJson, tokenizerConfig, hasConfig, adds, types);
  }
  let chatTemplate: unknown;
  if (hasConfig) {
    let alt: unknown;
    const jinja = join(dir, 'chat_template.jinja');
    if (await exists(jinja)) alt = await readFile(jinja, 'utf8');
    else alt = (await readJson(join(dir, 'chat_template.json')))?.chat_template;
    chatTemplate = 'chat_template' in tokenizerConfig ? tokenizerConfig.chat_template : alt;
    for (const typ of types) {
      const add = tokenizerConfig[`add_${typ}_token`];
      if (typeof add === 'boolean') adds.set(typ, add);
      const content = tokenContent(tokenizerConfig[`${typ}_token`]);
      if (content === undefined) continue;
      setId(typ, added.find((t) => t.content === content)?.id);
    }
  }
  const textConfig = config.text_config as Json | undefined;
  for (const typ of types) setId(typ, config[`${typ}_token_id`] ?? textConfig?.[`${typ}_token_id`]);

  if (merges.length > 0) out.push(kv.strArray('tokenizer.ggml.merges', merges));
  for (const [typ, id] of ids) {
    const key = SPECIAL_ID_KEYS[typ];
    if (key !== undefined) out.push(kv.u32(key, id));
  }
  for (const [typ, value] of adds) {
    const key = ADD_KEYS[typ];
    if (key !== undefined) out.push(kv.bool(key, value));
  }
  out.push(...chatTemplateKvs(chatTemplate));
  if (lowercase !== undefined) out.push(kv.bool('tokenizer.ggml.normalizer.lowercase', lowercase));
  if (stripAccents !== undefined) out.push(kv.bool('tokenizer.ggml.normalizer.strip_accents', stripAccents));
  return out;
}

/** SpecialVocab's "crude parsing" of the post-processor: which specials it adds, and missing bos/eos/cls/sep tokens. */
function inferFromPostProcessor(tokenizerJson: Json, tokenizerConfig: Json | undefined, hasConfig: boolean, adds: Map<string, boolean>, types: string[]): void {
  const cfg = tokenizerConfig ?? {};
  let bos: unknown = cfg.bos_token;
  let cls: unknown = cfg.cls_token;
  let eos: unknown = cfg.eos_token;
  let sep: unknown = cfg.sep_token;
  if (!bos && cls && hasConfig) cfg.bos_token = bos = cls;
  if (!eos && sep && hasConfig) cfg.eos_token = eos = sep;
  const post = tokenizerJson.post_processor as Json | null | undefined;
  if (post === null || post === undefined) return;
  const processors = Array.isArray(post.processors) ? (post.processors as Json[]) : [post];
  for (const processor of processors) {
    if (processor.type === 'RobertaProcessing') {
      adds.set('bos', true);
      adds.set('eos', true);
      adds.set('sep', true);
      if (!cls && hasConfig) cfg.cls_token = cls = (processor.cls as unknown[] | undefined)?.[0] ?? bos;
      if (!sep && hasConfig) cfg.sep_token = sep = (processor.sep as unknown[] | undefined)?.[0] ?? eos;
      continue;
    }
    if (processor.type !== 'TemplateProcessing') continue;
    const single = Array.isArray(processor.single) ? (processor.single as unknown[]) : [];
    let pair = Array.isArray(processor.pair) ? (processor.pair as unknown[]) : [];
    let first: string | undefined;
    let last: string | undefined;
    if (single.length > 1) {
      first = specialId(single[0]);
      if (first) {
        if (!hasConfig) bos = first;
        else if (first !== bos && first !== cls) {
          if (!bos) cfg.bos_token = bos = first;
          if (!cls) cfg.cls_token = cls = first;
        }
        adds.set('bos', first === bos || first === cls);
      }
      last = specialId(single[single.length - 1]);
      if (last) {
        if (!hasConfig) eos = last;
        else if (last !== eos) {
          if (!types.includes('eot')) {
            types.push('eot');
            cfg.eot_token = eos;
          } else if (!types.includes('eom')) {
            types.push('eom');
            cfg.eom_token = eos;
          }
          cfg.eos_token = eos = last;
        }
        adds.set('eos', last === eos);
      }
    }
    if (pair.length > 0) {
      const start = first && specialId(pair[0]) === first ? 1 : 0;
      const stop = last && specialId(pair[pair.length - 1]) === last ? pair.length - 1 : pair.length;
      pair = pair.slice(start, stop);
      if (pair.length > 0) {
        const a = sequenceId(pair[0]);
        const b = sequenceId(pair[pair.length - 1]);
        const middle = pair.slice(1, -1);
        if (a === 'A' && b === 'B' && middle.length > 0) {
          let addSep = false;
          const entry = specialId(middle[0]);
          if (entry && (entry === sep || entry === eos) && !last) addSep = true;
          if (middle.length === 2) {
            const second = specialId(middle[1]);
            if (second && (second === sep || second === eos)) addSep = true;
          }
          adds.set('sep', addSep);
          if (addSep && !sep && hasConfig) cfg.sep_token = eos;
        }
      }
    }
  }
}

/** GGUFWriter.add_chat_template, including named template lists. */
function chatTemplateKvs(chatTemplate: unknown): GgufKv[] {
  if (typeof chatTemplate === 'string') return chatTemplate === '' ? [] : [kv.str('tokenizer.chat_template', chatTemplate)];
  if (!Array.isArray(chatTemplate)) return [];
  const out: GgufKv[] = [];
  let fallback: string | undefined;
  const names: string[] = [];
  for (const choice of chatTemplate as Json[]) {
    const name = String(choice.name ?? '').replace(/[^A-Za-z0-9]/g, '_');
    const template = choice.template;
    if (name === '' || typeof template !== 'string') continue;
    if (name === 'default') fallback = template;
    else {
      names.push(name);
      out.push(kv.str(`tokenizer.chat_template.${name}`, template));
    }
  }
  if (names.length > 0) out.push(kv.strArray('tokenizer.chat_templates', names));
  if (fallback !== undefined && fallback !== '') out.push(kv.str('tokenizer.chat_template', fallback));
  return out;
}
