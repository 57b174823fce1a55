/**
 * The catalog against the texts themselves: every verbatim template has the recorded sha256 (and the SHA256SUMS
 * line), every fingerprint is recomputed from the words, and every quoted sentence the checks print (NOTICE, "Built
 * with", naming, user threshold, outputs, EU) occurs in the license version it is attributed to. A wrong version
 * attribution or a typo in a quote fails here.
 */
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CATALOG, getLicense, licenseFromHfMetadata } from '../../src/license/catalog.ts';
import { fingerprint, minhash, normalizedWords, sha256Hex } from '../../src/license/normalize.ts';
import { assertEmittable, readLicenseTexts, templatesRoot } from '../../src/license/texts.ts';
import { LlamaError } from '../../src/errors.ts';

// Gemma and Qwen 2024 transcriptions, kept as test fixtures (test/fixtures/licenses/PROVENANCE.md).
const TRANSCRIPTIONS = fileURLToPath(new URL('../fixtures/licenses', import.meta.url));
const words = (s: string) => normalizedWords(s).join(' ');

test('every template file is in the catalog with its sha256, SHA256SUMS agrees, and the fingerprint is recomputed', async () => {
  const root = templatesRoot();
  const folders = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  assert.ok(folders.length >= 9);
  for (const folder of folders) {
    const sums = await readFile(join(root, folder, 'SHA256SUMS'), 'utf8');
    for (const line of sums.trim().split('\n')) {
      const [sum, name] = line.split(/\s+/) as [string, string];
      const bytes = await readFile(join(root, folder, name));
      assert.equal(sha256Hex(bytes), sum, `${folder}/${name}`);
      const entry = getLicense(folder);
      assert.ok(entry, `catalog entry for ${folder}`);
      const file = entry.texts.find((t) => t.template === `${folder}/${name}`);
      assert.ok(file, `${folder}/${name} is in the catalog`);
      assert.equal(file.sha256, sum);
      assert.equal(file.fingerprint, fingerprint(bytes.toString('utf8')), `fingerprint of ${folder}/${name}`);
    }
  }
});

test('readLicenseTexts returns the verbatim bytes; Gemma and Qwen 2024 have none and cannot be emitted', async () => {
  const texts = await readLicenseTexts(getLicense('llama3.2')!);
  assert.deepEqual(texts.map((t) => t.fileName), ['LICENSE.txt', 'USE_POLICY.md']);
  assert.equal(sha256Hex(texts[0]!.bytes), '8cc15535a8a34b41888f644b339a1a9eb428af793a4f5e24df58a3e5b1487d74');
  for (const id of ['gemma', 'qwen', 'qwen-research']) {
    const entry = getLicense(id)!;
    assert.deepEqual(await readLicenseTexts(entry), []);
    assert.ok(entry.texts.every((t) => t.template === null));
    assert.throws(() => assertEmittable(entry), (e: unknown) => e instanceof LlamaError && e.code === 'LICENSE_TEXT_UNAVAILABLE');
    assert.equal(existsSync(join(templatesRoot(), id)), false, `no templates/licenses/${id}`);
  }
});

test('fingerprints and MinHash of the text-less entries are recomputed from the third-party transcriptions', async () => {
  const cases: Array<[string, string, string]> = [
    ['qwen', 'license', 'qwen/qwen-2024.LICENSE'],
    ['gemma', 'license', 'gemma/gemma-tou-2025-03-24.LICENSE'],
    ['gemma', 'use-policy', 'gemma/gemma-pup-2024-02-21.LICENSE'],
  ];
  for (const [id, role, path] of cases) {
    const text = await readFile(join(TRANSCRIPTIONS, path), 'utf8');
    const file = getLicense(id)!.texts.find((t) => t.role === role)!;
    assert.equal(file.fingerprint, fingerprint(text), path);
    assert.deepEqual(file.minhash, minhash(normalizedWords(text)), path);
  }
  // The clauses quoted for Qwen 2024 and Gemma occur in those transcriptions (the only copies there are).
  const qwenWords = words(await readFile(join(TRANSCRIPTIONS, cases[0]![2]), 'utf8'));
  const qwen = getLicense('qwen')!;
  for (const quote of [qwen.notice!.sentence, qwen.users!.quote, ...qwen.builtWith!.phrases]) assert.ok(qwenWords.includes(words(quote)), quote);
  const gemmaWords = words(await readFile(join(TRANSCRIPTIONS, cases[1]![2]), 'utf8'));
  assert.ok(gemmaWords.includes(words(getLicense('gemma')!.notice!.sentence)));
  assert.ok(!gemmaWords.includes('built with gemma'), 'no "Built with Gemma" duty (licenses.md §9.17)');
  const older = await readFile(join(TRANSCRIPTIONS, 'gemma/gemma-tou-2024-04-01.LICENSE'), 'utf8');
  assert.equal(getLicense('gemma')!.texts[0]!.variants![0]!.fingerprint, fingerprint(older));
});

test('every quoted clause occurs, word for word, in the text of the version it is attributed to', async () => {
  for (const entry of CATALOG) {
    const license = entry.texts.find((t) => t.role === 'license' && t.template !== null);
    if (!license) continue;
    const text = words(await readFile(join(templatesRoot(), license.template!), 'utf8'));
    const has = (quote: string, what: string) => assert.ok(text.includes(words(quote)), `${entry.id}: ${what} “${quote}” is not in the text`);
    if (entry.notice) has(entry.notice.sentence, 'notice');
    for (const phrase of entry.builtWith?.phrases ?? []) has(phrase, 'built-with');
    if (entry.naming) has(entry.naming.quote, 'naming');
    if (entry.users) has(entry.users.quote, 'user threshold');
    if (entry.outputs) has(entry.outputs.quote, 'outputs');
    const policy = entry.texts.find((t) => t.role === 'use-policy' && t.template !== null);
    if (entry.euMultimodal) {
      const policyText = words(await readFile(join(templatesRoot(), policy!.template!), 'utf8'));
      assert.ok(policyText.includes(words(entry.euMultimodal.quote)), `${entry.id}: EU paragraph`);
    }
  }
});

test('the EU multimodal paragraph is in the 3.2, 3.3 and 4 use policies only', async () => {
  for (const id of ['llama2', 'llama3', 'llama3.1', 'llama3.2', 'llama3.3', 'llama4']) {
    const policy = await readFile(join(templatesRoot(), id, 'USE_POLICY.md'), 'utf8');
    const inText = /multimodal models included in/.test(policy);
    assert.equal(inText, getLicense(id)!.euMultimodal !== null, id);
  }
});

test('the NOTICE sentences keep their small differences: (c) vs ©, "LLAMA 2" capitals, "Meta Llama 3", no "Meta" from 3.1', async () => {
  // Exact bytes (whitespace collapsed) of the sentence in each upstream text, not only its words.
  for (const entry of CATALOG) {
    if (!entry.notice || !entry.texts[0]?.template) continue;
    const raw = (await readFile(join(templatesRoot(), entry.texts[0].template), 'utf8')).replace(/\s+/g, ' ');
    assert.ok(raw.includes(entry.notice.sentence), `${entry.id} notice sentence is byte-exact`);
  }
  assert.match(getLicense('llama2')!.notice!.sentence, /LLAMA 2 Community License, Copyright \(c\)/);
  assert.match(getLicense('llama3')!.notice!.sentence, /^Meta Llama 3 .*Copyright ©/);
  assert.match(getLicense('llama3.1')!.notice!.sentence, /^Llama 3\.1 is licensed under the Llama 3\.1 Community License, Copyright ©/);
  assert.equal(getLicense('deepseek')!.notice, null, 'DeepSeek prescribes no sentence');
});

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

test('release / effective dates are read from each text header (leading spaces, ** markup, "Effective Date")', async () => {
  for (const entry of CATALOG) {
    const license = entry.texts.find((t) => t.role === 'license' && t.template !== null);
    if (!license || entry.family === 'deepseek') continue;
    const head = (await readFile(join(templatesRoot(), license.template!), 'utf8')).split('\n').slice(0, 6).join(' ');
    const m = /(Release|Effective) Date:\s*\**\s*([A-Z][a-z]+) (\d{1,2}), (\d{4})/.exec(head);
    assert.ok(m, `${entry.id}: date line`);
    const iso = `${m[4]}-${String(MONTHS.indexOf(m[2]!) + 1).padStart(2, '0')}-${m[3]!.padStart(2, '0')}`;
    assert.equal(entry.date, iso, entry.id);
    assert.equal(entry.dateKind, m[1] === 'Effective' ? 'effective' : 'release', entry.id);
  }
  assert.equal(getLicense('llama4')!.dateKind, 'effective');
});

test('Hugging Face ids: license ids, license: other + license_name spellings, llama4 (missing from huggingface.js)', () => {
  assert.equal(licenseFromHfMetadata('llama3.1')?.id, 'llama3.1');
  assert.equal(licenseFromHfMetadata('llama4')?.id, 'llama4');
  assert.equal(licenseFromHfMetadata('other', 'llama3')?.id, 'llama3');
  assert.equal(licenseFromHfMetadata('other', 'tongyi-qianwen-license-agreement')?.id, 'tongyi-qianwen');
  assert.equal(licenseFromHfMetadata('other', 'tongyi-qianwen')?.id, 'tongyi-qianwen');
  assert.equal(licenseFromHfMetadata('other', 'qwen')?.id, 'qwen');
  assert.equal(licenseFromHfMetadata('other', 'qwen-research')?.id, 'qwen-research');
  assert.equal(licenseFromHfMetadata('other', 'google-gemma-terms-of-use')?.id, 'gemma');
  assert.equal(licenseFromHfMetadata('other', 'deepseek')?.id, 'deepseek');
  assert.equal(licenseFromHfMetadata('Apache-2.0')?.id, 'apache-2.0');
  assert.equal(licenseFromHfMetadata('other', 'mrl'), undefined);
  assert.equal(licenseFromHfMetadata('cc-by-nc-4.0'), undefined);
  // ScanCode's llama-4-license-2025 is the AUP; the license is llama-4-cla-2025 (licenses.md §9.16).
  assert.equal(getLicense('llama4')!.spdx, 'LicenseRef-scancode-llama-4-cla-2025');
});

test('Meta use-policy URLs are the ones the license incorporates (§1.b.iv), not the one printed in an older AUP copy', async () => {
  for (const id of ['llama2', 'llama3', 'llama3.1', 'llama3.2', 'llama3.3', 'llama4']) {
    const entry = getLicense(id)!;
    const license = await readFile(join(templatesRoot(), id, 'LICENSE.txt'), 'utf8');
    assert.ok(license.replace(/\\_/g, '_').includes(entry.usePolicy!.url), `${id}: ${entry.usePolicy!.url}`);
  }
  // The Llama 3 USE_POLICY.md points at the Llama 2 URL (licenses.md §9.10); the catalog cites the license's.
  const l3Policy = await readFile(join(templatesRoot(), 'llama3', 'USE_POLICY.md'), 'utf8');
  assert.match(l3Policy, /ai\.meta\.com\/llama\/use-policy/);
  assert.equal(getLicense('llama3')!.usePolicy!.url, 'https://llama.meta.com/llama3/use-policy');
});

test('Meta AUP items are cited by the lettered scheme, never by raw Markdown numbers; 1.h and 5 only from 3.2', () => {
  for (const id of ['llama2', 'llama3', 'llama3.1', 'llama3.2', 'llama3.3', 'llama4']) {
    const items = getLicense(id)!.usePolicy!.items;
    for (const item of items) assert.match(item.label, /^[1-5](\.[a-h](\.(i|ii|iii|iv|v|vi))?)?$/, `${id} ${item.category}`);
    const has = (c: string) => items.some((i) => i.category === c);
    const later = ['llama3.2', 'llama3.3', 'llama4'].includes(id);
    assert.equal(has('circumvention'), later, id);
    assert.equal(has('unlawful-tools'), later, id);
    assert.equal(items.find((i) => i.category === 'undisclosed-dangers')?.label, '4', `${id}: item 4, not 3.g of the copy embedded in the Llama 3 license`);
  }
});
