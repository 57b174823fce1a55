/**
 * The files a package carries because the licenses demand them or because users and the Hub read them: the license
 * texts and use policies byte for byte, NOTICE, and the README.md model card with Hugging Face metadata
 * (../shared/research/distribution.md §A3.1: `license` / `license_name` / `license_link`, `base_model`,
 * `base_model_relation`, `tags`).
 */
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { UsageError } from '../errors.ts';
import { splitFrontMatter } from '../util/front-matter.ts';
import { formatBytes } from '../util/bytes.ts';
import type { StagedFile } from './stage.ts';
import type { LicensePlan, PackageLicense, Relation } from './types.ts';

export const README = 'README.md';
export const NOTICE = 'NOTICE';
export const MANIFEST = 'manifest.json';
export const BOM = 'bom.cdx.json';

/**
 * Which input paths the package's own files replace: an input file there is left out rather than shipped beside
 * (or instead of) the generated one. Always README.md, NOTICE, manifest.json, bom.cdx.json and the exact names of
 * the emitted texts; the checkpoint's own license files (LICENSE, LICENSE.txt, LICENSE.md, USE_POLICY.md, and the
 * -<id> forms) only when the package emits the verbatim text of every license in the lineage, since for a license
 * the tool holds no copy of (Gemma, Qwen 2024), the checkpoint's file is the one to ship.
 */
export function generatedPathPredicate(licenses: readonly PackageLicense[]): (path: string) => boolean {
  const emitted = new Set<string>();
  for (const names of licenseFileNames(licenses).values()) {
    if (names.license) emitted.add(names.license.toLowerCase());
    if (names.usePolicy) emitted.add(names.usePolicy.toLowerCase());
  }
  const emitsAll = licenses.length > 0 && licenses.every((l) => l.licenseText !== undefined);
  return (path: string) => {
    if (path.includes('/')) return false;
    const lower = path.toLowerCase();
    if (/^(readme\.md|notice|notice\.txt|notice\.md)$/.test(lower) || lower === MANIFEST || lower === BOM || emitted.has(lower)) return true;
    return emitsAll && (/^(license|use_policy)(\.(txt|md))?$/.test(lower) || /^license-.+\.txt$/.test(lower) || /^use_policy-.+\.md$/.test(lower));
  };
}

export interface EmittedFile {
  path: string;
  data: Uint8Array;
  role: 'license' | 'use-policy' | 'notice' | 'card';
  /** Catalog id of the license the file belongs to. */
  licenseId?: string;
}

/**
 * LICENSE and USE_POLICY.md when one license applies; LICENSE-<id>.txt and USE_POLICY-<id>.md for each of several
 * (counting licenses whose text the tool does not ship, so a bare LICENSE never suggests it covers them all).
 */
export function licenseFileNames(licenses: readonly PackageLicense[]): Map<string, { license?: string; usePolicy?: string }> {
  const single = licenses.length === 1;
  const names = new Map<string, { license?: string; usePolicy?: string }>();
  for (const license of licenses) {
    const entry: { license?: string; usePolicy?: string } = {};
    if (license.licenseText !== undefined) entry.license = single ? 'LICENSE' : `LICENSE-${license.id}.txt`;
    if (license.usePolicyText !== undefined) entry.usePolicy = single ? 'USE_POLICY.md' : `USE_POLICY-${license.id}.md`;
    names.set(license.id, entry);
  }
  return names;
}

/** The verbatim texts, as bytes, never re-encoded. */
export function licenseFiles(licenses: readonly PackageLicense[]): EmittedFile[] {
  const names = licenseFileNames(licenses);
  const out: EmittedFile[] = [];
  for (const license of licenses) {
    const name = names.get(license.id);
    if (license.licenseText !== undefined && name?.license) {
      out.push({ path: name.license, data: license.licenseText, role: 'license', licenseId: license.id });
    }
    if (license.usePolicyText !== undefined && name?.usePolicy) {
      out.push({ path: name.usePolicy, data: license.usePolicyText, role: 'use-policy', licenseId: license.id });
    }
  }
  return out;
}

/** The Hub's own relation values (hub-docs model-cards.md); others are left for the Hub to infer. */
const HUB_RELATIONS = new Set(['adapter', 'merge', 'quantized', 'finetune']);

export interface CardInput {
  name: string;
  version: string;
  relation?: Relation;
  plan: LicensePlan;
  files: readonly StagedFile[];
  /** Extra tags (for example from the configuration); sorted and de-duplicated with the derived ones. */
  tags?: readonly string[];
}

export interface CardMetadata {
  license: string;
  license_name?: string;
  license_link?: string;
  base_model?: string[];
  base_model_relation?: string;
  tags: string[];
}

export function cardMetadata(input: CardInput): CardMetadata {
  const { plan } = input;
  const names = licenseFileNames(plan.licenses);
  const meta: CardMetadata = { license: 'other', tags: [] };
  const only = plan.licenses.length === 1 ? plan.licenses[0] : undefined;
  if (only?.hubId) {
    meta.license = only.hubId;
  } else if (plan.licenses.length > 0) {
    // Several license versions (a merge) or one the Hub does not know: `other` with a name and a link to the text.
    meta.license_name = plan.licenses.map((l) => l.id).join('-and-');
    const first = plan.licenses.find((l) => names.get(l.id)?.license);
    const link = first ? names.get(first.id)?.license : undefined;
    meta.license_link = link ?? NOTICE;
  }
  const bases = plan.ancestors.filter((a) => a.depth === 1 && a.role === 'base' && a.onHub).map((a) => a.id);
  if (bases.length > 0) meta.base_model = [...new Set(bases)];
  if (input.relation && HUB_RELATIONS.has(input.relation) && meta.base_model) meta.base_model_relation = input.relation;
  const tags = new Set(input.tags ?? []);
  if (plan.licenses.some((l) => l.id.startsWith('llama'))) tags.add('llama');
  if (input.relation) tags.add(input.relation);
  if (input.files.some((f) => f.path.toLowerCase().endsWith('.gguf'))) tags.add('gguf');
  if (input.files.some((f) => f.path.toLowerCase().endsWith('.safetensors'))) tags.add('safetensors');
  tags.add('llama-dist');
  meta.tags = [...tags].sort();
  return meta;
}


/** Where the package's own part of the card begins and ends: packaging a packaged card again replaces that part. */
const GENERATED_BEGIN = '<!-- llama-dist:begin (written by llama package; replaced when packaged again) -->';
const GENERATED_END = '<!-- llama-dist:end -->';

/** The package's own part of the card: version and lineage, the licenses and their files, the payload. */
function generatedSection(input: CardInput): string[] {
  const { plan } = input;
  const names = licenseFileNames(plan.licenses);
  const lines: string[] = [GENERATED_BEGIN, ''];
  const bases = plan.ancestors.filter((a) => a.depth === 1 && a.role === 'base');
  const baseText = bases.map((a) => (a.onHub ? `[${a.id}](https://huggingface.co/${a.id})` : a.id)).join(', ');
  const what = input.relation ? `a ${input.relation === 'finetune' ? 'fine-tuned' : input.relation} derivative` : 'a derivative';
  lines.push(`Version ${input.version}. ${bases.length > 0 ? `This model is ${what} of ${baseText}.` : 'This model is distributed with the license files below.'}`, '');
  const outputs = plan.ancestors.filter((a) => a.role === 'outputs');
  if (outputs.length > 0) lines.push(`Outputs of ${outputs.map((a) => a.id).join(', ')} were used to create or train it.`, '');

  lines.push('## License', '');
  if (plan.licenses.length === 0) {
    lines.push('No upstream license applies.', '');
  } else {
    for (const license of plan.licenses) {
      const files = names.get(license.id);
      const parts = [`- **${license.name}**${license.url ? ` (<${license.url}>)` : ''}`];
      if (files?.license) parts.push(`: full text in [${files.license}](${files.license})`);
      if (files?.usePolicy) parts.push(`; use is subject to the acceptable use policy in [${files.usePolicy}](${files.usePolicy})`);
      lines.push(`${parts.join('')}.`);
    }
    lines.push('');
    if (plan.notice) lines.push(`Attribution notices are in [${NOTICE}](${NOTICE}).`, '');
  }

  const payload = input.files;
  if (payload.length > 0) {
    lines.push('## Files', '', '| File | Size |', '| --- | ---: |');
    for (const file of payload) lines.push(`| \`${file.path.replace(/\|/g, '\\|')}\` | ${formatBytes(file.size)} |`);
    lines.push('', `Sizes and SHA-256 digests of every file are in [${MANIFEST}](${MANIFEST}); a CycloneDX ML-BOM is in [${BOM}](${BOM}).`, '');
  }
  lines.push(GENERATED_END);
  return lines;
}

/** Text compared for a required phrase: emphasis, quotes and spacing do not matter ("**Built with  Llama**"). */
function plain(text: string): string {
  return text.replace(/[“”„]/g, '"').replace(/[*_`]/g, '').replace(/\s+/g, ' ').toLowerCase();
}

/** The "Built with …" lines the licenses require, each once, that `body` does not already show. */
function missingBuiltWith(plan: LicensePlan, body: string): Array<{ line: string; license: string }> {
  const have = plain(body);
  const out: Array<{ line: string; license: string }> = [];
  for (const license of plan.licenses) {
    if (!license.builtWith || out.some((o) => o.line === license.builtWith) || have.includes(plain(license.builtWith))) continue;
    out.push({ line: license.builtWith, license: license.name });
  }
  return out;
}

/** `body` with `lines` right under its first `# ` title (or at the top when it has none). */
function underTitle(body: string, lines: readonly string[]): string {
  if (lines.length === 0) return body;
  const block = `${lines.join('\n\n')}\n\n`;
  const title = /^# .*(?:\r?\n|$)/m.exec(body);
  if (!title) return `${block}${body}`;
  const at = title.index + title[0].length;
  return `${body.slice(0, at).replace(/\r?\n?$/, '\n')}\n${block}${body.slice(at).replace(/^(\r?\n)+/, '')}`;
}

/** README.md without a card of the user's: YAML front matter, title, the "Built with …" lines the licenses require, lineage, license and files. */
export function renderCard(input: CardInput): string {
  return composeCard(input).text;
}

export interface ComposedCard {
  text: string;
  /** What was changed in the user's card, in words; empty when there was no card or nothing had to change. */
  changes: string[];
}

/**
 * README.md from the user's model card when there is one: its front matter keeps every key (and comment) it has,
 * with the license keys, base_model_relation and tags added or corrected; its body is kept whole, with the
 * required "Built with …" lines under its title and the package's own section after it (a previous one replaced).
 * Each change to what the user wrote is returned in words. Throws PACKAGE_CARD_INVALID for front matter that is not
 * a YAML mapping (it would otherwise be lost).
 */
export function composeCard(input: CardInput, user?: { text: string; shown: string }): ComposedCard {
  const ours = cardMetadata(input);
  const changes: string[] = [];
  const split = user ? splitFrontMatter(user.text) : { yaml: undefined, body: `# ${input.name}\n` };
  const doc = parseDocument(split.yaml ?? '');
  if (doc.errors.length > 0 || !(doc.contents === null || isMap(doc.contents))) {
    throw new UsageError('PACKAGE_CARD_INVALID', `The model card ${user?.shown ?? README} has front matter that is not a YAML mapping${doc.errors[0] ? ` (${doc.errors[0].message.split('\n')[0]})` : ''}.`, {
      hint: 'Fix the YAML between the two --- lines (key: value lines), or remove it; the package would otherwise drop the card\'s metadata.',
      details: { file: user?.shown ?? README },
    });
  }
  const show = (value: unknown) => (Array.isArray(value) ? value.join(', ') : typeof value === 'object' ? JSON.stringify(value) : String(value));
  // A key's value as plain data (a list or mapping node as its JSON).
  const valueOf = (key: string): unknown => {
    const node: unknown = doc.get(key);
    return isScalar(node) || isSeq(node) || isMap(node) ? node.toJSON() : node;
  };
  const setKey = (key: string, value: unknown, why?: string) => {
    const before = valueOf(key);
    if (JSON.stringify(before) === JSON.stringify(value)) return;
    doc.set(key, value);
    if (user) changes.push(before === undefined ? `${key}: added ${show(value)}${why ? ` (${why})` : ''}` : `${key}: ${show(before)} → ${show(value)}${why ? ` (${why})` : ''}`);
  };
  const deleteKey = (key: string, why: string) => {
    const before = valueOf(key);
    if (before === undefined) return;
    doc.delete(key);
    if (user) changes.push(`${key}: removed ${show(before)} (${why})`);
  };
  const licenseWhy = input.plan.licenses.length > 0 ? `the lineage is under ${input.plan.licenses.map((l) => l.name).join(' and ')}` : undefined;
  setKey('license', ours.license, licenseWhy);
  for (const key of ['license_name', 'license_link'] as const) {
    if (ours[key] !== undefined) setKey(key, ours[key], licenseWhy);
    else deleteKey(key, `license ${ours.license} is a license the Hub knows by its id`);
  }
  // The card's own base_model is kept unless the lineage names other Hub models.
  const strings = (value: unknown): string[] => [value].flat().filter((v): v is string => typeof v === 'string');
  const theirBaseList = strings(valueOf('base_model'));
  if (ours.base_model && JSON.stringify([...theirBaseList].sort()) !== JSON.stringify([...ours.base_model].sort())) setKey('base_model', ours.base_model, 'the configured lineage');
  const hasBase = ours.base_model !== undefined || theirBaseList.length > 0;
  if (hasBase && input.relation && HUB_RELATIONS.has(input.relation)) setKey('base_model_relation', input.relation, 'derivative.relation');
  const theirTags = strings(valueOf('tags'));
  const addedTags = ours.tags.filter((t) => !theirTags.includes(t));
  if (addedTags.length > 0) {
    doc.set('tags', [...theirTags, ...addedTags]);
    if (user) changes.push(`tags: added ${addedTags.join(', ')}`);
  }

  // The body: the user's (less a section an earlier package wrote), the required lines, then this package's section.
  let body = split.body;
  const begin = body.indexOf(GENERATED_BEGIN);
  const end = body.indexOf(GENERATED_END, begin);
  if (begin >= 0 && end >= 0) body = `${body.slice(0, begin)}${body.slice(end + GENERATED_END.length)}`;
  const missing = missingBuiltWith(input.plan, body);
  const where = /^# /m.test(body) ? 'under the title' : 'at the top';
  for (const { line, license } of missing) if (user) changes.push(`added “${line}” ${where} (${license} requires it to be displayed)`);
  body = underTitle(body, missing.map(({ line }) => `**${line}**`)).trimEnd();
  const yaml = doc.toString({ lineWidth: 0 }).trimEnd();
  const text = `---\n${yaml}\n---\n\n${body}\n\n${generatedSection(input).join('\n').trimEnd()}\n`;
  return { text, changes };
}
