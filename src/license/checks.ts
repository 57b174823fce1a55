/**
 * The checks: each written once, reading the catalog entry of every license version in the lineage. A finding has a
 * stable id (FINDING_IDS), cites the license version and section, says why and how to fix, and is blocking unless
 * stated. Waivers never hide a finding: a waived finding stays in the report with its reason and stops blocking.
 */
import type { LlamaConfig } from '../config/schema.ts';
import { AUP_CATEGORIES, getLicense, licenseFromHfMetadata, type LicenseEntry, type Via } from './catalog.ts';
import { walkLineage, type Lineage, type LineageNode } from './lineage.ts';
import { lineageLicenses, noticeLines } from './notice.ts';
import { hasEmittableText } from './texts.ts';

export const FINDING_IDS = [
  'mau-threshold',
  'mau-undeclared',
  'naming-prefix',
  'built-with',
  'outputs-training',
  'eu-multimodal',
  'aup-prohibited',
  'license-text',
  'license-unknown',
  'research-only',
  'flow-down',
  'license-copy',
  'notice-file',
  'lineage-empty',
  'waiver-unmatched',
] as const;
export type FindingId = (typeof FINDING_IDS)[number];

/** One line per finding id: what the rule checks (SARIF rule descriptions, `--help`). */
export const FINDING_RULES: Readonly<Record<FindingId, { title: string; description: string }>> = {
  'mau-threshold': { title: 'Monthly active users above the license threshold', description: 'Meta: more than 700 million MAU (licensee and affiliates) in the calendar month before the version release date; Qwen / Tongyi Qianwen: more than 100 million MAU in commercial use.' },
  'mau-undeclared': { title: 'Monthly active users not declared for a month the clause needs', description: 'licensee.monthlyActiveUsers lacks the figure a user-threshold clause is measured on.' },
  'naming-prefix': { title: 'Model name does not begin with the required prefix', description: 'Llama 3: "Llama 3"; Llama 3.1 and later: "Llama" (also when only outputs were used). Llama 2 has no naming rule.' },
  'built-with': { title: 'Attribution line missing from the product documentation', description: '"Built with Meta Llama 3" (Llama 3), "Built with Llama" (3.1+), "Built with Qwen" or "Improved using Qwen" (Qwen 2024).' },
  'outputs-training': { title: 'Outputs used to improve another model', description: 'Llama 2, Llama 3 and Tongyi Qianwen forbid using outputs to improve any other large language model except derivatives of the same version.' },
  'eu-multimodal': { title: 'Multimodal Llama model and an EU-established licensee', description: 'The Llama 3.2, 3.3 and 4 use policies withhold the §1(a) rights for multimodal models from individuals domiciled, or companies with their principal place of business, in the EU.' },
  'aup-prohibited': { title: 'Intended use in a prohibited category', description: 'A declared intended use falls in a category of the version\'s acceptable / prohibited use policy.' },
  'license-text': { title: 'License text differs from the catalog text', description: 'A LICENSE / USE_POLICY file does not match the catalog text of the license it claims (edited, tampered, or another license).' },
  'license-unknown': { title: 'License of an ancestor cannot be determined', description: 'No model card metadata, LICENSE text or hub card determines a catalog license for an ancestor.' },
  'research-only': { title: 'Research-only license with commercial use', description: 'A non-commercial / research license in the lineage while licensee.commercial is true.' },
  'flow-down': { title: 'Use restrictions and modification notices must flow down', description: 'Advisory: pass the use restrictions on as an enforceable provision (Gemma, DeepSeek) and mark modified files (Gemma, Qwen, Tongyi Qianwen, DeepSeek).' },
  'license-copy': { title: 'A copy of the agreement is missing', description: 'The license requires a copy of the agreement for recipients. Advisory when llama-dist has no byte-exact text to emit (take the LICENSE file from the base model repository); blocking with --require-files when the checkpoint carries no copy.' },
  'notice-file': { title: 'NOTICE file lacks a required sentence', description: 'With --require-files: the checkpoint\'s "Notice" text file must carry each upstream attribution sentence exactly (Llama §1.b.iii, Qwen/Tongyi §3.c, Gemma §3.1 item 4).' },
  'lineage-empty': { title: 'No base model to check against', description: 'derivative.baseModels and trainedOnOutputsOf are empty and the checkpoint card names no base_model, so no license could be checked.' },
  'waiver-unmatched': { title: 'A waiver matches no finding', description: 'Advisory: a waiver in the configuration names a finding that did not occur (misspelt id or stale waiver).' },
};

export type Severity = 'blocking' | 'advisory';

export interface Finding {
  id: FindingId;
  /** Unique within a report: id, plus the license and the subject when one id occurs several times. */
  key: string;
  severity: Severity;
  license: string | null;
  licenseName: string | null;
  section: string | null;
  /** "Llama 3.1 Community License Agreement §1.b.i". */
  citation: string;
  /** The lineage entry (repo id or path) the finding is about, when it is about one. */
  subject?: string;
  /** The file the finding is about (a LICENSE, NOTICE or docs file), when it is about one. */
  file?: string;
  message: string;
  why: string;
  fix: string;
  waived: { reason: string } | null;
}

export interface Obligation {
  license: string;
  section: string;
  citation: string;
  text: string;
}

export interface LicenseSummary {
  id: string;
  name: string;
  spdx: string;
  via: Via;
  date: string | null;
  dateKind: LicenseEntry['dateKind'];
}

export interface LicenseReport {
  derivative: {
    name: string | null;
    version: string | null;
    relation: string | null;
    distribution: 'weights' | 'service' | 'both';
    multimodal: boolean | null;
  };
  lineage: Lineage;
  licenses: LicenseSummary[];
  obligations: Obligation[];
  notice: string[];
  findings: Finding[];
  /** True when a blocking finding is not waived (`llama license check` exits 3). */
  blocking: boolean;
  counts: { blocking: number; advisory: number; waived: number };
}

export interface CheckOptions {
  /** The product documentation (`docs` in the config), read by the caller; undefined when not configured. */
  docs?: { path: string; text: string };
  /** "Now" for ongoing user-threshold tests (Qwen); default: the current date. */
  now?: Date;
  /**
   * The derivative directory is what will be shipped: it must hold a copy of every agreement and a NOTICE file with
   * every required sentence (`llama license check DIR --require-files`). Off for a package's input checkpoint, whose
   * files `llama package` produces.
   */
  requireFiles?: boolean;
}

type CheckConfig = Pick<LlamaConfig, 'derivative' | 'licensee' | 'intendedUses' | 'waivers'>;

interface Draft extends Omit<Finding, 'waived' | 'key' | 'licenseName' | 'citation'> {
  subjectKey?: string;
}

/** Run every check of every license version in the lineage. */
export function checkDerivative(config: CheckConfig, lineage: Lineage, options: CheckOptions = {}): LicenseReport {
  const derivative = config.derivative;
  const licensee = config.licensee ?? {};
  const nodes = walkLineage(lineage);
  const licenses = lineageLicenses(lineage);
  const drafts: Draft[] = [];
  const materials = new Set(nodes.filter((n) => n.via === 'materials' && n.license !== null).map((n) => n.license as string));

  if (lineage.roots.length === 0) {
    drafts.push({
      id: 'lineage-empty', severity: 'blocking', license: null, section: null,
      message: 'No base model is configured, so no license was checked.',
      why: 'An empty lineage would pass every check without checking anything.',
      fix: 'List the direct bases in derivative.baseModels (hub repo ids or checkpoint directories), or give the checkpoint directory whose card names base_model.',
    });
  }
  // license-unknown and license-text: about the lineage itself.
  for (const node of nodes) {
    if (node.license === null) {
      drafts.push({
        id: 'license-unknown', severity: 'blocking', license: null, section: null, subject: node.ref,
        message: `The license of ${node.ref} cannot be determined: ${node.problems.join('; ') || 'no evidence'}.`,
        why: 'Every ancestor\'s license decides what the derivative owes; an unknown one may forbid the release outright.',
        fix: node.kind === 'hub'
          ? 'Run without --offline (hub access), pull the base model so it is in the cache, or point baseModels at the local checkpoint directory.'
          : 'Add `license:` (and `license_name:` for `other`) to the checkpoint\'s README.md front matter, or put the upstream LICENSE file in the checkpoint.',
      });
    }
    for (const text of node.texts) {
      if (text.status === 'ok') continue;
      const entry = text.expected ? getLicense(text.expected) : undefined;
      drafts.push(textFinding(entry, node.ref, text.file, text.status, text.identification));
    }
  }
  if (lineage.derivative) {
    // What the derivative's own texts may be: a license of the lineage, or the one its card names (a pulled base
    // snapshot has no lineage above it, only its card). An exact copy of one of those is never a finding.
    const card = lineage.derivative.card;
    const declared = card ? licenseFromHfMetadata(card.license, card.licenseName) : undefined;
    const expected = [...licenses.map((l) => l.entry), ...(declared && !licenses.some((l) => l.entry.id === declared.id) ? [declared] : [])];
    for (const text of lineage.derivative.texts) {
      const id = text.identification;
      const verbatim = id.match === 'exact' || id.match === 'variant' || id.match === 'marker';
      if (verbatim && (expected.length === 0 || expected.some((e) => e.id === id.license))) continue;
      const status = id.license === null ? 'unrecognised' : !verbatim ? 'tampered' : 'other-license';
      const entry = status === 'other-license' ? expected[0] : id.license ? getLicense(id.license) : undefined;
      drafts.push(textFinding(entry, lineage.derivative.dir, text.file, status, id, status === 'other-license' ? expected : undefined));
    }
  }

  const multimodalConfigured = derivative?.multimodal;
  for (const { entry, via } of licenses) {
    const entryNodes = nodes.filter((n) => n.license === entry.id);
    const subject = entryNodes[0]?.ref;
    drafts.push(...userThreshold(entry, licensee, options.now ?? new Date(), subject));
    drafts.push(...naming(entry, via, derivative?.name, subject));
    drafts.push(...builtWith(entry, via, options.docs, subject));
    // Outputs of a version that forbids improving other LLMs, while the derivative is not built on that same version.
    if (entry.outputs && entryNodes.some((n) => n.via === 'outputs') && !materials.has(entry.id)) {
      drafts.push({
        id: 'outputs-training', severity: 'blocking', license: entry.id, section: entry.outputs.section, subject,
        message: `Outputs of ${subject ?? entry.short} (${entry.short}) were used to create or train this model, which is not a derivative of ${entry.short}.`,
        why: `“${entry.outputs.quote}” Later versions (Llama 3.1+, Qwen 2024) replaced this ban with naming/attribution duties; this one did not.`,
        fix: `Remove ${subject ?? 'that model'} from trainedOnOutputsOf (retrain without its outputs), or build on ${entry.short} itself.`,
      });
    }
    if (entry.euMultimodal) {
      const detected = entryNodes.some((n) => n.multimodal === true);
      const multimodal = multimodalConfigured ?? (detected ? true : entryNodes.every((n) => n.multimodal === false) ? false : null);
      if (multimodal === true && licensee.euEstablished === true) {
        drafts.push({
          id: 'eu-multimodal', severity: 'blocking', license: entry.id, section: entry.euMultimodal.section, subject,
          message: `${entry.short} multimodal model, and the licensee is established in the EU: the §1(a) rights are not granted.`,
          why: `“${entry.euMultimodal.quote}” (in the use policy, not the license text; only multimodal models, only the EU).`,
          fix: 'Distribute through an entity whose principal place of business is outside the EU, or use a text-only model; end users of a product are exempt.',
        });
      } else if (multimodal === true && licensee.euEstablished === undefined) {
        drafts.push({
          id: 'eu-multimodal', severity: 'advisory', license: entry.id, section: entry.euMultimodal.section, subject,
          message: `${entry.short} multimodal model, and licensee.euEstablished is not declared.`,
          why: `The ${entry.short} use policy withholds the §1(a) rights for multimodal models from EU-established licensees.`,
          fix: 'Set licensee.euEstablished (true for an individual domiciled in, or a company with its principal place of business in, the EU).',
        });
      } else if (multimodal === null && licensee.euEstablished === true) {
        drafts.push({
          id: 'eu-multimodal', severity: 'advisory', license: entry.id, section: entry.euMultimodal.section, subject,
          message: `Could not tell whether the ${entry.short} model is multimodal, and the licensee is established in the EU.`,
          why: `The ${entry.short} use policy withholds the §1(a) rights for multimodal models from EU-established licensees; text-only models are outside it.`,
          fix: 'Set derivative.multimodal (false for a text-only model).',
        });
      }
    }
    drafts.push(...prohibitedUses(entry, via, config.intendedUses ?? [], subject));
    if (!entry.commercialUse) {
      if (licensee.commercial === true) {
        drafts.push({
          id: 'research-only', severity: 'blocking', license: entry.id, section: entry.commercialSection ?? null, subject,
          message: `${entry.name} allows non-commercial use only, and licensee.commercial is true.`,
          why: `${entry.short} grants rights for research or evaluation purposes only; commercial use needs a separate license from ${entry.licensor}.`,
          fix: `Obtain a commercial license from ${entry.licensor}, or replace ${subject ?? 'the base'} with a commercially licensed model.`,
        });
      } else if (licensee.commercial === undefined) {
        drafts.push({
          id: 'research-only', severity: 'advisory', license: entry.id, section: entry.commercialSection ?? null, subject,
          message: `${entry.name} allows non-commercial use only; licensee.commercial is not declared.`,
          why: `${entry.short} grants rights for research or evaluation purposes only.`,
          fix: 'Set licensee.commercial: false to confirm non-commercial use (or obtain a commercial license).',
        });
      }
    }
    const reaches = via === 'materials' || entry.flowDown.throughOutputs;
    if (reaches && (entry.flowDown.useRestrictions || entry.flowDown.modifiedFiles)) {
      const duties: string[] = [];
      if (entry.flowDown.useRestrictions) duties.push(`include the use restrictions as an enforceable provision in the terms you distribute under and tell recipients they apply (${entry.flowDown.useRestrictions})`);
      if (entry.flowDown.modifiedFiles) duties.push(`make modified files carry prominent notices that you changed them (${entry.flowDown.modifiedFiles})`);
      drafts.push({
        id: 'flow-down', severity: 'advisory', license: entry.id, section: entry.flowDown.useRestrictions ?? entry.flowDown.modifiedFiles ?? null, subject,
        message: `${entry.short}: ${duties.join('; ')}.`,
        why: via === 'outputs' ? `${entry.short} counts models trained on its outputs as derivatives, so its duties reach this model.` : `${entry.short} requires it of every distribution of the model or its derivatives.`,
        fix: 'Add the provisions to the terms shipped with the model and keep change notices in modified files; waive this advisory once done.',
      });
    }
    if (reaches && !hasEmittableText(entry) && entry.family !== 'permissive') {
      drafts.push({
        id: 'license-copy', severity: 'advisory', license: entry.id, section: entry.flowDown.copyOfAgreement, subject,
        message: `A copy of the ${entry.name} must go to recipients, and llama-dist has no byte-exact copy of it to emit.`,
        why: 'Only third-party transcriptions of this text exist here; emitting one could misstate the terms.',
        fix: 'Copy the LICENSE file from the base model repository into the package (it is identified against the catalog).',
      });
    }
  }

  if (options.requireFiles && lineage.derivative) drafts.push(...shippedFiles(lineage.derivative, licenses, derivative?.distribution ?? 'weights'));

  const findings = applyWaivers(drafts, config.waivers ?? []);
  const counts = {
    blocking: findings.filter((f) => f.severity === 'blocking' && !f.waived).length,
    advisory: findings.filter((f) => f.severity === 'advisory' && !f.waived).length,
    waived: findings.filter((f) => f.waived).length,
  };
  const distribution = derivative?.distribution ?? 'weights';
  const multimodalAny = nodes.some((n) => n.multimodal === true);
  return {
    derivative: {
      name: derivative?.name ?? null,
      version: derivative?.version ?? null,
      relation: derivative?.relation ?? null,
      distribution,
      multimodal: multimodalConfigured ?? (multimodalAny ? true : nodes.length > 0 && nodes.every((n) => n.multimodal === false) ? false : null),
    },
    lineage,
    licenses: licenses.map(({ entry, via }) => ({ id: entry.id, name: entry.name, spdx: entry.spdx, via, date: entry.date, dateKind: entry.dateKind })),
    obligations: licenses.flatMap(({ entry, via }) => obligationsOf(entry, via)),
    notice: noticeLines(licenses, { distribution }).map((l) => l.sentence),
    findings,
    blocking: counts.blocking > 0,
    counts,
  };
}

/** The copies of the agreements and the NOTICE sentences a shipped directory must hold. */
function shippedFiles(shipped: NonNullable<Lineage['derivative']>, licenses: ReadonlyArray<{ entry: LicenseEntry; via: Via }>, distribution: 'weights' | 'service' | 'both'): Draft[] {
  const drafts: Draft[] = [];
  for (const { entry, via } of licenses) {
    if (via !== 'materials' && !entry.flowDown.throughOutputs) continue;
    const copy = shipped.texts.some((t) => t.identification.license === entry.id && t.identification.role === 'license' && t.identification.match !== 'similar' && t.identification.match !== 'none');
    if (copy) continue;
    drafts.push({
      id: 'license-copy', severity: 'blocking', license: entry.id, section: entry.flowDown.copyOfAgreement, subject: shipped.dir,
      message: `${shipped.dir} holds no copy of the ${entry.name}.`,
      why: `${entry.short} ${entry.flowDown.copyOfAgreement} requires a copy of the agreement with every distribution.`,
      fix: hasEmittableText(entry) ? `Add the verbatim text (llama package emits templates/licenses/${entry.id}/LICENSE.txt).` : 'Copy the LICENSE file from the base model repository into the directory.',
    });
  }
  const required = noticeLines(licenses, { distribution });
  if (required.length === 0) return drafts;
  const have = shipped.notice ? shipped.notice.text.replace(/\s+/g, ' ') : '';
  for (const line of required) {
    if (have.includes(line.sentence)) continue;
    const entry = getLicense(line.license);
    drafts.push({
      id: 'notice-file', severity: 'blocking', license: line.license, section: line.section, subject: shipped.dir,
      ...(shipped.notice ? { file: shipped.notice.file } : {}),
      message: shipped.notice ? `${shipped.notice.file} does not contain the exact sentence “${line.sentence}”.` : `${shipped.dir} has no NOTICE file; it must contain “${line.sentence}”.`,
      why: `${entry?.short ?? line.license} ${line.section} prescribes this attribution notice, word for word, in a “Notice” text file distributed with the copies.`,
      fix: 'Write the NOTICE with `llama license notice > NOTICE` (or let `llama package` emit it).',
    });
  }
  return drafts;
}

/**
 * `entry`: the license the file should be. `allowed`: for a derivative's own file, every license it may be (the
 * lineage's and its card's), named in the message.
 */
function textFinding(entry: LicenseEntry | undefined, subject: string, file: string, status: LineageNode['texts'][number]['status'], id: LineageNode['texts'][number]['identification'], allowed?: readonly LicenseEntry[]): Draft {
  const diff = id.difference ? ` First difference at word ${id.difference.index + 1}: expected “${id.difference.expected}”, found “${id.difference.actual}”.` : '';
  const expectedNames = allowed && allowed.length > 0 ? allowed.map((e) => e.name).join(' or the ') : entry?.name ?? 'license the lineage names';
  const what = status === 'tampered'
    ? `${file} is not the ${id.licenseName} text: it is ${(id.similarity * 100).toFixed(1)}% similar but its words differ.${diff}`
    : status === 'other-license'
      ? `${file} is the ${id.licenseName}, not the ${expectedNames}.`
      : `${file} matches no catalog license text (best similarity ${(id.similarity * 100).toFixed(1)}%).`;
  return {
    id: 'license-text', severity: 'blocking', license: entry?.id ?? id.license, section: null, subject, file,
    message: what,
    why: 'The license requires a copy of the agreement itself; an edited or different text misstates the terms recipients get.',
    fix: 'Replace the file with the unmodified upstream text (`llama package` emits the verbatim copy), or correct the model card if it names the wrong license.',
  };
}

/** The figure for a calendar month: a single number stands for every month. */
function usersFor(mau: NonNullable<CheckConfig['licensee']>['monthlyActiveUsers'], month: string): number | undefined {
  if (mau === undefined) return undefined;
  if (typeof mau === 'number') return mau;
  return mau[month];
}

/** YYYY-MM of the calendar month before a YYYY-MM-DD date (UTC calendar arithmetic, no time zones involved). */
export function previousMonth(date: string): string {
  const [y, m] = date.split('-').map(Number) as [number, number];
  const year = m === 1 ? y - 1 : y;
  const month = m === 1 ? 12 : m - 1;
  return `${year}-${String(month).padStart(2, '0')}`;
}

function monthOf(date: Date): string {
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The date a release-month threshold is measured against (the catalog gives every such entry one). */
function anchorOf(entry: LicenseEntry, rule: NonNullable<LicenseEntry['users']>): string {
  const anchor = rule.anchorDate ?? entry.date;
  if (anchor === null) throw new Error(`catalog: ${entry.id} has a release-month user threshold but no date`);
  return anchor;
}

function userThreshold(entry: LicenseEntry, licensee: NonNullable<CheckConfig['licensee']>, now: Date, subject: string | undefined): Draft[] {
  const rule = entry.users;
  if (!rule) return [];
  if (rule.commercialOnly && licensee.commercial === false) return [];
  const mau = licensee.monthlyActiveUsers;
  const scope = rule.scope === 'licensee-and-affiliates' ? 'the products and services of the licensee and its affiliates' : 'your product or service';
  let month: string;
  let figure: number | undefined;
  if (rule.measure === 'release-month') {
    month = previousMonth(anchorOf(entry, rule));
    figure = usersFor(mau, month);
  } else {
    // An ongoing test: the current calendar month, else the last completed one.
    const current = monthOf(now);
    const last = previousMonth(`${current}-01`);
    month = typeof mau === 'object' && mau[current] === undefined ? last : current;
    figure = usersFor(mau, month);
  }
  const dateWord = entry.dateKind === 'effective' ? 'effective date' : 'release date';
  const when = rule.measure === 'release-month'
    ? `in ${month}, the calendar month before the ${entry.short} ${dateWord} (${anchorOf(entry, rule)})`
    : `in ${month} (the test is ongoing)`;
  if (figure === undefined) {
    return [{
      id: 'mau-undeclared', severity: 'blocking', license: entry.id, section: rule.section, subject,
      message: `licensee.monthlyActiveUsers has no figure for ${month}, which ${entry.short} ${rule.section} is measured on.`,
      why: `“${rule.quote}” The figure counts ${scope}.`,
      fix: `Declare licensee.monthlyActiveUsers (a number, or { "${month}": N }) for ${scope}.`,
    }];
  }
  if (figure > rule.threshold) {
    return [{
      id: 'mau-threshold', severity: 'blocking', license: entry.id, section: rule.section, subject,
      message: `${figure.toLocaleString('en-US')} monthly active users ${when} is more than ${rule.threshold.toLocaleString('en-US')}: ${entry.short} grants no rights without a separate license.`,
      why: `“${rule.quote}” The figure counts ${scope}${rule.commercialOnly ? ' in commercial use' : ''}.`,
      fix: `Request a license from ${entry.licensor} and, once granted, waive this finding with its reference.`,
    }];
  }
  return [];
}

function prefixPattern(prefix: string): RegExp {
  const words = prefix.split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const tail = /\d$/.test(prefix) ? '(?![0-9])' : '';
  return new RegExp(`^${words.join('[\\s_.-]*')}${tail}`, 'i');
}

/** Whether a model name begins with a license's required prefix (separators between words are free). */
export function nameHasPrefix(name: string, prefix: string): boolean {
  return prefixPattern(prefix).test(name.trim());
}

function naming(entry: LicenseEntry, via: Via, name: string | undefined, subject: string | undefined): Draft[] {
  const rule = entry.naming;
  if (!rule || !rule.via.includes(via)) return [];
  if (name === undefined) {
    return [{
      id: 'naming-prefix', severity: 'blocking', license: entry.id, section: rule.section, subject,
      message: `derivative.name is not configured, so the ${entry.short} naming rule cannot be checked.`,
      why: `“${rule.quote}”`,
      fix: `Set derivative.name to the distributed name, beginning with “${rule.prefix}”.`,
    }];
  }
  if (nameHasPrefix(name, rule.prefix)) return [];
  return [{
    id: 'naming-prefix', severity: 'blocking', license: entry.id, section: rule.section, subject,
    message: `“${name}” does not begin with “${rule.prefix}”, which ${entry.short} requires${via === 'outputs' ? ' even though only its outputs were used' : ''}.`,
    why: `“${rule.quote}”`,
    fix: `Rename the model to begin with “${rule.prefix}” (for example “${rule.prefix}-${name.replace(/^[^A-Za-z0-9]+/, '')}”).`,
  }];
}

function squash(text: string): string {
  return text.replace(/[“”„]/g, '"').replace(/[‘’]/g, "'").replace(/[*_`]/g, '').replace(/\s+/g, ' ').toLowerCase();
}

function builtWith(entry: LicenseEntry, via: Via, docs: CheckOptions['docs'], subject: string | undefined): Draft[] {
  const rule = entry.builtWith;
  if (!rule || !rule.via.includes(via)) return [];
  const phrases = rule.phrases.map((p) => `“${p}”`).join(' or ');
  if (docs === undefined) {
    return [{
      id: 'built-with', severity: 'advisory', license: entry.id, section: rule.section, subject,
      message: `No product documentation configured (docs): ${phrases} must be displayed on ${rule.where}.`,
      why: `${entry.short} ${rule.section} requires ${phrases}; the package's own model card will carry it.`,
      fix: `Set docs to the product documentation that shows ${phrases}, or make sure the published model card keeps it.`,
    }];
  }
  const text = squash(docs.text);
  if (rule.phrases.some((p) => text.includes(squash(p)))) return [];
  return [{
    id: 'built-with', severity: 'blocking', license: entry.id, section: rule.section, subject,
    message: `${docs.path} does not contain ${phrases}.`,
    why: `${entry.short} ${rule.section} requires ${phrases} to be displayed prominently on ${rule.where}.`,
    fix: `Add ${phrases} to ${docs.path} (or waive with the place it is shown).`,
  }];
}

/**
 * Words that turn a prohibited topic into work against it ("fraud detection", "spam filtering", "malware analysis"):
 * a free-text match in such a context is for a person to review, not a blocking finding.
 */
const DEFENSIVE = /\b(detect|filter|prevent|classif|moderat|analy[sz]|protect|defen[cs]|screen|report|flag|mitigat|counter|combat|fight|block|remov)\w*/;

export interface UseMatch {
  category: string;
  /** `id`: the use is a catalog category id; `keyword`: free text naming the topic; `defensive`: the topic in a defensive context. */
  how: 'id' | 'keyword' | 'defensive';
}

/** The catalog categories an intended use falls in: by category id, or by the category's keywords in free text. */
export function categoriesOfUse(use: string): UseMatch[] {
  const lower = use.trim().toLowerCase();
  if (AUP_CATEGORIES[lower]) return [{ category: lower, how: 'id' }];
  const how = DEFENSIVE.test(lower) ? 'defensive' : 'keyword';
  return Object.entries(AUP_CATEGORIES)
    .filter(([, category]) => category.keywords.some((k) => lower.includes(k)))
    .map(([id]) => ({ category: id, how }));
}

function prohibitedUses(entry: LicenseEntry, via: Via, uses: readonly string[], subject: string | undefined): Draft[] {
  const policy = entry.usePolicy;
  if (!policy || (via === 'outputs' && !entry.flowDown.throughOutputs)) return [];
  const drafts: Draft[] = [];
  for (const use of uses) {
    for (const { category, how } of categoriesOfUse(use)) {
      const item = policy.items.find((i) => i.category === category);
      if (!item) continue;
      const review = item.conditional === true || how === 'defensive';
      const title = AUP_CATEGORIES[category]?.title ?? category;
      const label = /^\d/.test(item.label) ? `§${item.label}` : item.label;
      drafts.push({
        id: 'aup-prohibited', severity: review ? 'advisory' : 'blocking', license: entry.id, section: `${policy.name} ${label}`, subject,
        subjectKey: `${use}:${category}`,
        message: `Intended use “${use}” ${how === 'defensive' ? 'touches' : 'falls in'} ${policy.name} ${label} (${title}).`,
        why: `${entry.short} incorporates its use policy (${policy.url}); ${item.conditional ? 'this category is prohibited only under conditions the tool cannot see (e.g. without a license, rights or consent)' : how === 'defensive' ? 'the use reads as work against this prohibited activity, which the policy does not forbid, so a person should confirm it' : 'this category is prohibited'}.`,
        fix: review ? 'Confirm the use is allowed (licensed professionals, consent obtained, or defensive work) and waive with the reason, or drop the use.' : 'Drop this intended use; the license gives no right to it.',
      });
    }
  }
  return drafts;
}

function obligationsOf(entry: LicenseEntry, via: Via): Obligation[] {
  const out: Obligation[] = [];
  const add = (section: string, text: string) => out.push({ license: entry.id, section, citation: `${entry.name} ${section}`, text });
  const reaches = via === 'materials' || entry.flowDown.throughOutputs;
  if (reaches) add(entry.flowDown.copyOfAgreement, `Give every recipient a copy of the ${entry.name}.`);
  if (entry.notice && entry.notice.via.includes(via)) add(entry.notice.section, `Ship a NOTICE file containing: “${entry.notice.sentence}”${entry.notice.notForHostedOnly ? ' (not required for hosted-only offerings)' : ''}.`);
  if (entry.builtWith && entry.builtWith.via.includes(via)) add(entry.builtWith.section, `Display ${entry.builtWith.phrases.map((p) => `“${p}”`).join(' or ')} on ${entry.builtWith.where}.`);
  if (entry.naming && entry.naming.via.includes(via)) add(entry.naming.section, `Begin the model's name with “${entry.naming.prefix}”.`);
  if (entry.usePolicy && reaches) add(entry.family === 'llama' ? '§1.b.iv' : entry.flowDown.useRestrictions ?? 'use policy', `Comply with the ${entry.usePolicy.name} (${entry.usePolicy.url}).`);
  if (entry.flowDown.useRestrictions && reaches) add(entry.flowDown.useRestrictions, 'Include the use restrictions as an enforceable provision in your terms and tell recipients they apply.');
  if (entry.flowDown.modifiedFiles && reaches) add(entry.flowDown.modifiedFiles, 'Make modified files carry prominent notices that you changed them.');
  if (entry.users) add(entry.users.section, `Request a license from ${entry.licensor} if monthly active users exceed ${entry.users.threshold.toLocaleString('en-US')}${entry.users.measure === 'release-month' ? ` in ${previousMonth(anchorOf(entry, entry.users))}` : ''}.`);
  return out;
}

function applyWaivers(drafts: Draft[], waivers: ReadonlyArray<{ finding: string; reason: string }>): Finding[] {
  const used = new Set<number>();
  const keys = new Map<string, number>();
  const findings: Finding[] = drafts.map((draft) => {
    const entry = draft.license ? getLicense(draft.license) : undefined;
    let key = draft.license ? `${draft.id}:${draft.license}` : draft.subject ? `${draft.id}:${draft.subject}` : draft.id;
    if (draft.subjectKey) key = `${key}:${draft.subjectKey}`;
    const seen = keys.get(key) ?? 0;
    keys.set(key, seen + 1);
    if (seen > 0) key = `${key}#${seen + 1}`;
    // A waiver names a finding id (all of them) or a key (`naming-prefix:llama3.1`, one of them).
    const index = waivers.findIndex((w) => w.finding === draft.id || w.finding === key);
    if (index >= 0) used.add(index);
    const { subjectKey: _subjectKey, ...rest } = draft;
    return {
      ...rest,
      key,
      licenseName: entry?.name ?? null,
      // Use-policy sections already name their document ("Llama 3.1 Acceptable Use Policy §2.a").
      citation: entry ? (draft.section && entry.usePolicy && draft.section.startsWith(entry.usePolicy.name) ? draft.section : `${entry.name}${draft.section ? ` ${draft.section}` : ''}`) : 'lineage',
      waived: index >= 0 ? { reason: (waivers[index] as { reason: string }).reason } : null,
    };
  });
  waivers.forEach((waiver, index) => {
    if (used.has(index)) return;
    findings.push({
      id: 'waiver-unmatched', key: `waiver-unmatched:${waiver.finding}`, severity: 'advisory', license: null, licenseName: null, section: null, citation: 'configuration (waivers)',
      message: `The waiver for “${waiver.finding}” matches no finding.`,
      why: 'A stale or misspelt waiver would silently stop covering the finding it was meant for.',
      fix: `Remove the waiver, or name a finding id (${FINDING_IDS.slice(0, 4).join(', ')}, …) or a finding key from the report.`,
      waived: null,
    });
  });
  return findings;
}
