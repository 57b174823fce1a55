/**
 * Report renderers: plain text for people and CI logs, JSON (the report object itself), and SARIF 2.1.0 for code
 * scanning UIs. Waived findings stay visible everywhere: in SARIF as results with an external suppression carrying
 * the reason (SARIF 2.1.0 §3.27.23 `suppressions`), so a viewer shows them as suppressed, not absent.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding, LicenseReport } from './checks.ts';
import { FINDING_IDS, RULES } from './rules/index.ts';
import type { Lineage, LineageNode } from './lineage.ts';
import { getLicense } from './catalog.ts';

export type ReportFormat = 'text' | 'json' | 'sarif';

const EVIDENCE: Record<LineageNode['evidence'][number]['source'], string> = {
  card: 'model card',
  'license-file': 'LICENSE text',
  'hub-card': 'hub card',
  config: 'configuration',
};

function describeNode(node: LineageNode): string {
  const entry = node.license ? getLicense(node.license) : undefined;
  const license = entry ? `${entry.name} [${entry.id}]` : `license undetermined${node.declared.license ? ` (card: ${node.declared.license}${node.declared.licenseName ? `/${node.declared.licenseName}` : ''})` : ''}`;
  const how = node.edge === 'outputs' ? ' (outputs used)' : '';
  const mm = node.multimodal === true ? ', multimodal' : '';
  const from = node.evidence[0] ? ` (from the ${EVIDENCE[node.evidence[0].source]})` : '';
  const why = node.license === null && node.problems.length > 0 ? `: ${node.problems.map((p) => p.message).join('; ')}` : '';
  return `${node.ref}${how} — ${license}${from}${mm}${why}`;
}

function renderLineageTree(lineage: Lineage): string[] {
  const lines: string[] = [];
  const visit = (node: LineageNode, prefix: string, last: boolean) => {
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${describeNode(node)}`);
    const childPrefix = prefix + (last ? '   ' : '│  ');
    node.parents.forEach((parent, i) => visit(parent, childPrefix, i === node.parents.length - 1));
  };
  lineage.roots.forEach((root, i) => visit(root, '', i === lineage.roots.length - 1));
  return lines;
}

function findingLines(finding: Finding): string[] {
  const tag = finding.waived ? `WAIVED ${finding.severity}` : finding.severity === 'blocking' ? 'BLOCKING' : 'advisory';
  const lines = [`[${tag}] ${finding.key} — ${finding.citation}`, `  ${finding.message}`, `  why: ${finding.why}`, `  fix: ${finding.fix}`];
  if (finding.waived) lines.push(`  waived: ${finding.waived.reason}`);
  return lines;
}

export function renderText(report: LicenseReport): string {
  const d = report.derivative;
  const out: string[] = [];
  out.push(`Derivative: ${d.name ?? '(no name configured)'}${d.version ? ` ${d.version}` : ''}${d.relation ? ` (${d.relation})` : ''}, distribution: ${d.distribution}`);
  out.push('', 'Lineage:');
  const tree = renderLineageTree(report.lineage);
  out.push(...(tree.length > 0 ? tree : ['  (no base models configured)']));
  out.push('', 'Licenses:');
  if (report.licenses.length === 0) out.push('  (none determined)');
  for (const l of report.licenses) out.push(`  ${l.name} (${l.spdx}; ${l.date ? `${l.dateKind} date ${l.date}; ` : ''}${l.via === 'outputs' ? 'outputs only' : 'weights'})`);
  out.push('', 'Obligations:');
  if (report.obligations.length === 0) out.push('  (none)');
  for (const o of report.obligations) out.push(`  - ${o.text} [${o.citation}]`);
  out.push('', 'Findings:');
  if (report.findings.length === 0) out.push('  none');
  for (const f of report.findings) out.push(...findingLines(f).map((l) => `  ${l}`));
  const c = report.counts;
  out.push('', `${c.blocking} blocking, ${c.advisory} advisory, ${c.waived} waived — ${report.blocking ? 'BLOCKED' : 'OK'}`);
  return `${out.join('\n')}\n`;
}

export function renderJson(report: LicenseReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export interface SarifOptions {
  /** The artifact findings point at when they name no file of their own (the configuration file, relative). */
  artifactUri?: string;
  /** Files named by findings are given relative to this directory (default: absolute file: URIs). */
  baseDir?: string;
  toolVersion?: string;
}

/** A SARIF artifact URI: relative with forward slashes under baseDir, else an absolute file: URI. */
function artifactUri(file: string, baseDir: string | undefined): string {
  if (baseDir !== undefined) {
    const rel = relative(baseDir, file);
    if (!rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).join('/');
  }
  return pathToFileURL(file).href;
}

export function toSarif(report: LicenseReport, options: SarifOptions = {}): Record<string, unknown> {
  const rules = RULES.map((rule) => ({
    id: rule.id,
    name: rule.id.replace(/(^|-)(\w)/g, (_m, _d: string, c: string) => c.toUpperCase()),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.description },
    defaultConfiguration: { level: rule.level },
  }));
  const results = report.findings.map((f) => {
    const result: Record<string, unknown> = {
      ruleId: f.id,
      ruleIndex: FINDING_IDS.indexOf(f.id),
      level: f.severity === 'blocking' ? 'error' : 'warning',
      message: { text: `${f.message} Why: ${f.why} Fix: ${f.fix}` },
      partialFingerprints: { findingKey: f.key },
      properties: { citation: f.citation, license: f.license, section: f.section, subject: f.subject ?? null, severity: f.severity },
    };
    const uri = f.file !== undefined ? artifactUri(f.file, options.baseDir) : options.artifactUri;
    if (uri) result.locations = [{ physicalLocation: { artifactLocation: { uri } } }];
    if (f.waived) result.suppressions = [{ kind: 'external', status: 'accepted', justification: f.waived.reason }];
    return result;
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'llama-dist', ...(options.toolVersion ? { version: options.toolVersion } : {}), rules } },
      results,
    }],
  };
}

export function renderSarif(report: LicenseReport, options: SarifOptions = {}): string {
  return `${JSON.stringify(toSarif(report, options), null, 2)}\n`;
}

export function renderReport(report: LicenseReport, format: ReportFormat, options: SarifOptions = {}): string {
  if (format === 'json') return renderJson(report);
  if (format === 'sarif') return renderSarif(report, options);
  return renderText(report);
}
