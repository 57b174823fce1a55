/**
 * `llama license check | notice | identify` as a CI job runs them: the built CLI (npm run build) as a child process,
 * exit codes (0, 3 for unwaived blocking findings, 2 for usage), stdout/stderr separation, --format and --json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli } from '../support/cli.ts';
import { makeCheckpoint, template, tempDir } from './helpers.ts';

const ENV = { HF_HUB_OFFLINE: '1' };

async function project(t: { after: (fn: () => Promise<void>) => void }, config: Record<string, unknown>): Promise<string> {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'package.json'), '{"name":"p"}');
  await writeFile(join(dir, '.llamarc.yaml'), stringify(config));
  await makeCheckpoint(join(dir, 'base'), { card: { license: 'llama3.1' }, licenseFrom: 'llama3.1' });
  await makeCheckpoint(join(dir, 'teacher'), { card: { license: 'llama2' } });
  return dir;
}

const GOOD = {
  derivative: { name: 'Llama-3.1-8B-Acme', baseModels: ['./base'] },
  licensee: { monthlyActiveUsers: 1000, commercial: true, euEstablished: false },
  docs: 'DOCS.md',
};

test('license check: a compliant derivative exits 0 with the report on stdout', async (t) => {
  const dir = await project(t, GOOD);
  await writeFile(join(dir, 'DOCS.md'), '# Acme\n\nBuilt with Llama\n');
  const r = await runCli(['license', 'check'], { cwd: dir, env: ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /└─ \.\/base — Llama 3\.1 Community License Agreement \[llama3\.1\]/);
  assert.match(r.stdout, /0 blocking, 0 advisory, 0 waived — OK/);
  assert.equal(r.stderr, '');
});

test('license check: blocking findings exit 3; sarif on stdout, message and hint on stderr; waivers lift it', async (t) => {
  const dir = await project(t, { ...GOOD, derivative: { ...GOOD.derivative, trainedOnOutputsOf: ['./teacher'] } });
  await writeFile(join(dir, 'DOCS.md'), 'Built with Llama');
  const r = await runCli(['license', 'check', '--format', 'sarif'], { cwd: dir, env: ENV });
  assert.equal(r.code, 3, r.stderr);
  const sarif = JSON.parse(r.stdout) as { runs: Array<{ results: Array<{ ruleId: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }> }> };
  assert.deepEqual(sarif.runs[0]!.results.map((x) => x.ruleId), ['outputs-training']);
  assert.equal(sarif.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri, '.llamarc.yaml');
  assert.match(r.stderr, /^Error: 1 blocking license finding \(outputs-training\)\./m);
  assert.match(r.stderr, /^Hint: /m);

  await writeFile(join(dir, '.llamarc.yaml'), stringify({ ...GOOD, derivative: { ...GOOD.derivative, trainedOnOutputsOf: ['./teacher'] }, waivers: [{ finding: 'outputs-training', reason: 'Meta written consent 2025-01' }] }));
  const waived = await runCli(['license', 'check'], { cwd: dir, env: ENV });
  assert.equal(waived.code, 0, waived.stderr);
  assert.match(waived.stdout, /\[WAIVED blocking\] outputs-training:llama2/);
  assert.match(waived.stdout, /waived: Meta written consent 2025-01/);
});

test('license check --json: the report (or, when blocking, the error with the report in details)', async (t) => {
  const dir = await project(t, { ...GOOD, derivative: { ...GOOD.derivative, name: 'Acme' } });
  await writeFile(join(dir, 'DOCS.md'), 'Built with Llama');
  const r = await runCli(['license', 'check', '--json'], { cwd: dir, env: ENV });
  assert.equal(r.code, 3);
  const json = JSON.parse(r.stdout) as { error: { code: string; details: { report: { findings: Array<{ key: string }> } } } };
  assert.equal(json.error.code, 'LICENSE_BLOCKING');
  assert.deepEqual(json.error.details.report.findings.map((f) => f.key), ['naming-prefix:llama3.1']);
  const ok = await project(t, GOOD);
  await writeFile(join(ok, 'DOCS.md'), 'Built with Llama');
  const good = await runCli(['license', 'check', '--json'], { cwd: ok, env: ENV });
  assert.equal(good.code, 0);
  assert.equal((JSON.parse(good.stdout) as { blocking: boolean }).blocking, false);
});

test('license check DIR: the derivative checkpoint\'s own LICENSE is checked; a missing docs file is a usage error', async (t) => {
  const dir = await project(t, GOOD);
  await writeFile(join(dir, 'DOCS.md'), 'Built with Llama');
  await makeCheckpoint(join(dir, 'out'), { files: { 'LICENSE.txt': (await template('llama3.1')).replace('non-exclusive', 'exclusive') } });
  const r = await runCli(['license', 'check', 'out'], { cwd: dir, env: ENV });
  assert.equal(r.code, 3);
  assert.match(r.stdout, /\[BLOCKING\] license-text/);
  const sarif = await runCli(['license', 'check', 'out', '--format', 'sarif'], { cwd: dir, env: ENV });
  const results = (JSON.parse(sarif.stdout) as { runs: Array<{ results: Array<{ ruleId: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }> }> }).runs[0]!.results;
  assert.equal(results.find((x) => x.ruleId === 'license-text')!.locations[0]!.physicalLocation.artifactLocation.uri, 'out/LICENSE.txt', 'the finding points at the file, relative');
  await writeFile(join(dir, '.llamarc.yaml'), stringify({ ...GOOD, docs: 'MISSING.md' }));
  const missing = await runCli(['license', 'check'], { cwd: dir, env: ENV });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /MISSING\.md \(docs\) cannot be read/);
});

test('license notice: the exact sentences then the attribution; exit 3 when an ancestor is unknown', async (t) => {
  const dir = await project(t, { ...GOOD, derivative: { ...GOOD.derivative, attribution: 'Acme Support model (c) Acme Inc.' } });
  const r = await runCli(['license', 'notice'], { cwd: dir, env: ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Llama 3.1 is licensed under the Llama 3.1 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.\n\nAcme Support model (c) Acme Inc.\n');
  await writeFile(join(dir, '.llamarc.yaml'), stringify({ ...GOOD, derivative: { ...GOOD.derivative, baseModels: ['./base', 'org/not-cached'] } }));
  const unknown = await runCli(['license', 'notice', '--cache-dir', join(dir, 'no-cache')], { cwd: dir, env: ENV });
  assert.equal(unknown.code, 3);
  assert.match(unknown.stderr, /org\/not-cached cannot be determined/);
});

test('license identify: names the text, reports tampering, says when nothing matches; missing file is exit 2', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a.txt'), (await template('llama3.3')).replace(/\*\*/g, ''));
  await writeFile(join(dir, 'b.txt'), (await template('llama3.3')).replace('700 million', '800 million'));
  await writeFile(join(dir, 'c.txt'), 'Just some words that are not a license at all, nothing like one.');
  const a = await runCli(['license', 'identify', join(dir, 'a.txt')]);
  assert.equal(a.code, 0);
  assert.match(a.stdout, /Llama 3\.3 Community License Agreement \[llama3\.3\] — exact match/);
  const b = await runCli(['license', 'identify', join(dir, 'b.txt'), '--json']);
  const bj = JSON.parse(b.stdout) as { match: string; license: string; difference: { expected: string; actual: string } };
  assert.deepEqual([bj.match, bj.license], ['similar', 'llama3.3']);
  assert.match(bj.difference.expected, /^700/);
  const c = await runCli(['license', 'identify', join(dir, 'c.txt')]);
  assert.match(c.stdout, /matches no catalog license/);
  const d = await runCli(['license', 'identify', join(dir, 'nope.txt')]);
  assert.equal(d.code, 2);
});

test('license check --require-files: needs DIR (exit 2); a shipped directory without NOTICE exits 3, with it 0', async (t) => {
  const dir = await project(t, GOOD);
  await writeFile(join(dir, 'DOCS.md'), 'Built with Llama');
  const noDir = await runCli(['license', 'check', '--require-files'], { cwd: dir, env: ENV });
  assert.equal(noDir.code, 2);
  await makeCheckpoint(join(dir, 'release'), { licenseFrom: 'llama3.1' });
  const missing = await runCli(['license', 'check', 'release', '--require-files'], { cwd: dir, env: ENV });
  assert.equal(missing.code, 3);
  assert.match(missing.stdout, /\[BLOCKING\] notice-file:llama3\.1/);
  const notice = await runCli(['license', 'notice'], { cwd: dir, env: ENV });
  await writeFile(join(dir, 'release', 'NOTICE'), notice.stdout);
  const complete = await runCli(['license', 'check', 'release', '--require-files'], { cwd: dir, env: ENV });
  assert.equal(complete.code, 0, complete.stdout);
});

test('license check on a pulled base snapshot (card with a license, no base_model): its exact LICENSE is no finding (issue 17 §14)', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'package.json'), '{"name":"p"}');
  await makeCheckpoint(join(dir, 'snapshot'), { card: { license: 'llama2' }, licenseFrom: 'llama2' });
  const r = await runCli(['license', 'check', 'snapshot', '--json'], { cwd: dir, env: ENV });
  const json = JSON.parse(r.stdout) as { error?: { details: { report: { findings: Array<{ id: string; message: string }> } } }; findings?: Array<{ id: string; message: string }> };
  const findings = json.findings ?? json.error?.details.report.findings ?? [];
  assert.deepEqual(findings.filter((f) => f.id === 'license-text').map((f) => f.message), []);
  assert.doesNotMatch(r.stdout, /Llama 2 Community License Agreement, not the Llama 2/);
});
