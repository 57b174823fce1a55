/**
 * The files a package carries because the licenses demand them or because users and the Hub read them: the license
 * texts and use policies byte for byte, NOTICE, and the README.md model card with Hugging Face metadata
 * (../shared/research/distribution.md §A3.1: `license` / `license_name` / `license_link`, `base_model`,
 * `base_model_relation`, `tags`).
 */
import { stringify } from 'yaml';
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


/** README.md: YAML front matter, the "Built with …" lines the licenses require, lineage, license and files. */
export function renderCard(input: CardInput): string {
  const meta = cardMetadata(input);
  const { plan } = input;
  const names = licenseFileNames(plan.licenses);
  const lines: string[] = [];
  lines.push('---', stringify(meta, { lineWidth: 0 }).trimEnd(), '---', '');
  lines.push(`# ${input.name}`, '');
  const builtWith = [...new Set(plan.licenses.map((l) => l.builtWith).filter((b): b is string => Boolean(b)))];
  for (const line of builtWith) lines.push(`**${line}**`, '');
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
  return `${lines.join('\n').trimEnd()}\n`;
}
