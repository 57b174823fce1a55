/**
 * Identification by normalised text: every byte variant upstream or Hugging Face is known to produce still matches
 * (licenses.md §9.11-12), while a change of a single word does not, and is reported with the words that differ.
 */
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CATALOG } from '../../src/license/catalog.ts';
import { identifyFile, identifyText, MAX_TEXT_BYTES } from '../../src/license/identify.ts';
import { LlamaError } from '../../src/errors.ts';
import { sha256Hex } from '../../src/license/normalize.ts';
import { template } from './helpers.ts';

// Gemma and Qwen 2024 transcriptions, kept as test fixtures (test/fixtures/licenses/PROVENANCE.md).
const TRANSCRIPTIONS = fileURLToPath(new URL('../fixtures/licenses', import.meta.url));

test('every catalog template identifies as itself, 3.1 / 3.2 / 3.3 / 4 apart although nearly word-identical', async () => {
  for (const entry of CATALOG) {
    for (const file of entry.texts) {
      if (!file.template) continue;
      const [folder, name] = file.template.split('/') as [string, string];
      const id = await identifyText(await template(folder, name));
      assert.equal(id.match, 'exact', file.template);
      assert.equal(id.license, entry.id, file.template);
      assert.equal(id.role, file.role, file.template);
    }
  }
});

/** The known kinds of byte variants, applied to a text. */
const VARIANTS: Record<string, (s: string) => string> = {
  'CRLF line ends': (s) => s.replace(/\n/g, '\r\n'),
  'trailing whitespace stripped, final blank line removed (llama-models copies)': (s) => s.split('\n').map((l) => l.trimEnd()).join('\n').trimEnd(),
  'one extra trailing newline (3.3 AUP before the pre-commit run)': (s) => `${s}\n`,
  'Markdown bold and escapes removed (3.3 **title**, 1\\.)': (s) => s.replace(/\*\*/g, '').replace(/\\([._])/g, '$1'),
  'straight quotes instead of curly': (s) => s.replace(/[“”]/g, '"').replace(/[‘’]/g, "'"),
  'HF Documentation URL llama.meta.com/doc/overview': (s) => s.replace(/https:\/\/www\.llama\.com\/docs\/overview/g, 'https://llama.meta.com/doc/overview'),
  'UTF-8 BOM and re-wrapped paragraphs': (s) => `\uFEFF${s.replace(/([a-z,]) ([a-z])/g, '$1\n$2')}`,
};

test('byte variants of the same words still match exactly (and their sha256 differs, so hashes alone would fail)', async () => {
  for (const id of ['llama2', 'llama3', 'llama3.1', 'llama3.2', 'llama3.3', 'llama4']) {
    for (const name of ['LICENSE.txt', 'USE_POLICY.md']) {
      const original = await template(id, name);
      for (const [label, variant] of Object.entries(VARIANTS)) {
        const text = variant(original);
        const result = await identifyText(text);
        assert.equal(result.license, id, `${id}/${name}: ${label}`);
        assert.equal(result.match, 'exact', `${id}/${name}: ${label}`);
      }
    }
  }
  const l33 = await template('llama3.3');
  assert.match(l33, /www\.llama\.com\/docs\/overview/, 'the URL variant is exercised on a text that has the URL');
  assert.notEqual(sha256Hex(VARIANTS['HF Documentation URL llama.meta.com/doc/overview']!(l33)), sha256Hex(l33));
});

test('Llama 2 as first published ("constitutes infringement") is a known variant, not tampering', async () => {
  const current = await template('llama2');
  assert.match(current, /constitutes an infringement/);
  const first = current.replace('constitutes an infringement', 'constitutes infringement');
  const result = await identifyText(first);
  assert.equal(result.match, 'variant');
  assert.equal(result.license, 'llama2');
  assert.match(result.variantNote ?? '', /2023-07-18/);
});

test('a single changed, removed or added word is caught and located', async () => {
  const original = await template('llama3.1');
  const edits: Array<[string, string, string]> = [
    ['threshold raised', 'greater than 700 million', 'greater than 900 million'],
    ['word removed', 'you shall also include “Llama” at the beginning', 'you shall include “Llama” at the beginning'],
    ['word added', 'non-exclusive, worldwide', 'non-exclusive, perpetual, worldwide'],
  ];
  for (const [label, from, to] of edits) {
    assert.ok(original.includes(from), label);
    const result = await identifyText(original.replace(from, to));
    assert.equal(result.match, 'similar', label);
    assert.equal(result.license, 'llama3.1', `${label}: still names the nearest text`);
    assert.ok(result.similarity > 0.95 && result.similarity < 1, `${label}: ${result.similarity}`);
    assert.ok(result.difference, label);
  }
  const raised = await identifyText(original.replace('greater than 700 million', 'greater than 900 million'));
  assert.equal(raised.difference?.expected.split(' ')[0], '700');
  assert.equal(raised.difference?.actual.split(' ')[0], '900');
});

test('texts the catalog holds no copy of are recognised by fingerprint and MinHash (Gemma, Qwen 2024)', async () => {
  const qwen = await readFile(join(TRANSCRIPTIONS, 'qwen/qwen-2024.LICENSE'), 'utf8');
  // Without the ScanCode header, as a model repo carries it.
  const body = qwen.replace(/^---[\s\S]*?\n---\n/, '');
  assert.deepEqual([(await identifyText(body)).license, (await identifyText(body)).match], ['qwen', 'exact']);
  const edited = await identifyText(body.replace('more than 100 million monthly active users', 'more than 900 million monthly active users'));
  assert.equal(edited.match, 'similar');
  assert.equal(edited.license, 'qwen');
  assert.ok(edited.similarity > 0.8, String(edited.similarity));
  const gemma = await readFile(join(TRANSCRIPTIONS, 'gemma/gemma-tou-2024-04-01.LICENSE'), 'utf8');
  const g = await identifyText(gemma);
  assert.deepEqual([g.license, g.match, g.role], ['gemma', 'variant', 'license']);
  const pup = await identifyText(await readFile(join(TRANSCRIPTIONS, 'gemma/gemma-pup-2024-02-21.LICENSE'), 'utf8'));
  assert.deepEqual([pup.license, pup.role], ['gemma', 'use-policy']);
  // Tongyi Qianwen 2023 and its research variant are distinct texts.
  assert.equal((await identifyText(await template('tongyi-qianwen-research'))).license, 'tongyi-qianwen-research');
});

test('permissive licenses by their key phrases; unrelated text matches nothing', async () => {
  const apache = 'Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/\n\nTERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION\n\n1. Definitions.';
  assert.equal((await identifyText(apache)).license, 'apache-2.0');
  const short = 'Copyright 2024 Alibaba Cloud\n\nLicensed under the Apache License, Version 2.0 (the "License");\nyou may not use this file except in compliance with the License.';
  assert.equal((await identifyText(short)).license, 'apache-2.0');
  const mit = 'MIT License\n\nCopyright (c) 2024 Someone\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software ... The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.';
  assert.equal((await identifyText(mit)).license, 'mit');
  assert.equal((await identifyText('Permission is hereby granted, free of charge, to any person obtaining a copy, to read this page.')).license, null, 'one MIT phrase alone is not MIT');
  const none = await identifyText('This model card describes a tokenizer trained on public domain books. No warranty of any kind is given here.');
  assert.equal(none.match, 'none');
  assert.equal(none.license, null);
  assert.ok(none.similarity < 0.5);
});

test('identifyFile: a missing file and a file far too large to be a license are usage errors', async (t) => {
  const { mkdtemp, rm, truncate, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'llama-identify-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await assert.rejects(identifyFile(join(dir, 'missing')), (e: unknown) => e instanceof LlamaError && e.code === 'LICENSE_FILE_UNREADABLE' && e.exitCode === 2);
  const big = join(dir, 'model.bin');
  await writeFile(big, '');
  await truncate(big, MAX_TEXT_BYTES + 1);
  await assert.rejects(identifyFile(big), (e: unknown) => e instanceof LlamaError && e.code === 'LICENSE_FILE_TOO_LARGE');
  const license = join(dir, 'LICENSE');
  await writeFile(license, await template('deepseek'));
  assert.equal((await identifyFile(license)).license, 'deepseek');
});
