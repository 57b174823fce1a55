/** gguf-py SpecialVocab: merges, special token ids, add_* flags, normalizer flags and the chat template. */
import { join } from 'node:path';
import { UsageError } from '../../errors.ts';
import { kv, type GgufKv } from '../../formats/gguf.ts';
import { readOptionalRegularFile } from '../../fs/regular-file.ts';
import { addedTokens, readJson, tokenContent, tokenizerModel, type AddedToken, type Json } from './tokenizer-files.ts';

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
export async function specialVocab(
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
    const template = await readOptionalRegularFile(jinja);
    if (template !== undefined) alt = template.toString('utf8');
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

