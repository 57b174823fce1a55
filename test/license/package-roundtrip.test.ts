/**
 * What `llama package` writes, `llama license check --require-files` accepts (issue 13 item 2): for generated
 * lineages of one to three ancestors under different licenses, the package directory holds a copy of every agreement
 * (LICENSE, or LICENSE-<id>.txt / USE_POLICY-<id>.md for several) and the NOTICE, so the check of that very
 * directory finds no license-copy or notice-file finding. Only licenses whose text llama-dist emits are drawn: for
 * the others (Gemma, Qwen 2024, permissive) the package cannot hold a copy it was never given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { CATALOG } from '../../src/license/catalog.ts';
import { runLicenseCheck } from '../../src/license/run.ts';
import { hasEmittableText } from '../../src/license/texts.ts';
import { packageDerivative } from '../../src/package/package.ts';
import { makeCheckpoint, tempDir } from './helpers.ts';

const EMITTABLE = CATALOG.filter(hasEmittableText).map((entry) => entry.id);

/** A small deterministic generator (LCG), so a failing lineage is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function lineages(count: number, seed: number): string[][] {
  const next = random(seed);
  const out: string[][] = [];
  for (let i = 0; i < count; i++) {
    const size = 1 + Math.floor(next() * 3);
    const pool = [...EMITTABLE];
    const pick: string[] = [];
    while (pick.length < size) pick.push(pool.splice(Math.floor(next() * pool.length), 1)[0]!);
    out.push(pick);
  }
  return out;
}

test('license check --require-files accepts every package llama package writes (one to three licenses)', async (t) => {
  const root = await tempDir(t);
  assert.ok(EMITTABLE.length >= 8);
  for (const id of EMITTABLE) {
    const entry = CATALOG.find((e) => e.id === id)!;
    const card = entry.hfIds[0] !== undefined ? { license: entry.hfIds[0] } : { license: 'other', license_name: entry.hfLicenseNames[0] };
    await makeCheckpoint(join(root, 'bases', id), { card, licenseFrom: id });
  }
  await mkdir(join(root, 'deriv'), { recursive: true });
  await writeFile(join(root, 'deriv', 'model-Q8_0.gguf'), Buffer.alloc(4096, 7));
  const env = { HOME: root, HF_HOME: join(root, 'hf-home'), SOURCE_DATE_EPOCH: '1700000000' };
  const cases = [...EMITTABLE.map((id) => [id]), ...lineages(10, 13)];
  let multi = 0;
  for (const [index, ids] of cases.entries()) {
    const config = {
      // "Llama-3-…" satisfies both the Llama 3 and the 3.1+ naming rules.
      derivative: { name: 'Llama-3-Acme', version: '1.0.0', relation: 'quantized', baseModels: ids.map((id) => `./bases/${id}`) },
      licensee: { monthlyActiveUsers: 1000, commercial: false, euEstablished: false },
    };
    const file = join(root, `llama-${index}.json`);
    await writeFile(file, JSON.stringify(config));
    const loaded = await loadConfig({ configFile: file, cwd: root });
    const result = await packageDerivative({ inputs: [{ source: 'deriv' }], config: loaded, cwd: root, offline: true, env, out: join(root, `out-${index}`), format: 'dir' });
    if (ids.length > 1) multi++;
    const { report } = await runLicenseCheck({ config: loaded.config, baseDir: loaded.baseDir, dir: result.path, offline: true, requireFiles: true });
    const missing = report.findings.filter((f) => f.id === 'license-copy' || f.id === 'notice-file').map((f) => `${f.key}: ${f.message}`);
    assert.deepEqual(missing, [], `lineage ${ids.join(' + ')}`);
    assert.ok(!report.findings.some((f) => f.id === 'license-text'), `lineage ${ids.join(' + ')}: the package's own texts are the lineage's`);
  }
  assert.ok(multi >= 5, 'the generated cases include lineages of several licenses');
});
