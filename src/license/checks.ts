/**
 * Checking a derivative: every rule of the registry (rules/index.ts) over the lineage, each license version in it and,
 * with --require-files, the shipped directory; then the waivers. A finding has a stable id, cites the license
 * version and section, says why and how to fix, and is blocking unless stated. Waivers never hide a finding: a
 * waived finding stays in the report with its reason and stops blocking.
 */
import { getLicense, type LicenseEntry, type Via } from './catalog.ts';
import { walkLineage, type Lineage } from './lineage.ts';
import { lineageLicenses, noticeLines } from './notice.ts';
import { obligationsOf, type Obligation } from './obligations.ts';
import { FINDING_IDS, RULES, type FindingId } from './rules/index.ts';
import type { CheckConfig, CheckOptions, Draft, RuleContext, Severity } from './rules/rule.ts';
import { unmatchedWaiver } from './rules/waiver-unmatched.ts';

export { FINDING_IDS, type FindingId } from './rules/index.ts';
export type { CheckOptions, Severity } from './rules/rule.ts';
export type { Obligation } from './obligations.ts';

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

/** Run every rule over the lineage, then apply the waivers. */
export function checkDerivative(config: CheckConfig, lineage: Lineage, options: CheckOptions = {}): LicenseReport {
  const derivative = config.derivative;
  const nodes = walkLineage(lineage);
  const licenses = lineageLicenses(lineage);
  const ctx: RuleContext = {
    derivative,
    licensee: config.licensee ?? {},
    intendedUses: config.intendedUses ?? [],
    lineage,
    nodes,
    licenses,
    docs: options.docs,
    now: options.now ?? new Date(),
  };
  const drafts: Array<Draft<FindingId>> = [];
  for (const rule of RULES) drafts.push(...(rule.lineage?.(ctx) ?? []));
  for (const { entry, via } of licenses) {
    const entryNodes = nodes.filter((n) => n.license === entry.id);
    const license = { entry, via, nodes: entryNodes, subject: entryNodes[0]?.ref };
    for (const rule of RULES) drafts.push(...(rule.license?.(ctx, license) ?? []));
  }
  const shipped = lineage.derivative;
  if (options.requireFiles && shipped) {
    for (const rule of RULES) drafts.push(...(rule.shipped?.(ctx, shipped) ?? []));
  }

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
      multimodal: derivative?.multimodal ?? (multimodalAny ? true : nodes.length > 0 && nodes.every((n) => n.multimodal === false) ? false : null),
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

/** A finding's key: its id, plus the license or the subject, plus what tells apart several of one kind. */
function keyOf(draft: Draft<FindingId>): string {
  const key = draft.license ? `${draft.id}:${draft.license}` : draft.subject ? `${draft.id}:${draft.subject}` : draft.id;
  return draft.subjectKey ? `${key}:${draft.subjectKey}` : key;
}

function applyWaivers(drafts: ReadonlyArray<Draft<FindingId>>, waivers: ReadonlyArray<{ finding: string; reason: string }>): Finding[] {
  const used = new Set<number>();
  const keys = new Map<string, number>();
  const findings: Finding[] = drafts.map((draft) => {
    const entry = draft.license ? getLicense(draft.license) : undefined;
    let key = keyOf(draft);
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
    findings.push({ ...unmatchedWaiver(waiver, FINDING_IDS), key: `waiver-unmatched:${waiver.finding}`, licenseName: null, citation: 'configuration (waivers)', waived: null });
  });
  return findings;
}
