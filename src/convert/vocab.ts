/**
 * Tokenizer import as convert_hf_to_gguf.py does it for LlamaModel.set_vocab (../shared/research/gguf.md §6 "Vocab";
 * llama.cpp convert_hf_to_gguf.py `_set_vocab_sentencepiece`, `_set_vocab_llama_hf`, `_set_vocab_gpt2`,
 * gguf-py `vocab.py` LlamaHfVocab and SpecialVocab):
 *   A. tokenizer.model present → SentencePiece tokens/scores/types ("llama", pre "default");
 *   B. else tokenizer.json of a byte-fallback BPE with a Sequence decoder → LlamaHfVocab ("llama", pre "default");
 *   C. else byte-level BPE (Llama 3) → "gpt2", pre "llama-bpe", tokens, token types and merges.
 * Then the special vocab: merges, special token ids, add_bos/add_eos, chat template.
 */
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { kv, type GgufKv } from '../formats/gguf.ts';
import { gpt2Vocab } from './vocab/gpt2.ts';
import { isLlamaHfBpe, llamaHfVocab } from './vocab/llama-hf.ts';
import { sentencePieceVocab } from './vocab/sentencepiece.ts';
import { specialVocab } from './vocab/special.ts';
import { exists, readJson, type Json } from './vocab/tokenizer-files.ts';

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

