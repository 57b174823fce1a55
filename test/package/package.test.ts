import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { ComplianceError, UsageError } from '../../src/errors.ts';
import type { PackageManifest } from '../../src/package/manifest.ts';
import type { ProgressEvent } from '../../src/progress/events.ts';
import { packageDerivative, type PackageOptions } from '../../src/package/package.ts';
import { frontMatter, makeBase, makeDerivative, snapshot, validateCycloneDx16, writeConfig, type BaseVersion } from './helpers.ts';

const TEMPLATES = new URL('../../templates/licenses/', import.meta.url);

/** The exact NOTICE sentence of each license version, as its §1.b.iii quotes it. */
const NOTICE_SENTENCES: Record<string, string> = {
  llama2: 'Llama 2 is licensed under the LLAMA 2 Community License, Copyright (c) Meta Platforms, Inc. All Rights Reserved.',
  llama3: 'Meta Llama 3 is licensed under the Meta Llama 3 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
  'llama3.1': 'Llama 3.1 is licensed under the Llama 3.1 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
  'llama3.2': 'Llama 3.2 is licensed under the Llama 3.2 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
  'llama3.3': 'Llama 3.3 is licensed under the Llama 3.3 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
  llama4: 'Llama 4 is licensed under the Llama 4 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
};

const VERSIONS: Array<{ version: BaseVersion; id: string; name: string; builtWith: string | null }> = [
  { version: '2', id: 'llama2', name: 'Tiny-Acme-L2-Q8_0', builtWith: null },
  { version: '3', id: 'llama3', name: 'Llama-3-Tiny-Acme-Q8_0', builtWith: 'Built with Meta Llama 3' },
  { version: '3.1', id: 'llama3.1', name: 'Llama-3.1-Tiny-Acme-Q8_0', builtWith: 'Built with Llama' },
  { version: '3.2', id: 'llama3.2', name: 'Llama-3.2-Tiny-Acme-Q8_0', builtWith: 'Built with Llama' },
  { version: '3.3', id: 'llama3.3', name: 'Llama-3.3-Tiny-Acme-Q8_0', builtWith: 'Built with Llama' },
  { version: '4', id: 'llama4', name: 'Llama-4-Tiny-Acme-Q8_0', builtWith: 'Built with Llama' },
];

const LICENSEE = { name: 'Acme Inc.', monthlyActiveUsers: 12_000, euEstablished: false, commercial: true };
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('llama package', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'llama-package-'));
    env = { HOME: root, HF_HOME: join(root, 'hf-home'), SOURCE_DATE_EPOCH: '1700000000' };
    for (const { version } of VERSIONS) await makeBase(join(root, 'bases', version), version);
    await makeBase(join(root, 'bases', 'tampered'), '3.2', { tamper: true });
    await makeDerivative(join(root, 'deriv'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function pack(config: Record<string, unknown>, options: Partial<PackageOptions> & { configName?: string } = {}) {
    const file = await writeConfig(root, config, options.configName ?? 'llama.json');
    return packageDerivative({
      inputs: [{ source: 'deriv' }],
      config: await loadConfig({ configFile: file, cwd: root }),
      cwd: root,
      offline: true,
      env,
      ...options,
    });
  }

  function derivative(version: BaseVersion, name: string, extra: Record<string, unknown> = {}) {
    return { name, version: '1.0.0', baseModels: [`./bases/${version}`], relation: 'quantized', ...extra };
  }

  it('emits verbatim texts, the exact NOTICE and a card with the right license id for each Llama version', async () => {
    for (const v of VERSIONS) {
      const out = join(root, `out-${v.id}`);
      const result = await pack({ derivative: derivative(v.version, v.name), licensee: LICENSEE }, { out, format: 'dir', configName: `llama-${v.id}.json` });
      const dir = result.path;
      assert.equal(dir, join(out, `${v.name}-1.0.0`));
      assert.deepEqual((await readdir(dir)).sort(), ['LICENSE', 'NOTICE', 'README.md', 'USE_POLICY.md', 'bom.cdx.json', 'manifest.json', 'model-Q8_0.gguf', 'tokenizer'].sort());

      // Byte for byte the upstream files.
      assert.deepEqual(await readFile(join(dir, 'LICENSE')), await readFile(new URL(`${v.id}/LICENSE.txt`, TEMPLATES)));
      assert.deepEqual(await readFile(join(dir, 'USE_POLICY.md')), await readFile(new URL(`${v.id}/USE_POLICY.md`, TEMPLATES)));

      // The sentence is the one the license itself quotes (whitespace aside), and NOTICE holds exactly it.
      const sentence = NOTICE_SENTENCES[v.id]!;
      const licenseText = (await readFile(join(dir, 'LICENSE'), 'utf8')).replace(/\s+/g, ' ');
      assert.ok(licenseText.includes(sentence), `${v.id}: sentence not in the license text`);
      assert.equal(await readFile(join(dir, 'NOTICE'), 'utf8'), `${sentence}\n`);

      const card = await readFile(join(dir, 'README.md'), 'utf8');
      const meta = parse(frontMatter(card)) as Record<string, unknown>;
      assert.equal(meta.license, v.id, v.id);
      assert.equal(meta.license_name, undefined);
      assert.ok((meta.tags as string[]).includes('llama'));
      assert.ok((meta.tags as string[]).includes('gguf'));
      if (v.builtWith) assert.ok(card.includes(`\n**${v.builtWith}**\n`), `${v.id}: card lacks ${v.builtWith}`);
      else assert.ok(!card.includes('Built with'), `${v.id}: card has a Built with line it does not need`);
    }
  });

  it('merges several ancestors from the Hugging Face cache: one file per license, NOTICE lines in lineage order, hub metadata', async () => {
    const cache = join(root, 'hf-cache');
    const repos = [
      { id: 'meta-llama/Llama-3.1-8B', base: '3.1', commit: '1'.repeat(40) },
      { id: 'meta-llama/Llama-3.2-1B', base: '3.2', commit: 'ab'.repeat(20) },
    ];
    for (const repo of repos) {
      const folder = join(cache, `models--${repo.id.replace('/', '--')}`);
      const snap = join(folder, 'snapshots', repo.commit);
      await mkdir(join(folder, 'refs'), { recursive: true });
      await writeFile(join(folder, 'refs', 'main'), repo.commit);
      await cp(join(root, 'bases', repo.base), snap, { recursive: true });
    }
    const attribution = 'Merged by Acme Inc.\nContact: ml@acme.example';
    const out = join(root, 'out-merge');
    const result = await pack({
      derivative: { name: 'Llama-Merge-Tiny', version: '2.0.0', baseModels: repos.map((r) => r.id), relation: 'merge', attribution },
      licensee: LICENSEE,
      pull: { cacheDir: './hf-cache' },
    }, { out, format: 'dir', configName: 'llama-merge.json' });
    const dir = result.path;
    const names = (await readdir(dir)).sort();
    assert.deepEqual(names.filter((n) => /^(LICENSE|USE_POLICY)/.test(n)), ['LICENSE-llama3.1.txt', 'LICENSE-llama3.2.txt', 'USE_POLICY-llama3.1.md', 'USE_POLICY-llama3.2.md']);
    for (const id of ['llama3.1', 'llama3.2']) {
      assert.deepEqual(await readFile(join(dir, `LICENSE-${id}.txt`)), await readFile(new URL(`${id}/LICENSE.txt`, TEMPLATES)));
      assert.deepEqual(await readFile(join(dir, `USE_POLICY-${id}.md`)), await readFile(new URL(`${id}/USE_POLICY.md`, TEMPLATES)));
    }
    assert.equal(await readFile(join(dir, 'NOTICE'), 'utf8'), `${NOTICE_SENTENCES['llama3.1']}\n${NOTICE_SENTENCES['llama3.2']}\n\n${attribution}\n`);

    const meta = parse(frontMatter(await readFile(join(dir, 'README.md'), 'utf8'))) as Record<string, unknown>;
    assert.equal(meta.license, 'other');
    assert.equal(meta.license_name, 'llama3.1-and-llama3.2');
    assert.equal(meta.license_link, 'LICENSE-llama3.1.txt');
    assert.deepEqual(meta.base_model, repos.map((r) => r.id));
    assert.equal(meta.base_model_relation, 'merge');

    const bomText = await readFile(join(dir, 'bom.cdx.json'), 'utf8');
    assert.equal(await validateCycloneDx16(bomText), null);
    const bom = JSON.parse(bomText) as { metadata: { component: { pedigree: { ancestors: Array<{ purl?: string; licenses?: Array<{ license: { name: string } }> }> }; licenses: unknown[] } } };
    const ancestors = bom.metadata.component.pedigree.ancestors;
    assert.deepEqual(ancestors.map((a) => a.purl), repos.map((r) => `pkg:huggingface/${r.id}@${r.commit}`));
    assert.deepEqual(ancestors.map((a) => a.licenses?.[0]?.license.name), ['Llama 3.1 Community License Agreement', 'Llama 3.2 Community License Agreement']);
    assert.equal(bom.metadata.component.licenses.length, 2);
  });

  it('writes a valid CycloneDX 1.6 ML-BOM and a manifest whose digests match the files', async () => {
    const out = join(root, 'out-bom');
    const result = await pack({ derivative: derivative('3.2', 'Llama-3.2-Tiny-Bom'), licensee: LICENSEE }, { out, format: 'dir', configName: 'llama-bom.json' });
    const dir = result.path;
    const bomText = await readFile(join(dir, 'bom.cdx.json'), 'utf8');
    assert.equal(await validateCycloneDx16(bomText), null);
    type Bom = { specVersion: string; metadata: { timestamp: string; component: { type: string; hashes: unknown; licenses: unknown; pedigree: { ancestors: Array<{ name: string }> } } } };
    const bom = JSON.parse(bomText) as Bom;
    assert.equal(bom.specVersion, '1.6');
    assert.equal(bom.metadata.timestamp, '2023-11-14T22:13:20Z');
    const model = bom.metadata.component;
    assert.equal(model.type, 'machine-learning-model');
    assert.deepEqual(model.hashes, [{ alg: 'SHA-256', content: sha256(await readFile(join(root, 'deriv', 'model-Q8_0.gguf'))) }]);
    assert.deepEqual(model.licenses, [{ license: { name: 'Llama 3.2 Community License Agreement', acknowledgement: 'declared', properties: [{ name: 'llama-dist:licenseRef', value: 'LicenseRef-scancode-llama-3.2-license-2024' }] } }]);
    assert.equal(model.pedigree.ancestors[0]?.name, '3.2');

    // A BOM that breaks the schema is caught by the same validation (the check can fail).
    const broken = JSON.parse(bomText) as Bom;
    broken.metadata.component.licenses = [{ license: { id: 'llama3.2' } }];
    assert.notEqual(await validateCycloneDx16(JSON.stringify(broken)), null);

    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as PackageManifest;
    assert.equal(manifest.name, 'Llama-3.2-Tiny-Bom');
    assert.equal(manifest.version, '1.0.0');
    assert.equal(manifest.tool.name, 'llama-dist');
    assert.deepEqual(manifest.files.map((f) => f.path), ['LICENSE', 'NOTICE', 'README.md', 'USE_POLICY.md', 'bom.cdx.json', 'model-Q8_0.gguf', 'tokenizer/tokenizer_config.json']);
    for (const file of manifest.files) {
      const bytes = await readFile(join(dir, file.path));
      assert.equal(file.size, bytes.length, file.path);
      assert.equal(file.sha256, sha256(bytes), file.path);
    }
    assert.equal(manifest.files.find((f) => f.path === 'model-Q8_0.gguf')?.role, 'weights');
    assert.deepEqual(manifest.lineage.ancestors, [{ id: '3.2', onHub: false, depth: 1, role: 'base', licenseId: 'llama3.2' }]);
    assert.ok(!JSON.stringify(manifest).includes(root), 'the manifest must not hold absolute paths of this machine');
  });

  it('gives byte-identical archives across runs with different mtimes, umask and working directory', async () => {
    const runner = new URL('./run-package.ts', import.meta.url).pathname;
    const workspaces = ['ws-a', 'ws-b'].map((w) => join(root, w));
    for (const [i, ws] of workspaces.entries()) {
      await cp(join(root, 'deriv'), join(ws, 'deriv'), { recursive: true, preserveTimestamps: i === 0 });
      await cp(join(root, 'bases', '3.2'), join(ws, 'base'), { recursive: true });
      await writeConfig(ws, { derivative: { name: 'Llama-3.2-Tiny-Repro', version: '1.0.0', baseModels: ['./base'], relation: 'quantized' }, licensee: LICENSEE });
      await mkdir(join(ws, 'sub'), { recursive: true });
    }
    // Second workspace: other mtimes and group/other permission bits on the inputs.
    execFileSync('touch', ['-d', '2001-02-03 04:05:06', join(workspaces[1]!, 'deriv', 'model-Q8_0.gguf')]);
    execFileSync('chmod', ['0600', join(workspaces[1]!, 'deriv', 'tokenizer', 'tokenizer_config.json')]);

    const run = (ws: string, umask: string, cwd: string, inputs: string[], args: Record<string, unknown>) =>
      JSON.parse(execFileSync('sh', ['-c', `umask ${umask} && cd "$0" && exec "$1" "$2" "$3"`, cwd, process.execPath, runner, JSON.stringify({ inputs, offline: true, configFile: join(ws, '.llamarc.json'), ...args })], {
        env: { ...env, PATH: process.env.PATH },
        encoding: 'utf8',
      })) as { path: string; sha256: string };

    const a = run(workspaces[0]!, '022', workspaces[0]!, ['deriv'], { out: 'out' });
    const b = run(workspaces[1]!, '077', join(workspaces[1]!, 'sub'), ['../deriv'], { out: '../out' });
    const bytesA = await readFile(a.path);
    const bytesB = await readFile(b.path);
    assert.ok(bytesA.equals(bytesB), 'archives differ');
    assert.equal(a.sha256, sha256(bytesA));
    assert.equal(await readFile(`${a.path}.sha256`, 'utf8'), await readFile(`${b.path}.sha256`, 'utf8'));
    assert.equal((await stat(b.path)).mode & 0o777, 0o644);
    execFileSync('sha256sum', ['-c', 'Llama-3.2-Tiny-Repro-1.0.0.tar.sha256'], { cwd: join(workspaces[1]!, 'out') });

    // GNU tar lists owner 0/0, the epoch, normalised modes; the order is the documented one.
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', a.path], { encoding: 'utf8', env: { TZ: 'UTC', LC_ALL: 'C', PATH: process.env.PATH } }).trim().split('\n');
    for (const line of listing) assert.match(line, /^(drwxr-xr-x|-rw-r--r--) 0\/0 +\d+ 2023-11-14 22:13 Llama-3\.2-Tiny-Repro-1\.0\.0\//);
    assert.deepEqual(listing.map((l) => l.split(' ').pop()!.replace('Llama-3.2-Tiny-Repro-1.0.0/', '')), [
      '', 'LICENSE', 'NOTICE', 'README.md', 'USE_POLICY.md', 'model-Q8_0.gguf', 'tokenizer/', 'tokenizer/tokenizer_config.json', 'bom.cdx.json', 'manifest.json',
    ]);

    // What tar -xf extracts is the tree --format dir writes.
    const extracted = join(root, 'extracted');
    await mkdir(extracted);
    execFileSync('tar', ['-xf', a.path, '-C', extracted]);
    const asDir = run(workspaces[0]!, '022', workspaces[0]!, ['deriv'], { out: 'out-dir', format: 'dir' });
    assert.deepEqual(await snapshot(join(extracted, 'Llama-3.2-Tiny-Repro-1.0.0')), await snapshot(asDir.path));
  });

  it('stops on each blocking finding with exit 3 and leaves --out untouched', async () => {
    await mkdir(join(root, 'bases', 'unlicensed'), { recursive: true });
    await writeFile(join(root, 'bases', 'unlicensed', 'README.md'), '---\npipeline_tag: text-generation\n---\n# no license\n');
    await mkdir(join(root, 'bases', 'research'), { recursive: true });
    await writeFile(join(root, 'bases', 'research', 'README.md'), '---\nlicense: other\nlicense_name: tongyi-qianwen-research\n---\n# research only\n');

    const out = join(root, 'out-blocked');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'Llama-3.2-Tiny-Acme-0.9.0.tar'), 'an earlier release');
    const before = await snapshot(out);
    const cases: Array<{ finding: string; derivative: Record<string, unknown>; licensee?: Record<string, unknown>; intendedUses?: string[] }> = [
      { finding: 'naming-prefix', derivative: derivative('3.2', 'Acme-Tiny-Q8_0') },
      { finding: 'mau-threshold', derivative: derivative('3.2', 'Llama-3.2-Tiny-Acme'), licensee: { ...LICENSEE, monthlyActiveUsers: 700_000_001 } },
      { finding: 'license-unknown', derivative: { ...derivative('3.2', 'Llama-3.2-Tiny-Acme'), baseModels: ['./bases/unlicensed'] } },
      { finding: 'license-text', derivative: { ...derivative('3.2', 'Llama-3.2-Tiny-Acme'), baseModels: ['./bases/tampered'] } },
      { finding: 'eu-multimodal', derivative: derivative('3.2', 'Llama-3.2-Tiny-Acme', { multimodal: true }), licensee: { ...LICENSEE, euEstablished: true } },
      { finding: 'aup-prohibited', derivative: derivative('3.2', 'Llama-3.2-Tiny-Acme'), intendedUses: ['military battlefield targeting'] },
      { finding: 'outputs-training', derivative: derivative('3.2', 'Llama-3.2-Tiny-Acme', { trainedOnOutputsOf: ['./bases/3'] }) },
      { finding: 'research-only', derivative: { ...derivative('3.2', 'Tiny-Acme'), baseModels: ['./bases/research'] } },
    ];
    for (const c of cases) {
      const config = { derivative: c.derivative, licensee: c.licensee ?? LICENSEE, ...(c.intendedUses ? { intendedUses: c.intendedUses } : {}) };
      for (const format of ['tar', 'dir'] as const) {
        await assert.rejects(pack(config, { out, format, configName: `blocked-${c.finding}.json` }), (error: unknown) => {
          assert.ok(error instanceof ComplianceError, `${c.finding}: ${String(error)}`);
          assert.equal(error.exitCode, 3);
          assert.equal(error.code, 'PACKAGE_BLOCKED');
          const ids = (error.details?.findings as Array<{ id: string }>).map((f) => f.id);
          assert.ok(ids.includes(c.finding), `${c.finding}: got ${ids.join(', ')}`);
          return true;
        });
        assert.deepEqual(await snapshot(out), before, `${c.finding}: --out changed`);
      }
      // An --out that does not exist is not even created.
      const fresh = join(root, `never-${c.finding}`);
      await assert.rejects(pack(config, { out: fresh, configName: `blocked-${c.finding}.json` }), ComplianceError);
      await assert.rejects(stat(fresh), { code: 'ENOENT' });
    }
  });

  it('packages a waived finding and records findings and waivers in the manifest', async () => {
    const out = join(root, 'out-waived');
    const waivers = [
      { finding: 'naming-prefix', reason: 'Legal approved the name in ticket LEG-42.' },
      { finding: 'mau-threshold', reason: 'stale waiver that matches nothing' },
    ];
    const result = await pack({ derivative: derivative('3.2', 'Acme-Tiny-Q8_0'), licensee: LICENSEE, waivers }, { out, configName: 'llama-waived.json' });
    const extracted = execFileSync('tar', ['-xOf', result.path, 'Acme-Tiny-Q8_0-1.0.0/manifest.json'], { encoding: 'utf8' });
    const manifest = JSON.parse(extracted) as PackageManifest;
    const naming = manifest.findings.find((f) => f.id === 'naming-prefix');
    assert.equal(naming?.severity, 'blocking');
    assert.deepEqual(naming?.waived, { reason: 'Legal approved the name in ticket LEG-42.' });
    assert.deepEqual(manifest.waivers, [
      { finding: 'naming-prefix', reason: 'Legal approved the name in ticket LEG-42.', applied: true },
      { finding: 'mau-threshold', reason: 'stale waiver that matches nothing', applied: false },
    ]);
    assert.ok(result.findings.some((f) => f.id === 'naming-prefix' && f.waived));

    // A waived finding about a local checkpoint's file names it relative to the configuration, not by this
    // machine's absolute path.
    const tampered = await pack({
      derivative: { ...derivative('3.2', 'Llama-3.2-Tiny-Waived'), baseModels: ['./bases/tampered'] },
      licensee: LICENSEE,
      waivers: [{ finding: 'license-text', reason: 'Upstream fixed a typo; confirmed with legal.' }],
    }, { out, format: 'dir', configName: 'llama-waived-text.json' });
    const text = await readFile(join(tampered.path, 'manifest.json'), 'utf8');
    const licenseText = (JSON.parse(text) as PackageManifest).findings.find((f) => f.id === 'license-text');
    assert.ok(licenseText?.waived);
    assert.match(licenseText.message, /bases\/tampered\/LICENSE/);
    assert.ok(!text.includes(root), licenseText.message);
  });

  it('takes --bump from the newest package in --out and refuses a version that does not increase', async () => {
    const out = join(root, 'out-bump');
    const config = { derivative: derivative('3.2', 'Llama-3.2-Tiny-Bump'), licensee: LICENSEE };
    const first = await pack(config, { out, configName: 'llama-bump.json' });
    assert.equal(first.version, '1.0.0');
    const second = await pack(config, { out, bump: 'minor', configName: 'llama-bump.json' });
    assert.equal(second.version, '1.1.0');
    assert.equal(second.path, join(out, 'Llama-3.2-Tiny-Bump-1.1.0.tar'));
    const before = await snapshot(out);
    for (const version of ['1.1.0', '1.0.9']) {
      await assert.rejects(pack(config, { out, version, configName: 'llama-bump.json' }), (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.equal(error.code, 'PACKAGE_VERSION_NOT_INCREASING');
        assert.equal(error.exitCode, 2);
        return true;
      });
    }
    await assert.rejects(pack(config, { out, version: 'v2', configName: 'llama-bump.json' }), { code: 'PACKAGE_VERSION_INVALID' });
    assert.deepEqual(await snapshot(out), before);
  });

  it('leaves the output directory out when it lies inside an input, and reports progress in bytes', async () => {
    const project = join(root, 'selfpack');
    await cp(join(root, 'deriv'), project, { recursive: true });
    const config = { derivative: derivative('3.2', 'Llama-3.2-Tiny-Self'), licensee: LICENSEE };
    const events: ProgressEvent[] = [];
    const first = await pack(config, { inputs: [{ source: 'selfpack' }], out: 'selfpack/packages', configName: 'llama-self.json', onProgress: (e) => events.push(e) });
    const second = await pack(config, { inputs: [{ source: 'selfpack' }], out: 'selfpack/packages', bump: 'patch', configName: 'llama-self.json' });
    assert.equal(second.version, '1.0.1');
    assert.deepEqual(second.manifest.files.map((f) => f.path), first.manifest.files.map((f) => f.path));
    assert.ok(!second.manifest.files.some((f) => f.path.startsWith('packages/')));
    assert.ok(second.notes.some((n) => n.includes('output directory')));

    const payload = first.manifest.files.filter((f) => f.role === 'weights' || f.role === 'file').reduce((sum, f) => sum + f.size, 0);
    assert.deepEqual(events[0], { type: 'start', task: 'package', label: 'Llama-3.2-Tiny-Self-1.0.0.tar', unit: 'bytes', total: payload });
    const advances = events.filter((e) => e.type === 'advance');
    assert.deepEqual(advances.at(-1), { type: 'advance', task: 'package', done: payload, total: payload });
    assert.deepEqual(events.at(-1), { type: 'end', task: 'package', ok: true });
  });

  it('stops on an aborted signal with an AbortError and leaves nothing at --out', async () => {
    const out = join(root, 'out-aborted');
    const controller = new AbortController();
    const events: ProgressEvent[] = [];
    const run = pack({ derivative: derivative('3.2', 'Llama-3.2-Tiny-Abort'), licensee: LICENSEE }, {
      out,
      configName: 'llama-abort.json',
      // Abort once copying has begun: the sink exists and --out was created.
      onProgress: (e) => {
        events.push(e);
        if (e.type === 'start') controller.abort();
      },
      signal: controller.signal,
    });
    await assert.rejects(run, (error: unknown) => (error as Error).name === 'AbortError');
    assert.ok(events.some((e) => e.type === 'start'));
    await assert.rejects(stat(out), { code: 'ENOENT' });
  });

  it('never lets the Hugging Face token into the package', async () => {
    const token = `hf_${'Zx9'.repeat(12)}`;
    const out = join(root, 'out-token');
    await assert.rejects(
      pack({ derivative: derivative('3.2', 'Llama-3.2-Tiny-Token', { attribution: `Made by Acme (token ${token})` }), licensee: LICENSEE }, { out, env: { ...env, HF_TOKEN: token }, configName: 'llama-token.json' }),
      (error: unknown) => error instanceof UsageError && error.code === 'PACKAGE_SECRET_IN_OUTPUT' && !error.message.includes(token),
    );
    await assert.rejects(stat(out), { code: 'ENOENT' });
    const ok = await pack({ derivative: derivative('3.2', 'Llama-3.2-Tiny-Token'), licensee: LICENSEE }, { out, env: { ...env, HF_TOKEN: token }, configName: 'llama-token.json' });
    assert.ok(!(await readFile(ok.path)).includes(token));
  });
});
