/**
 * Report renderers: SARIF validated against the SARIF 2.1.0 JSON schema (test/fixtures/sarif/README.md says where
 * the schema comes from), waived findings visible as suppressed results, and the text report's tree and counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { configSchema } from '../../src/config/schema.ts';
import { resolveLineage } from '../../src/license/lineage.ts';
import { checkDerivative, FINDING_IDS, type LicenseReport } from '../../src/license/checks.ts';
import { renderJson, renderSarif, renderText, toSarif } from '../../src/license/report.ts';
import { findingRulesMarkdown, RULES } from '../../src/license/rules/index.ts';
import { CATALOG } from '../../src/license/catalog.ts';
import { makeCheckpoint, tempDir } from './helpers.ts';

const SCHEMA = new URL('../fixtures/sarif/sarif-2.1.0-rtm.5.json', import.meta.url);

async function sarifValidator() {
  const schema = JSON.parse(await readFile(SCHEMA, 'utf8')) as Record<string, unknown>;
  // draft-04 → ajv 8: the root `id` becomes `$id`, the draft-04 meta-schema reference is dropped (README). One
  // `pattern` of the schema (language tags) is not valid with the u flag, hence unicodeRegExp: false.
  const { id, $schema: _draft, ...rest } = schema;
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  const addFormats = addFormatsModule as unknown as (a: Ajv) => void;
  addFormats(ajv);
  return ajv.compile({ ...rest, $id: String(id) });
}

async function sampleReport(t: { after: (fn: () => Promise<void>) => void }): Promise<LicenseReport> {
  const dir = await tempDir(t);
  await makeCheckpoint(join(dir, 'base'), { card: { license: 'llama3.2', pipeline_tag: 'image-text-to-text' }, licenseFrom: 'llama3.2' });
  await makeCheckpoint(join(dir, 'teacher'), { card: { license: 'llama2' }, licenseFrom: 'llama2' });
  const config = configSchema.parse({
    derivative: { name: 'Acme-Vision', baseModels: ['./base'], trainedOnOutputsOf: ['./teacher'] },
    licensee: { monthlyActiveUsers: { '2024-08': 750_000_000 }, euEstablished: true, commercial: true },
    intendedUses: ['military', 'medical advice'],
    waivers: [{ finding: 'naming-prefix', reason: 'renamed at publication, see release notes' }],
  });
  const lineage = await resolveLineage({ baseModels: config.derivative!.baseModels, trainedOnOutputsOf: config.derivative!.trainedOnOutputsOf, baseDir: dir, offline: true });
  return checkDerivative(config, lineage);
}

test('SARIF output validates against the SARIF 2.1.0 schema, one result per finding, waived ones suppressed', async (t) => {
  const report = await sampleReport(t);
  assert.ok(report.findings.length >= 6);
  const validate = await sarifValidator();
  const sarif = JSON.parse(renderSarif(report, { artifactUri: 'llama.config.yaml', toolVersion: '0.1.0' })) as {
    version: string;
    runs: Array<{ tool: { driver: { rules: Array<{ id: string }> } }; results: Array<{ ruleId: string; level: string; suppressions?: Array<{ justification: string }>; partialFingerprints: { findingKey: string } }> }>;
  };
  const ok = validate(sarif);
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  assert.equal(sarif.version, '2.1.0');
  const run = sarif.runs[0]!;
  assert.deepEqual(run.tool.driver.rules.map((r) => r.id), [...FINDING_IDS]);
  assert.equal(run.results.length, report.findings.length);
  const waived = run.results.find((r) => r.ruleId === 'naming-prefix')!;
  assert.equal(waived.suppressions?.[0]?.justification, 'renamed at publication, see release notes');
  const blocking = run.results.filter((r) => r.level === 'error' && !r.suppressions);
  assert.equal(blocking.length, report.counts.blocking);
  assert.deepEqual(new Set(run.results.map((r) => r.partialFingerprints.findingKey)).size, run.results.length, 'finding keys are unique');
});

test('the validator does reject a broken SARIF log (so the check above can fail)', async (t) => {
  const validate = await sarifValidator();
  const report = await sampleReport(t);
  const sarif = toSarif(report) as { runs: Array<{ results: Array<Record<string, unknown>> }> };
  sarif.runs[0]!.results[0]!.level = 'fatal';
  assert.equal(validate(sarif), false);
  assert.equal(validate({ version: '2.0.0', runs: [] }), false);
});

test('text report: lineage tree, licenses, obligations, findings with waived shown, totals', async (t) => {
  const report = await sampleReport(t);
  const text = renderText(report);
  assert.match(text, /^Lineage:\n├─ \.\/base — Llama 3\.2 Community License Agreement \[llama3\.2\] \(from the model card\), multimodal\n└─ \.\/teacher \(outputs used\) — Llama 2 Community License Agreement \[llama2\] \(from the model card\)$/m);
  assert.match(text, /\[BLOCKING\] eu-multimodal:llama3\.2 — Llama 3\.2 Community License Agreement Acceptable Use Policy, closing paragraph/);
  assert.match(text, /\[BLOCKING\] outputs-training:llama2 — Llama 2 Community License Agreement §1\.b\.v/);
  assert.match(text, /\[BLOCKING\] mau-threshold:llama3\.2 — .*§2\n\s+750,000,000 monthly active users in 2024-08/);
  assert.match(text, /\[WAIVED blocking\] naming-prefix:llama3\.2[\s\S]*?waived: renamed at publication/);
  assert.match(text, /\[advisory\] aup-prohibited:llama3\.2:medical advice:unlicensed-practice — Llama 3\.2 Acceptable Use Policy §1\.d/);
  assert.match(text, new RegExp(`${report.counts.blocking} blocking, ${report.counts.advisory} advisory, 1 waived — BLOCKED`));
  const json = JSON.parse(renderJson(report)) as LicenseReport;
  assert.equal(json.findings.length, report.findings.length);
  assert.equal(json.blocking, true);
});

test('the rule registry is the one list: SARIF rules, FINDING_IDS, the README table and the README all name the same ids', async () => {
  assert.deepEqual(RULES.map((r) => r.id), [...FINDING_IDS]);
  assert.equal(new Set(FINDING_IDS).size, FINDING_IDS.length, 'ids are unique');
  const table = findingRulesMarkdown().trim().split('\n').slice(2);
  assert.deepEqual(table.map((row) => /^\| `([a-z-]+)` \|/.exec(row)?.[1]), [...FINDING_IDS]);
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  for (const id of FINDING_IDS) assert.ok(readme.includes(`\`${id}\``), `README.md names ${id}`);
  // Facts come from the catalog: every user threshold figure appears in the mau-threshold description.
  const mau = RULES.find((r) => r.id === 'mau-threshold')!;
  for (const entry of CATALOG) if (entry.users) assert.ok(mau.description.includes(entry.users.threshold.toLocaleString('en-US')), entry.id);
});
