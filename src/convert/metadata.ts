/**
 * general.* metadata as convert_hf_to_gguf.py writes it (gguf-py `metadata.py`: Metadata.load with the model card's
 * YAML front matter, config.json `_name_or_path` and the directory name as heuristics, then `set_gguf_meta_model`),
 * including license and lineage: general.license / license.name / license.link and general.base_model.count /
 * general.base_model.N.* (GGUF naming convention), and the recommended sampling parameters current gguf-py takes from
 * generation_config.json (general.sampling.*).
 */
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../errors.ts';
import { kv, type GgufKv } from '../formats/gguf.ts';
import { readOptionalRegularFile } from '../fs/regular-file.ts';

type Json = Record<string, unknown>;

export interface ModelMetadata {
  sampling?: Json;
  name?: string;
  author?: string;
  version?: string;
  organization?: string;
  finetune?: string;
  basename?: string;
  description?: string;
  quantizedBy?: string;
  sizeLabel?: string;
  license?: string | string[];
  licenseName?: string;
  licenseLink?: string;
  url?: string;
  doi?: string;
  uuid?: string;
  repoUrl?: string;
  sourceUrl?: string;
  sourceDoi?: string;
  sourceUuid?: string;
  sourceRepoUrl?: string;
  baseModels?: Json[];
  datasets?: Json[];
  tags?: string[];
  languages?: string[];
}

/** The YAML front matter of README.md ({} when absent or not a mapping), read the way gguf-py reads it. */
export async function readModelCard(dir: string): Promise<Json> {
  let content: string;
  try {
    const bytes = await readOptionalRegularFile(join(dir, 'README.md'));
    if (bytes === undefined) return {};
    content = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error; // a FIFO or device is refused, not read as "no card"
    return {};
  }
  const lines = content.split(/\r\n|\r|\n/);
  if (lines.length === 0 || lines[0] !== '---') return {};
  const yamlLines: string[] = [];
  for (const line of lines.slice(1)) {
    if (line === '---') break;
    yamlLines.push(line);
  }
  // gguf-py's fixes: the Norway problem, and tabs for indentation.
  const text = `${yamlLines.join('\n')}\n`.replaceAll('- no\n', '- "no"\n').replaceAll('\t', '  ');
  try {
    const data = parseYaml(text, { version: '1.1' }) as unknown;
    return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Json) : {};
  } catch {
    return {};
  }
}

function isLower(word: string): boolean {
  return /\p{Ll}/u.test(word) && !/\p{Lu}|\p{Lt}/u.test(word);
}

function pyTitle(word: string): string {
  let out = '';
  let prevCased = false;
  for (const ch of word) {
    const cased = /\p{L}/u.test(ch);
    out += cased ? (prevCased ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    prevCased = cased;
  }
  return out;
}

/** Metadata.id_to_title. */
function idToTitle(text: string): string {
  return text
    .trim()
    .replaceAll('-', ' ')
    .split(/\s+/)
    .filter((w) => w !== '')
    .map((w) => (isLower(w) && !/^(v\d+(?:\.\d+)*|\d.*)$/.test(w) ? pyTitle(w) : w))
    .join(' ');
}

interface ModelIdComponents {
  fullName?: string;
  org?: string;
  basename?: string;
  finetune?: string;
  version?: string;
  sizeLabel?: string;
}

/** Metadata.get_model_id_components. */
function modelIdComponents(modelId: string | undefined, totalParams = 0): ModelIdComponents {
  if (modelId === undefined) return {};
  if (modelId.includes(' ')) return { fullName: modelId };
  let org: string | undefined;
  let full: string;
  const slash = modelId.indexOf('/');
  if (slash >= 0) {
    org = modelId.slice(0, slash);
    full = modelId.slice(slash + 1);
  } else full = modelId;
  if (org !== undefined && org.length > 0 && org[0] === '.') org = undefined;
  const parts = full.split('-').filter((p) => p.length > 0);
  const types: Set<string>[] = parts.map(() => new Set<string>());
  const sizeParams = (label: string): number => {
    const scale = ' KMBT'.indexOf(label[label.length - 1]!);
    const value = Number(label.slice(0, -1));
    if (scale < 0 || Number.isNaN(value) || label.slice(0, -1).trim() === '') throw new Error('not a size');
    return value * 1000 ** scale;
  };
  const isActive = (label: string): boolean => /^A\d+([._]\d+)?[KMBT][\d]?$/i.test(label);
  const normalize = (label: string): string => {
    let l = label.replaceAll('_', '.');
    if (/\d/.test(l[l.length - 1]!)) l = `${l.slice(0, -2)}.${l[l.length - 1]}${l[l.length - 2]}`;
    if (l.length > 1 && /\d/.test(l[l.length - 2]!) && 'kmbt'.includes(l[l.length - 1]!)) l = l.slice(0, -1) + l[l.length - 1]!.toUpperCase();
    return l;
  };
  for (let i = 0; i < parts.length; i++) {
    let part = parts[i]!;
    if (/^(v|iter)?\d+([.]\d+)*$/i.test(part)) types[i]!.add('version');
    else if (/^(i?q\d(_\w)*|b?fp?(16|32))$/i.test(part)) {
      types[i]!.add('type');
      parts[i] = part.toUpperCase();
    } else if (i > 0 && /^(([A]|\d+[x])?\d+([._]\d+)?[KMBT][\d]?|small|mini|medium|large|x?xl)$/i.test(part)) {
      part = normalize(part);
      if (totalParams !== 0) {
        try {
          const labelParams = sizeParams(part);
          const next = i + 1 < parts.length ? normalize(parts[i + 1]!) : undefined;
          const followedByActive =
            next !== undefined && isActive(next) && Math.abs(sizeParams(next.slice(1)) - Math.abs(totalParams)) <= Math.floor((7 * Math.abs(totalParams)) / 8);
          if (
            !followedByActive &&
            ((totalParams < 0 && labelParams < Math.floor(Math.abs(totalParams) / 8)) ||
              (totalParams > 0 && Math.abs(labelParams - totalParams) > Math.floor((7 * totalParams) / 8)))
          ) {
            types[i]!.add('finetune');
            part = part.slice(0, -1) + part[part.length - 1]!.toLowerCase();
          }
        } catch {
          // not a numeric size: used as is
        }
      }
      if (types[i]!.size === 0) types[i]!.add('size_label');
      parts[i] = part;
    } else if (i > 0 && /^(chat|instruct|vision|lora)$/i.test(part)) {
      if (totalParams < 0 && part.toLowerCase() === 'lora') types[i]!.add('type');
      else types[i]!.add('finetune');
    }
  }
  if (parts.some((p, i) => types[i]!.has('size_label') && /\d/.test(p))) {
    parts.forEach((p, i) => {
      if (types[i]!.has('size_label') && /^\p{L}+$/u.test(p)) types[i]!.delete('size_label');
    });
  }
  let atStart = true;
  parts.forEach((p, i) => {
    const t = types[i]!;
    if (atStart && ((t.size === 0 && /^\p{L}/u.test(p)) || t.has('version'))) t.add('basename');
    else {
      atStart = false;
      if (t.size === 0) t.add('finetune');
    }
  });
  for (let i = parts.length - 1; i >= 0; i--) {
    const t = types[i]!;
    if (t.has('basename') && t.size > 1) t.delete('basename');
    else break;
  }
  const join = (kind: string, exclude?: string): string | undefined =>
    parts.filter((_, i) => types[i]!.has(kind) && (exclude === undefined || !types[i]!.has(exclude))).join('-') || undefined;
  let base = join('basename');
  const sizeLabel = [...new Set(parts.filter((_, i) => types[i]!.has('size_label')))].join('-') || undefined;
  const finetune = join('finetune');
  const version = join('version', 'basename');
  if (sizeLabel === undefined && finetune === undefined && version === undefined) base = undefined;
  const out: ModelIdComponents = { fullName: full };
  if (org !== undefined) out.org = org;
  if (base !== undefined) out.basename = base;
  if (finetune !== undefined) out.finetune = finetune;
  if (version !== undefined) out.version = version;
  if (sizeLabel !== undefined) out.sizeLabel = sizeLabel;
  return out;
}

/** gguf-py model_weight_count_rounded_notation(n, min_digits=2). */
function sizeLabel(totalParams: number): string {
  const n = Math.abs(totalParams);
  let scaled: number;
  let suffix: string;
  if (n > 1e12) [scaled, suffix] = [n * 1e-12, 'T'];
  else if (n > 1e9) [scaled, suffix] = [n * 1e-9, 'B'];
  else if (n > 1e6) [scaled, suffix] = [n * 1e-6, 'M'];
  else [scaled, suffix] = [n * 1e-3, 'K'];
  const digits = String(pyRound(scaled)).replace(/^0+/, '').length;
  const fix = Math.max(2 - digits, 0);
  return `${pyFixed(scaled, fix)}${suffix}`;
}

/** Python round(): half to even. */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Python f"{x:.{fix}f}": exact binary value rounded half to even (toFixed rounds exact ties up). */
function pyFixed(x: number, fix: number): string {
  const s = x.toFixed(fix);
  const scaled = x * 10 ** fix;
  if (Math.abs(scaled % 1) === 0.5 && Number.isInteger(scaled * 2)) {
    const down = (Math.floor(scaled) / 10 ** fix).toFixed(fix);
    return Math.floor(scaled) % 2 === 0 ? down : s;
  }
  return s;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function baseEntry(id: string, totalParams: number): Json {
  const entry: Json = {};
  if (/^(https?|ssh):\/\//.test(id)) {
    entry.repo_url = id;
    const m = /^https?:\/\/huggingface\.co\/([^/]+\/[^/]+)$/.exec(id);
    if (id.includes('huggingface.co') && m !== null) {
      const c = modelIdComponents(m[1], totalParams);
      if (c.fullName !== undefined) entry.name = idToTitle(c.fullName);
      if (c.org !== undefined) entry.organization = idToTitle(c.org);
      if (c.version !== undefined) entry.version = c.version;
    }
  } else {
    const c = modelIdComponents(id, totalParams);
    if (c.fullName !== undefined) entry.name = idToTitle(c.fullName);
    if (c.org !== undefined) entry.organization = idToTitle(c.org);
    if (c.version !== undefined) entry.version = c.version;
    if (c.org !== undefined && c.fullName !== undefined) entry.repo_url = `https://huggingface.co/${c.org}/${c.fullName}`;
  }
  return entry;
}

/** generation_config.json ({} when absent or invalid, as gguf-py treats it). */
export async function readGenerationConfig(dir: string): Promise<Json> {
  try {
    const bytes = await readOptionalRegularFile(join(dir, 'generation_config.json'));
    if (bytes === undefined) return {};
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
  } catch (error) {
    if (error instanceof UsageError) throw error; // a FIFO or device is refused
    return {};
  }
}

/**
 * Metadata.load without an override file: model card, then config.json `_name_or_path`, then the directory name
 * (`dirName`: for a snapshot in the Hugging Face cache, the repo's name, not the commit the folder is named after);
 * sampling parameters from generation_config.json.
 */
export function resolveMetadata(dirName: string, card: Json, hfParams: Json, totalParams: number, generationConfig: Json = {}): ModelMetadata {
  const m: ModelMetadata = {};
  if (Object.keys(generationConfig).length > 0) m.sampling = generationConfig;
  const use = (key: keyof ModelMetadata, cardKey: string): void => {
    if (cardKey in card && m[key] === undefined) {
      const v = card[cardKey];
      if (v !== undefined && v !== null) (m as Record<string, unknown>)[key] = v;
    }
  };
  const useArray = (key: 'tags' | 'languages', cardKey: string): void => {
    const v = card[cardKey];
    if (v === undefined || v === null) return;
    const current = m[key] ?? [];
    if (typeof v === 'string') current.push(v);
    else if (Array.isArray(v)) current.push(...(v as string[]));
    m[key] = current;
  };
  for (const [key, cardKey] of [
    ['name', 'name'], ['author', 'author'], ['version', 'version'], ['organization', 'organization'], ['description', 'description'],
    ['finetune', 'finetune'], ['basename', 'basename'], ['sizeLabel', 'size_label'], ['sourceUrl', 'url'], ['sourceDoi', 'doi'],
    ['sourceUuid', 'uuid'], ['sourceRepoUrl', 'repo_url'],
    ['name', 'model_name'], ['author', 'model_author'], ['version', 'model_version'], ['organization', 'model_organization'],
    ['description', 'model_description'], ['finetune', 'model_finetune'], ['basename', 'model_basename'], ['sizeLabel', 'model_size_label'],
    ['sourceUrl', 'model_url'], ['sourceDoi', 'model_doi'], ['sourceUuid', 'model_uuid'], ['sourceRepoUrl', 'model_repo_url'],
    ['name', 'model_name'], ['author', 'model_creator'], ['basename', 'model_type'],
  ] as const) use(key, cardKey);
  const baseValue = card.base_model ?? card.base_models ?? card.base_model_sources;
  if ('base_model' in card || 'base_models' in card || 'base_model_sources' in card) {
    const ids = typeof baseValue === 'string' ? [baseValue] : Array.isArray(baseValue) ? baseValue : [];
    m.baseModels ??= [];
    for (const id of ids) {
      if (typeof id === 'string') m.baseModels.push(baseEntry(id, totalParams));
      else if (id !== null && typeof id === 'object') m.baseModels.push(id as Json);
      else m.baseModels.push({});
    }
  }
  const dataValue = card.datasets ?? card.dataset ?? card.dataset_sources;
  if ('datasets' in card || 'dataset' in card || 'dataset_sources' in card) {
    const ids = typeof dataValue === 'string' ? [dataValue] : Array.isArray(dataValue) ? dataValue : [];
    m.datasets ??= [];
    for (const id of ids) {
      if (typeof id === 'string') m.datasets.push(baseEntry(id, totalParams));
      else if (id !== null && typeof id === 'object') m.datasets.push(id as Json);
      else m.datasets.push({});
    }
  }
  use('license', 'license');
  use('licenseName', 'license_name');
  use('licenseLink', 'license_link');
  useArray('tags', 'tags');
  useArray('tags', 'pipeline_tag');
  useArray('languages', 'languages');
  useArray('languages', 'language');
  const apply = (c: ModelIdComponents): void => {
    if (m.name === undefined && c.fullName !== undefined) m.name = idToTitle(c.fullName);
    if (m.organization === undefined && c.org !== undefined) m.organization = idToTitle(c.org);
    if (m.basename === undefined && c.basename !== undefined) m.basename = c.basename;
    if (m.finetune === undefined && c.finetune !== undefined) m.finetune = c.finetune;
    if (m.version === undefined && c.version !== undefined) m.version = c.version;
    if (m.sizeLabel === undefined && c.sizeLabel !== undefined) m.sizeLabel = c.sizeLabel;
  };
  const nameOrPath = hfParams._name_or_path;
  if (typeof nameOrPath === 'string' && (nameOrPath.match(/\//g) ?? []).length <= 1) apply(modelIdComponents(nameOrPath, totalParams));
  apply(modelIdComponents(dirName, totalParams));
  // convert_hf_to_gguf.py prepare_metadata fallbacks
  m.name ??= dirName;
  if (m.sizeLabel === undefined && totalParams > 0) m.sizeLabel = sizeLabel(totalParams);
  return m;
}

/** Metadata.set_gguf_meta_model (GGUFWriter skips empty strings and empty lists). */
export function metadataKvs(m: ModelMetadata): GgufKv[] {
  const out: GgufKv[] = [];
  const s = (key: string, v: unknown): void => {
    const text = str(v);
    if (text !== undefined && text !== '') out.push(kv.str(key, text));
  };
  // Metadata.load reads these generation_config.json keys (note: HF's own names only for top_k, top_p, min_p and
  // temperature); add_int32 / add_float32 / add_string as GGUFWriter types them
  const g = m.sampling ?? {};
  const samplingKeys: [string, string, 'str' | 'i32' | 'f32'][] = [
    ['sequence', 'general.sampling.sequence', 'str'], ['top_k', 'general.sampling.top_k', 'i32'], ['top_p', 'general.sampling.top_p', 'f32'],
    ['min_p', 'general.sampling.min_p', 'f32'], ['xtc_probability', 'general.sampling.xtc_probability', 'f32'],
    ['xtc_threshold', 'general.sampling.xtc_threshold', 'f32'], ['temperature', 'general.sampling.temp', 'f32'],
    ['penalty_last_n', 'general.sampling.penalty_last_n', 'i32'], ['penalty_repeat', 'general.sampling.penalty_repeat', 'f32'],
    ['mirostat', 'general.sampling.mirostat', 'i32'], ['mirostat_tau', 'general.sampling.mirostat_tau', 'f32'],
    ['mirostat_eta', 'general.sampling.mirostat_eta', 'f32'],
  ];
  for (const [from, key, type] of samplingKeys) {
    const v = g[from];
    if (v === undefined || v === null) continue;
    if (type === 'str') s(key, v);
    else if (typeof v === 'number') out.push(type === 'i32' ? kv.i32(key, v) : kv.f32(key, v));
  }
  s('general.name', m.name);
  s('general.author', m.author);
  s('general.version', m.version);
  s('general.organization', m.organization);
  s('general.finetune', m.finetune);
  s('general.basename', m.basename);
  s('general.description', m.description);
  s('general.quantized_by', m.quantizedBy);
  s('general.size_label', m.sizeLabel);
  if (m.license !== undefined) s('general.license', Array.isArray(m.license) ? m.license.join(',') : m.license);
  s('general.license.name', m.licenseName);
  s('general.license.link', m.licenseLink);
  s('general.url', m.url);
  s('general.doi', m.doi);
  s('general.uuid', m.uuid);
  s('general.repo_url', m.repoUrl);
  s('general.source.url', m.sourceUrl);
  s('general.source.doi', m.sourceDoi);
  s('general.source.uuid', m.sourceUuid);
  s('general.source.repo_url', m.sourceRepoUrl);
  const entries = (prefix: string, countKey: string, list: Json[] | undefined): void => {
    if (list === undefined) return;
    out.push(kv.u32(countKey, list.length));
    list.forEach((entry, i) => {
      for (const field of ['name', 'author', 'version', 'organization', 'description', 'url', 'doi', 'uuid', 'repo_url']) {
        if (field in entry) s(`${prefix}.${i}.${field}`, entry[field]);
      }
    });
  };
  entries('general.base_model', 'general.base_model.count', m.baseModels);
  entries('general.dataset', 'general.dataset.count', m.datasets);
  if (m.tags !== undefined && m.tags.length > 0) out.push(kv.strArray('general.tags', m.tags.map(String)));
  if (m.languages !== undefined && m.languages.length > 0) out.push(kv.strArray('general.languages', m.languages.map(String)));
  return out;
}
