/**
 * The scenario table per clause, with real checkpoints on disk (cards + upstream LICENSE files) and the real lineage
 * resolver and checks. Each row states the facts and which findings must (and must not) appear; the clauses come
 * from the texts (licenses.md §2-5) and the rows cover the traps of §9.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configSchema, type LlamaConfig } from '../../src/config/schema.ts';
import { resolveLineage } from '../../src/license/lineage.ts';
import { checkDerivative, type LicenseReport } from '../../src/license/checks.ts';
import { nameHasPrefix } from '../../src/license/rules/naming-prefix.ts';
import { previousMonth } from '../../src/license/rules/users.ts';
import { renderNotice } from '../../src/license/notice.ts';
import { CATALOG } from '../../src/license/catalog.ts';
import { makeCached, makeCheckpoint, template, tempDir, type CheckpointSpec } from './helpers.ts';

/** The base checkpoints every scenario can name (directory name → checkpoint). */
const BASES: Record<string, CheckpointSpec> = {
  l2: { card: { license: 'llama2' }, licenseFrom: 'llama2' },
  l3: { card: { license: 'llama3' }, licenseFrom: 'llama3' },
  l31: { card: { license: 'llama3.1', pipeline_tag: 'text-generation' }, licenseFrom: 'llama3.1', config: { architectures: ['LlamaForCausalLM'] } },
  // Llama 3.1 has no multimodal model; this one exists to show the EU rule is not applied to 3.1.
  l31vision: { card: { license: 'llama3.1' }, config: { architectures: ['MllamaForConditionalGeneration'], vision_config: {} } },
  l32text: { card: { license: 'llama3.2', pipeline_tag: 'text-generation' }, licenseFrom: 'llama3.2', config: { architectures: ['LlamaForCausalLM'] } },
  l32vision: { card: { license: 'llama3.2', pipeline_tag: 'image-text-to-text' }, licenseFrom: 'llama3.2', config: { architectures: ['MllamaForConditionalGeneration'], vision_config: {} } },
  l33: { card: { license: 'llama3.3' }, licenseFrom: 'llama3.3', config: { architectures: ['LlamaForCausalLM'] } },
  l4: { card: { license: 'llama4', pipeline_tag: 'image-text-to-text' }, licenseFrom: 'llama4', config: { architectures: ['Llama4ForConditionalGeneration'], vision_config: {} } },
  tongyi: { card: { license: 'other', license_name: 'tongyi-qianwen' }, licenseFrom: 'tongyi-qianwen' },
  tongyiResearch: { licenseFrom: 'tongyi-qianwen-research' },
  qwen: { card: { license: 'other', license_name: 'qwen', license_link: 'LICENSE' } },
  deepseek: { card: { license: 'other', license_name: 'deepseek' }, licenseFrom: 'deepseek' },
  gemma: { card: { license: 'gemma' } },
  mistral: { card: { license: 'apache-2.0' } },
  nolicense: { card: { pipeline_tag: 'text-generation' } },
  // A card naming a license outside the catalog, with a Llama LICENSE beside it: the claim cannot be judged.
  ccbync: { card: { license: 'cc-by-nc-4.0' }, licenseFrom: 'llama3.1' },
};

async function fixture(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await tempDir(t);
  for (const [name, spec] of Object.entries(BASES)) await makeCheckpoint(join(dir, name), spec);
  return dir;
}

interface Row {
  name: string;
  config: Record<string, unknown>;
  docs?: string;
  now?: string;
  /** Finding keys (id:license…) that must be present and unwaived-blocking / advisory / absent. */
  blocking?: string[];
  advisory?: string[];
  absent?: string[];
  waived?: string[];
}

function cfg(derivative: Record<string, unknown>, rest: Record<string, unknown> = {}): Record<string, unknown> {
  return { derivative: { name: 'Llama-3.1-Acme', ...derivative }, licensee: { monthlyActiveUsers: 1000, commercial: true, euEstablished: false }, ...rest };
}

const ROWS: Row[] = [
  // Naming (§9.1): none for Llama 2, "Llama 3" for Llama 3, "Llama" for 3.1+.
  { name: 'Llama 2 has no naming rule', config: cfg({ name: 'Acme-7B', baseModels: ['./l2'] }), absent: ['naming-prefix:llama2'] },
  { name: 'Llama 3: "Llama 3" prefix required; "Llama-Acme" is not enough', config: cfg({ name: 'Llama-Acme-8B', baseModels: ['./l3'] }), blocking: ['naming-prefix:llama3'] },
  { name: 'Llama 3: "Meta-Llama-3-8B-Acme" does not begin with "Llama 3"', config: cfg({ name: 'Meta-Llama-3-8B-Acme', baseModels: ['./l3'] }), blocking: ['naming-prefix:llama3'] },
  { name: 'Llama 3: "Llama-3-8B-Acme" complies', config: cfg({ name: 'Llama-3-8B-Acme', baseModels: ['./l3'] }), absent: ['naming-prefix:llama3'] },
  { name: 'Llama 3.1: "Llama-Acme" complies with the 3.1 rule', config: cfg({ name: 'Llama-Acme-8B', baseModels: ['./l31'] }), absent: ['naming-prefix:llama3.1'] },
  { name: 'Llama 3.1: "Acme-8B" does not', config: cfg({ name: 'Acme-8B', baseModels: ['./l31'] }), blocking: ['naming-prefix:llama3.1'] },
  { name: 'Llama 3.1 outputs only (distillation into a non-Llama base): naming still applies', config: cfg({ name: 'Mistral-Acme', baseModels: ['./mistral'], trainedOnOutputsOf: ['./l31'], relation: 'distillation' }), blocking: ['naming-prefix:llama3.1'], absent: ['outputs-training:llama3.1'] },
  { name: 'Llama 3 outputs only: no naming rule (materials only) but the outputs ban applies', config: cfg({ name: 'Mistral-Acme', baseModels: ['./mistral'], trainedOnOutputsOf: ['./l3'] }), blocking: ['outputs-training:llama3'], absent: ['naming-prefix:llama3'] },
  { name: 'no "Built with" duty for Gemma, DeepSeek or Tongyi Qianwen (§9.2, §9.17)', config: cfg({ name: 'X', baseModels: ['./gemma', './deepseek', './tongyi'] }, { docs: 'DOCS.md' }), docs: 'Our product.', absent: ['built-with'] },
  // Outputs rule flips at 3.1 (§9.3).
  { name: 'Llama 2 outputs used to train a Mistral model: forbidden', config: cfg({ name: 'Acme', baseModels: ['./mistral'], trainedOnOutputsOf: ['./l2'] }), blocking: ['outputs-training:llama2'] },
  { name: 'Llama 2 outputs used to improve a Llama 2 derivative: allowed', config: cfg({ name: 'Acme', baseModels: ['./l2'], trainedOnOutputsOf: ['./l2'] }), absent: ['outputs-training:llama2'] },
  { name: 'Llama 3 outputs used for a Llama 3.1 fine-tune: another version, forbidden', config: cfg({ name: 'Llama-3.1-Acme', baseModels: ['./l31'], trainedOnOutputsOf: ['./l3'] }), blocking: ['outputs-training:llama3'] },
  { name: 'Tongyi Qianwen outputs used for a Llama model: forbidden', config: cfg({ name: 'Llama-3.1-Acme', baseModels: ['./l31'], trainedOnOutputsOf: ['./tongyi'] }), blocking: ['outputs-training:tongyi-qianwen'] },
  { name: 'Qwen 2024 outputs: no ban, but "Built with Qwen"/"Improved using Qwen" in the docs', config: cfg({ name: 'Llama-3.1-Acme', baseModels: ['./l31'], trainedOnOutputsOf: ['./qwen'] }, { docs: 'DOCS.md' }), docs: 'Built with Llama.', blocking: ['built-with:qwen'], absent: ['outputs-training:qwen'] },
  // Built with (§9.2).
  { name: 'Llama 3 docs need "Built with Meta Llama 3"; "Built with Llama" is the 3.1 string', config: cfg({ name: 'Llama-3-Acme', baseModels: ['./l3'] }, { docs: 'DOCS.md' }), docs: 'Built with Llama', blocking: ['built-with:llama3'] },
  { name: 'Llama 3.1 docs with "Built with Llama" comply', config: cfg({ baseModels: ['./l31'] }, { docs: 'DOCS.md' }), docs: 'Our assistant is **Built with Llama**.', absent: ['built-with:llama3.1'] },
  { name: 'no docs configured: built-with is advisory', config: cfg({ baseModels: ['./l31'] }), advisory: ['built-with:llama3.1'] },
  { name: 'Llama 2: no built-with duty', config: cfg({ name: 'X', baseModels: ['./l2'] }, { docs: 'DOCS.md' }), docs: 'nothing', absent: ['built-with:llama2'] },
  { name: 'Qwen docs with "Improved using Qwen" comply', config: cfg({ name: 'Acme', baseModels: ['./qwen'] }, { docs: 'DOCS.md' }), docs: 'Improved using Qwen', absent: ['built-with:qwen'] },
  // EU multimodal (§9.7).
  { name: 'Llama 3.2 Vision + EU licensee: blocking', config: cfg({ name: 'Llama-Acme-V', baseModels: ['./l32vision'] }, { licensee: { monthlyActiveUsers: 1, euEstablished: true } }), blocking: ['eu-multimodal:llama3.2'] },
  { name: 'Llama 3.2 1B text model + EU licensee: no finding (over-application trap)', config: cfg({ name: 'Llama-Acme', baseModels: ['./l32text'] }, { licensee: { monthlyActiveUsers: 1, euEstablished: true } }), absent: ['eu-multimodal:llama3.2'] },
  { name: 'Llama 3.1 multimodal + EU: 3.1 has no EU rule', config: cfg({ name: 'Llama-Acme', baseModels: ['./l31vision'] }, { licensee: { monthlyActiveUsers: 1, euEstablished: true } }), absent: ['eu-multimodal:llama3.1'] },
  { name: 'Llama 4 (multimodal) + EU: blocking', config: cfg({ name: 'Llama-4-Acme', baseModels: ['./l4'] }, { licensee: { monthlyActiveUsers: 1, euEstablished: true } }), blocking: ['eu-multimodal:llama4'] },
  { name: 'Llama 4 multimodal, non-EU licensee: no finding', config: cfg({ name: 'Llama-4-Acme', baseModels: ['./l4'] }), absent: ['eu-multimodal:llama4'] },
  { name: 'Llama 3.2 Vision, euEstablished not declared: advisory', config: cfg({ name: 'Llama-Acme', baseModels: ['./l32vision'] }, { licensee: { monthlyActiveUsers: 1 } }), advisory: ['eu-multimodal:llama3.2'] },
  { name: 'derivative.multimodal: false overrides the base (text-only fine-tune of a vision model)', config: cfg({ name: 'Llama-Acme', baseModels: ['./l32vision'], multimodal: false }, { licensee: { monthlyActiveUsers: 1, euEstablished: true } }), absent: ['eu-multimodal:llama3.2'] },
  // MAU (§9.6): strictly greater, the month before the version date, Llama 4 effective date.
  { name: 'Llama 3.1: exactly 700M in June 2024 is not greater than 700M', config: cfg({ baseModels: ['./l31'] }, { licensee: { monthlyActiveUsers: { '2024-06': 700_000_000 } } }), absent: ['mau-threshold:llama3.1', 'mau-undeclared:llama3.1'] },
  { name: 'Llama 3.1: 700,000,001 in June 2024 is', config: cfg({ baseModels: ['./l31'] }, { licensee: { monthlyActiveUsers: { '2024-06': 700_000_001 } } }), blocking: ['mau-threshold:llama3.1'] },
  { name: 'Llama 3.1: only July 2024 declared (the release month itself): June is needed', config: cfg({ baseModels: ['./l31'] }, { licensee: { monthlyActiveUsers: { '2024-07': 900_000_000 } } }), blocking: ['mau-undeclared:llama3.1'], absent: ['mau-threshold:llama3.1'] },
  { name: 'Llama 4: measured in March 2025 (effective date April 5, 2025)', config: cfg({ name: 'Llama-4-X', baseModels: ['./l4'] }, { licensee: { monthlyActiveUsers: { '2025-03': 800_000_000, '2025-04': 1 } } }), blocking: ['mau-threshold:llama4'] },
  { name: 'Llama 4: April 2025 alone is the wrong month', config: cfg({ name: 'Llama-4-X', baseModels: ['./l4'] }, { licensee: { monthlyActiveUsers: { '2025-04': 800_000_000 } } }), blocking: ['mau-undeclared:llama4'] },
  { name: 'MAU not declared at all', config: { derivative: { name: 'Llama-X', baseModels: ['./l31'] } }, blocking: ['mau-undeclared:llama3.1'] },
  { name: 'Qwen 2024: 150M MAU in commercial use now: blocking', config: cfg({ name: 'Acme', baseModels: ['./qwen'] }, { licensee: { monthlyActiveUsers: 150_000_000, commercial: true } }), blocking: ['mau-threshold:qwen'] },
  { name: 'Qwen 2024: 150M MAU, non-commercial: clause does not apply', config: cfg({ name: 'Acme', baseModels: ['./qwen'] }, { licensee: { monthlyActiveUsers: 150_000_000, commercial: false } }), absent: ['mau-threshold:qwen'] },
  { name: 'Qwen 2024: exactly 100M: not more than 100M', config: cfg({ name: 'Acme', baseModels: ['./qwen'] }, { licensee: { monthlyActiveUsers: 100_000_000, commercial: true } }), absent: ['mau-threshold:qwen'] },
  { name: 'Qwen 2024: ongoing test reads the current month (figure for 2026-11)', now: '2026-11-26T12:00:00Z', config: cfg({ name: 'Acme', baseModels: ['./qwen'] }, { licensee: { monthlyActiveUsers: { '2024-09': 1, '2026-11': 120_000_000 }, commercial: true } }), blocking: ['mau-threshold:qwen'] },
  { name: 'Qwen 2024: no figure for the current or last month', now: '2026-11-26T12:00:00Z', config: cfg({ name: 'Acme', baseModels: ['./qwen'] }, { licensee: { monthlyActiveUsers: { '2024-09': 120_000_000 }, commercial: true } }), blocking: ['mau-undeclared:qwen'] },
  { name: 'Tongyi Qianwen: 101M commercial: blocking', config: cfg({ name: 'Acme', baseModels: ['./tongyi'] }, { licensee: { monthlyActiveUsers: 101_000_000, commercial: true } }), blocking: ['mau-threshold:tongyi-qianwen'] },
  { name: 'Meta counts no commercial condition: 800M non-commercial still triggers', config: cfg({ name: 'Llama-X', baseModels: ['./l33'] }, { licensee: { monthlyActiveUsers: { '2024-11': 800_000_000 }, commercial: false } }), blocking: ['mau-threshold:llama3.3'] },
  { name: 'Gemma and DeepSeek have no user threshold (§9.6)', config: cfg({ name: 'X', baseModels: ['./gemma', './deepseek'] }, { licensee: { monthlyActiveUsers: 2_000_000_000, commercial: true } }), absent: ['mau-threshold', 'mau-undeclared'] },
  // Research-only.
  { name: 'Tongyi Qianwen RESEARCH (identified from its LICENSE file) + commercial: blocking', config: cfg({ name: 'Acme', baseModels: ['./tongyiResearch'] }), blocking: ['research-only:tongyi-qianwen-research'] },
  { name: 'Tongyi Qianwen RESEARCH, commercial not declared: advisory', config: { derivative: { name: 'Acme', baseModels: ['./tongyiResearch'] } }, advisory: ['research-only:tongyi-qianwen-research'] },
  { name: 'Tongyi Qianwen RESEARCH, non-commercial: fine', config: cfg({ name: 'Acme', baseModels: ['./tongyiResearch'] }, { licensee: { commercial: false } }), absent: ['research-only:tongyi-qianwen-research'] },
  // Unknown licenses.
  { name: 'nothing configured: an empty lineage blocks instead of passing', config: cfg({ baseModels: [] }), blocking: ['lineage-empty'] },
  { name: 'a base without license metadata or LICENSE file', config: cfg({ baseModels: ['./nolicense'] }), blocking: ['license-unknown:./nolicense'] },
  { name: 'a card naming a license outside the catalog stays undetermined even with a Llama LICENSE beside it', config: cfg({ baseModels: ['./ccbync'] }), blocking: ['license-unknown:./ccbync'] },
  { name: 'a hub id offline and not in the cache', config: cfg({ baseModels: ['meta-llama/Llama-3.1-8B'] }), blocking: ['license-unknown:meta-llama/Llama-3.1-8B'] },
  // AUP (categories per version, §9.8).
  { name: 'military use: prohibited under Llama 3.1 §2.a', config: cfg({ baseModels: ['./l31'] }, { intendedUses: ['military logistics planning'] }), blocking: ['aup-prohibited:llama3.1:military logistics planning:military'] },
  { name: 'military use: DeepSeek Attachment A item 2', config: cfg({ name: 'X', baseModels: ['./deepseek'] }, { intendedUses: ['military'] }), blocking: ['aup-prohibited:deepseek:military:military'] },
  { name: 'military use: the Gemma policy has no such category', config: cfg({ name: 'X', baseModels: ['./gemma'] }, { intendedUses: ['military'] }), absent: ['aup-prohibited:gemma:military:military'] },
  { name: 'circumvention (1.h) exists from 3.2 only', config: cfg({ name: 'Llama-X', baseModels: ['./l31', './l32text'] }, { intendedUses: ['jailbreak research assistant'] }), blocking: ['aup-prohibited:llama3.2:jailbreak research assistant:circumvention'], absent: ['aup-prohibited:llama3.1:jailbreak research assistant:circumvention'] },
  { name: 'medical advice: conditional ("unlicensed practice"), advisory', config: cfg({ baseModels: ['./l31'] }, { intendedUses: ['medical advice for clinicians'] }), advisory: ['aup-prohibited:llama3.1:medical advice for clinicians:unlicensed-practice'] },
  { name: 'a category id is enough: "weapons" under Llama 4 §2.b', config: cfg({ name: 'Llama-4-X', baseModels: ['./l4'] }, { intendedUses: ['weapons'] }), blocking: ['aup-prohibited:llama4:weapons:weapons'] },
  { name: 'defensive work is for review, not blocking: "fraud detection", "spam filtering"', config: cfg({ baseModels: ['./l31'] }, { intendedUses: ['fraud detection', 'spam filtering'] }), advisory: ['aup-prohibited:llama3.1:fraud detection:fraud', 'aup-prohibited:llama3.1:spam filtering:spam'] },
  { name: 'the same topics done, not fought: blocking', config: cfg({ baseModels: ['./l31'] }, { intendedUses: ['generate spam emails'] }), blocking: ['aup-prohibited:llama3.1:generate spam emails:spam'] },
  { name: 'customer support: nothing', config: cfg({ baseModels: ['./l31'] }, { intendedUses: ['customer support chat', 'summarization'] }), absent: ['aup-prohibited'] },
  // Flow-down (advisory), Gemma / DeepSeek via outputs too.
  { name: 'DeepSeek: use restrictions and modified-file notices flow down', config: cfg({ name: 'X', baseModels: ['./deepseek'] }), advisory: ['flow-down:deepseek'] },
  { name: 'Gemma outputs used for distillation: the model is a Model Derivative; no text to emit', config: cfg({ name: 'Llama-X', baseModels: ['./l31'], trainedOnOutputsOf: ['./gemma'] }), advisory: ['flow-down:gemma', 'license-copy:gemma'] },
  { name: 'DeepSeek outputs used for distillation: "Derivatives of the Model" include it, restrictions flow down', config: cfg({ name: 'Llama-X', baseModels: ['./l31'], trainedOnOutputsOf: ['./deepseek'] }), advisory: ['flow-down:deepseek'], absent: ['outputs-training:deepseek'] },
  { name: 'Llama 3.1 has no flow-down finding', config: cfg({ baseModels: ['./l31'] }), absent: ['flow-down:llama3.1', 'license-copy:llama3.1'] },
  // Waivers never hide.
  { name: 'a waiver keeps the finding, marked waived, and stops it blocking', config: cfg({ name: 'Acme', baseModels: ['./l31'] }, { waivers: [{ finding: 'naming-prefix:llama3.1', reason: 'Meta granted an exception, ref 123' }] }), waived: ['naming-prefix:llama3.1'] },
  { name: 'a waiver that matches nothing is reported', config: cfg({ baseModels: ['./l31'] }, { waivers: [{ finding: 'naming-prefx', reason: 'typo' }] }), advisory: ['waiver-unmatched:naming-prefx'] },
];

async function run(dir: string, row: Row): Promise<LicenseReport> {
  const config: LlamaConfig = configSchema.parse(row.config);
  const lineage = await resolveLineage({ baseModels: config.derivative?.baseModels ?? [], trainedOnOutputsOf: config.derivative?.trainedOnOutputsOf ?? [], baseDir: dir, offline: true });
  return checkDerivative(config, lineage, {
    ...(row.docs !== undefined ? { docs: { path: 'DOCS.md', text: row.docs } } : {}),
    ...(row.now ? { now: new Date(row.now) } : {}),
  });
}

test('scenario table: every clause and every trap', async (t) => {
  const dir = await fixture(t);
  for (const row of ROWS) {
    const report = await run(dir, row);
    const keys = report.findings.map((f) => `${f.key} (${f.severity}${f.waived ? ', waived' : ''})`).join('\n    ');
    const find = (key: string) => report.findings.find((f) => f.key === key || f.key.startsWith(`${key}#`));
    for (const key of row.blocking ?? []) {
      const f = find(key);
      assert.ok(f && f.severity === 'blocking' && !f.waived, `${row.name}: expected blocking ${key}; got\n    ${keys}`);
      assert.ok(report.blocking, row.name);
    }
    for (const key of row.advisory ?? []) {
      const f = find(key);
      assert.ok(f && f.severity === 'advisory', `${row.name}: expected advisory ${key}; got\n    ${keys}`);
    }
    for (const key of row.absent ?? []) {
      assert.ok(!report.findings.some((f) => f.key === key || f.key.startsWith(`${key}:`)), `${row.name}: expected no ${key}; got\n    ${keys}`);
    }
    for (const key of row.waived ?? []) {
      const f = find(key);
      assert.ok(f?.waived, `${row.name}: expected ${key} shown as waived; got\n    ${keys}`);
      assert.equal(report.findings.filter((x) => x.severity === 'blocking' && !x.waived).length, report.counts.blocking);
    }
    // Every finding cites a version and says why and how to fix.
    for (const f of report.findings) {
      assert.ok(f.citation.length > 0 && f.why.length > 0 && f.fix.length > 0, `${row.name}: ${f.key}`);
      if (f.license) assert.ok(f.citation.includes(f.section ?? ''), f.key);
    }
  }
});

test('MAU findings say whose users count: licensee and affiliates for Meta, the product for Qwen', async (t) => {
  const dir = await fixture(t);
  const meta = await run(dir, { name: '', config: cfg({ baseModels: ['./l31'] }, { licensee: { monthlyActiveUsers: 900_000_000 } }) });
  const f = meta.findings.find((x) => x.id === 'mau-threshold')!;
  assert.match(f.why, /affiliates/);
  assert.match(f.message, /2024-06/);
  const qwen = await run(dir, { name: '', config: cfg({ name: 'Acme', baseModels: ['./qwen'] }, { licensee: { monthlyActiveUsers: 900_000_000, commercial: true } }) });
  const q = qwen.findings.find((x) => x.id === 'mau-threshold')!;
  assert.doesNotMatch(q.why, /affiliates/);
  assert.match(q.why, /commercial/);
});

test('month boundaries: the calendar month before the date, across a year end', () => {
  assert.equal(previousMonth('2024-07-23'), '2024-06');
  assert.equal(previousMonth('2024-01-01'), '2023-12');
  assert.equal(previousMonth('2025-04-05'), '2025-03');
  assert.equal(previousMonth('2023-07-18'), '2023-06');
});

test('name prefixes: separators are free, version digits are not', () => {
  assert.ok(nameHasPrefix('Llama 3 Acme', 'Llama 3'));
  assert.ok(nameHasPrefix('Llama-3-8B', 'Llama 3'));
  assert.ok(nameHasPrefix('llama3-8b', 'Llama 3'));
  assert.ok(nameHasPrefix('Llama-3.1-8B', 'Llama 3'), '"Llama 3.1…" begins with "Llama 3"');
  assert.ok(!nameHasPrefix('Llama-30B', 'Llama 3'));
  assert.ok(!nameHasPrefix('Meta-Llama-3-8B', 'Llama 3'));
  assert.ok(!nameHasPrefix('Acme-Llama', 'Llama'));
});

test('merge of several ancestors of different versions: one NOTICE line each, in lineage order, and each version\'s rules', async (t) => {
  const dir = await fixture(t);
  const row: Row = { name: 'merge', config: cfg({ name: 'Acme-Merge', relation: 'merge', baseModels: ['./l3', './l31', './tongyi'], attribution: 'Acme Merge © Acme Inc.' }) };
  const report = await run(dir, row);
  assert.deepEqual(report.licenses.map((l) => l.id), ['llama3', 'llama3.1', 'tongyi-qianwen']);
  assert.deepEqual(report.notice, [
    'Meta Llama 3 is licensed under the Meta Llama 3 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    'Llama 3.1 is licensed under the Llama 3.1 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    'Tongyi Qianwen is licensed under the Tongyi Qianwen LICENSE AGREEMENT, Copyright (c) Alibaba Cloud. All Rights Reserved.',
  ]);
  assert.ok(report.findings.some((f) => f.key === 'naming-prefix:llama3'));
  assert.ok(report.findings.some((f) => f.key === 'naming-prefix:llama3.1'));
  // A single figure stands for every month, so no version lacks its month.
  assert.ok(!report.findings.some((f) => f.id === 'mau-undeclared'));
  const renamed = await run(dir, { name: 'merge', config: cfg({ name: 'Llama 3 Acme Merge', relation: 'merge', baseModels: ['./l3', './l31', './tongyi'] }) });
  assert.ok(!renamed.findings.some((f) => f.id === 'naming-prefix'), '"Llama 3 …" satisfies both the Llama 3 and the 3.1 rule');
  const perMonth = await run(dir, { name: 'months', config: cfg({ name: 'Llama 3 M', baseModels: ['./l3', './l31'] }, { licensee: { monthlyActiveUsers: { '2024-03': 1, '2024-06': 800_000_000 } } }) });
  assert.deepEqual(perMonth.findings.filter((f) => f.id.startsWith('mau')).map((f) => f.key), ['mau-threshold:llama3.1'], 'March 2024 for Llama 3, June 2024 for 3.1');
});

test('base_model chains: a 3.3 card naming a 3.1 base (from the HF cache) needs both NOTICE lines', async (t) => {
  const dir = await tempDir(t);
  const cache = join(dir, 'cache');
  await makeCached(cache, 'meta-llama/Llama-3.3-70B-Instruct', { card: { license: 'llama3.3', base_model: 'meta-llama/Llama-3.1-70B' }, licenseFrom: 'llama3.3' });
  await makeCached(cache, 'meta-llama/Llama-3.1-70B', { card: { license: 'llama3.1' }, licenseFrom: 'llama3.1' });
  await makeCheckpoint(join(dir, 'out'), { card: { base_model: 'meta-llama/Llama-3.3-70B-Instruct', license: 'llama3.3' }, licenseFrom: 'llama3.3' });
  const lineage = await resolveLineage({ baseModels: [], baseDir: dir, derivativeDir: 'out', offline: true, cacheDir: cache });
  assert.equal(lineage.roots.length, 1);
  assert.equal(lineage.roots[0]!.license, 'llama3.3');
  assert.equal(lineage.roots[0]!.kind, 'cache');
  assert.equal(lineage.roots[0]!.parents[0]!.license, 'llama3.1');
  assert.equal(renderNotice(lineage, { attribution: 'Acme' }), [
    'Llama 3.3 is licensed under the Llama 3.3 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    'Llama 3.1 is licensed under the Llama 3.1 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    '',
    'Acme',
    '',
  ].join('\n'));
  const report = checkDerivative(configSchema.parse(cfg({ name: 'Llama-3.3-Acme' })), lineage);
  assert.ok(!report.findings.some((f) => f.id === 'license-text'), 'the derivative\'s own LICENSE is a lineage license');
});

test('license-text: one word changed in a checkpoint LICENSE, a LICENSE of another version, and a tampered derivative copy', async (t) => {
  const dir = await fixture(t);
  const l31 = await readFile(join(dir, 'l31', 'LICENSE.txt'), 'utf8');
  await makeCheckpoint(join(dir, 'tampered'), { card: { license: 'llama3.1' }, files: { 'LICENSE.txt': l31.replace('greater than 700 million', 'greater than 7000 million') } });
  await makeCheckpoint(join(dir, 'mislabelled'), { card: { license: 'llama3.1' }, licenseFrom: 'llama3.2' });
  let report = await run(dir, { name: '', config: cfg({ baseModels: ['./tampered'] }) });
  let f = report.findings.find((x) => x.id === 'license-text')!;
  assert.ok(f && f.severity === 'blocking');
  assert.match(f.message, /expected “700/);
  assert.match(f.message, /found “7000/);
  report = await run(dir, { name: '', config: cfg({ baseModels: ['./mislabelled'] }) });
  f = report.findings.find((x) => x.id === 'license-text')!;
  assert.match(f.message, /Llama 3\.2 Community License Agreement, not the Llama 3\.1/);
  // The derivative directory itself.
  await makeCheckpoint(join(dir, 'out'), { card: { license: 'llama3.1' }, files: { 'LICENSE': l31.replace('royalty-free', 'royalty-bearing') } });
  const lineage = await resolveLineage({ baseModels: ['./l31'], baseDir: dir, derivativeDir: 'out', offline: true });
  report = checkDerivative(configSchema.parse(cfg({ baseModels: ['./l31'] })), lineage);
  assert.ok(report.findings.some((x) => x.id === 'license-text' && x.subject === join(dir, 'out')));
  await writeFile(join(dir, 'out', 'LICENSE'), l31.replace(/\n/g, '\r\n'));
  const fixed = checkDerivative(configSchema.parse(cfg({ baseModels: ['./l31'] })), await resolveLineage({ baseModels: ['./l31'], baseDir: dir, derivativeDir: 'out', offline: true }));
  assert.ok(!fixed.findings.some((x) => x.id === 'license-text'), 'CRLF copy is the same text');
});

test('license: other without a known license_name is decided by the LICENSE text', async (t) => {
  const dir = await tempDir(t);
  await makeCheckpoint(join(dir, 'm'), { card: { license: 'other', license_link: 'LICENSE' }, files: { LICENSE: await template('deepseek') } });
  const lineage = await resolveLineage({ baseModels: ['./m'], baseDir: dir, offline: true });
  assert.equal(lineage.roots[0]!.license, 'deepseek');
  assert.equal(lineage.roots[0]!.evidence[0]!.source, 'license-file');
});

test('a base_model loop is reported, not followed forever', async (t) => {
  const dir = await tempDir(t);
  const cache = join(dir, 'cache');
  await makeCached(cache, 'a/one', { card: { license: 'llama3.1', base_model: 'a/two' } });
  await makeCached(cache, 'a/two', { card: { license: 'llama3.1', base_model: 'a/one' } });
  const lineage = await resolveLineage({ baseModels: ['a/one'], baseDir: dir, offline: true, cacheDir: cache });
  const two = lineage.roots[0]!.parents[0]!;
  assert.match(two.parents[0]!.problems.map((p) => p.message).join(' '), /loops back/);
});

test('Gemma\'s Notice duty does not reach hosted-only offerings; Meta\'s sentence stays', async (t) => {
  const dir = await fixture(t);
  const lineage = await resolveLineage({ baseModels: ['./gemma', './l31'], baseDir: dir, offline: true });
  const gemmaLine = 'Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms';
  assert.ok(renderNotice(lineage, { distribution: 'weights' }).startsWith(`${gemmaLine}\n`));
  const hosted = renderNotice(lineage, { distribution: 'service' });
  assert.ok(!hosted.includes('Gemma'));
  assert.match(hosted, /^Llama 3\.1 is licensed/);
});

test('family is not license: resolved by exact repo, a Qwen repo under Apache-2.0 and an R1 distill under MIT over Llama 3.1', async (t) => {
  const dir = await tempDir(t);
  const cache = join(dir, 'cache');
  await makeCached(cache, 'Qwen/Qwen2.5-7B-Instruct', { card: { license: 'apache-2.0' } });
  await makeCached(cache, 'Qwen/Qwen2.5-72B-Instruct', { card: { license: 'other', license_name: 'qwen', license_link: 'https://huggingface.co/Qwen/Qwen2.5-72B-Instruct/blob/main/LICENSE' } });
  await makeCached(cache, 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B', { card: { license: 'mit', base_model: 'meta-llama/Llama-3.1-8B' } });
  await makeCached(cache, 'meta-llama/Llama-3.1-8B', { card: { license: 'llama3.1' } });
  const lineage = await resolveLineage({ baseModels: ['Qwen/Qwen2.5-7B-Instruct', 'Qwen/Qwen2.5-72B-Instruct', 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B'], baseDir: dir, offline: true, cacheDir: cache });
  assert.deepEqual(lineage.roots.map((r) => r.license), ['apache-2.0', 'qwen', 'mit']);
  assert.equal(lineage.roots[2]!.parents[0]!.license, 'llama3.1');
  assert.equal(lineage.roots[2]!.commit, 'c'.repeat(40));
  const report = checkDerivative(configSchema.parse(cfg({ name: 'Acme-Merge' })), lineage);
  assert.ok(report.findings.some((f) => f.key === 'naming-prefix:llama3.1'), 'the Llama 3.1 grandparent still names the model');
  assert.ok(report.findings.some((f) => f.key === 'license-copy:qwen'), 'no Qwen 2024 text to emit: take it from the repo');
});

test('--require-files: the shipped directory needs a copy of each agreement and the exact NOTICE sentences', async (t) => {
  const dir = await fixture(t);
  const config = configSchema.parse(cfg({ name: 'Llama-3-Acme', baseModels: ['./l3', './l31'] }));
  const sentence3 = 'Meta Llama 3 is licensed under the Meta Llama 3 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.';
  const sentence31 = 'Llama 3.1 is licensed under the Llama 3.1 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.';
  const check = async (files: Record<string, string>) => {
    const out = join(dir, `out-${Object.keys(files).join('-') || 'empty'}-${Math.random().toString(36).slice(2)}`);
    await makeCheckpoint(out, { files });
    const lineage = await resolveLineage({ baseModels: ['./l3', './l31'], baseDir: dir, derivativeDir: out, offline: true });
    const keys = (options: { requireFiles?: boolean }) => checkDerivative(config, lineage, options).findings.filter((f) => ['license-copy', 'notice-file'].includes(f.id)).map((f) => f.key).sort();
    return { required: keys({ requireFiles: true }), input: keys({}) };
  };
  const l3 = await template('llama3');
  const l31 = await template('llama3.1');
  const complete = await check({ 'LICENSE': l3, 'LICENSE.txt': l31, NOTICE: `${sentence3}\n${sentence31}\n\nAcme\n` });
  assert.deepEqual(complete.required, []);
  const empty = await check({});
  assert.deepEqual(empty.required, ['license-copy:llama3', 'license-copy:llama3.1', 'notice-file:llama3', 'notice-file:llama3.1']);
  assert.deepEqual(empty.input, [], 'a package input checkpoint is not required to hold them');
  const wrongSymbol = await check({ 'LICENSE': l3, 'LICENSE.txt': l31, 'NOTICE.txt': `${sentence3.replace('©', '(c)')}\n${sentence31}\n` });
  assert.deepEqual(wrongSymbol.required, ['notice-file:llama3'], '"(c)" is not the Llama 3 sentence');
  const wrapped = await check({ 'LICENSE': l3, 'LICENSE.txt': l31, NOTICE: `${sentence3.replace(' Copyright', '\nCopyright')}\n${sentence31}\n` });
  assert.deepEqual(wrapped.required, [], 'line wrapping is not a different sentence');
});

test('a pulled base snapshot (card with a license, no base_model): its own exact LICENSE is never a license-text finding (issue 17 §14)', async (t) => {
  const dir = await tempDir(t);
  const withTemplates = CATALOG.filter((entry) => entry.texts.some((text) => text.role === 'license' && text.template !== null));
  assert.ok(withTemplates.length >= 8);
  for (const entry of withTemplates) {
    const hfId = entry.hfIds[0];
    const card = hfId !== undefined ? { license: hfId } : { license: 'other', license_name: entry.hfLicenseNames[0] };
    const snapshot = await makeCheckpoint(join(dir, entry.id), { card, licenseFrom: entry.id });
    const lineage = await resolveLineage({ baseModels: [], baseDir: dir, derivativeDir: snapshot, offline: true });
    const report = checkDerivative(configSchema.parse({}), lineage);
    const texts = report.findings.filter((f) => f.id === 'license-text');
    assert.deepEqual(texts.map((f) => f.message), [], `${entry.id}: an exact copy of the license its card names`);
    for (const f of report.findings) assert.doesNotMatch(f.message, /is the (.+), not the \1\b/, `${entry.id}: ${f.message}`);
  }
});

test('a derivative directory\'s exact LICENSE of a license outside the lineage names the lineage\'s licenses, not itself', async (t) => {
  const dir = await fixture(t);
  await makeCheckpoint(join(dir, 'out'), { card: { license: 'llama3.1' }, licenseFrom: 'llama3.2' });
  const lineage = await resolveLineage({ baseModels: ['./l31'], baseDir: dir, derivativeDir: 'out', offline: true });
  const report = checkDerivative(configSchema.parse(cfg({ baseModels: ['./l31'] })), lineage);
  const texts = report.findings.filter((f) => f.id === 'license-text' && f.subject === join(dir, 'out'));
  assert.ok(texts.length >= 1);
  for (const f of texts) {
    assert.match(f.message, /Llama 3\.2 Community License Agreement/);
    assert.match(f.message, /Llama 3\.1 Community License Agreement/);
    assert.equal(f.license, 'llama3.1', 'the finding is about the license the file should be');
  }
});

test('license texts are found by the names packages write (LICENSE-<id>.txt, USE_POLICY-<id>.md, LICENSE-MODEL), not by any name starting with "license"', async (t) => {
  const dir = await tempDir(t);
  await makeCheckpoint(join(dir, 'm'), {
    card: { license: 'llama3.1' },
    files: { 'LICENSE-llama3.1.txt': await template('llama3.1'), 'USE_POLICY-llama3.1.md': await template('llama3.1', 'USE_POLICY.md'), 'LICENSE-MODEL': await template('llama3.1'), 'license_plate.onnx': 'not a text' },
  });
  const lineage = await resolveLineage({ baseModels: ['./m'], baseDir: dir, offline: true });
  assert.deepEqual(lineage.roots[0]!.texts.map((x) => x.file.slice(join(dir, 'm').length + 1)).sort(), ['LICENSE-MODEL', 'LICENSE-llama3.1.txt', 'USE_POLICY-llama3.1.md']);
  assert.ok(lineage.roots[0]!.texts.every((x) => x.status === 'ok'));
});
