/**
 * The registry of license rules: one module per finding id. Its order is the order findings are reported in (lineage
 * rules, then per license version, then the shipped directory, then waivers); FINDING_IDS, the SARIF rules and the
 * README table all come from this list.
 */
import { aupProhibited } from './aup-prohibited.ts';
import { builtWith } from './built-with.ts';
import { euMultimodal } from './eu-multimodal.ts';
import { flowDown } from './flow-down.ts';
import { licenseCopy } from './license-copy.ts';
import { licenseText } from './license-text.ts';
import { licenseUnknown } from './license-unknown.ts';
import { lineageEmpty } from './lineage-empty.ts';
import { mauThreshold } from './mau-threshold.ts';
import { mauUndeclared } from './mau-undeclared.ts';
import { namingPrefix } from './naming-prefix.ts';
import { noticeFile } from './notice-file.ts';
import { outputsTraining } from './outputs-training.ts';
import { researchOnly } from './research-only.ts';
import { waiverUnmatched } from './waiver-unmatched.ts';

export const RULES = [
  lineageEmpty,
  licenseUnknown,
  licenseText,
  mauUndeclared,
  mauThreshold,
  namingPrefix,
  builtWith,
  outputsTraining,
  euMultimodal,
  aupProhibited,
  researchOnly,
  flowDown,
  licenseCopy,
  noticeFile,
  waiverUnmatched,
] as const;

export type FindingId = (typeof RULES)[number]['id'];

export const FINDING_IDS: readonly FindingId[] = RULES.map((rule) => rule.id);

/** The rules as a Markdown table (id, what it checks, default SARIF level), for the README. */
export function findingRulesMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = RULES.map((rule) => `| \`${rule.id}\` | ${cell(rule.title)}: ${cell(rule.description)} | ${rule.level} |`);
  return ['| id | what it checks | SARIF level |', '|---|---|---|', ...rows].join('\n') + '\n';
}
