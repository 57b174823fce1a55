import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { cardMetadata, generatedPathPredicate, licenseFileNames, renderCard } from '../../src/package/emit.ts';
import { packageLicenses } from '../../src/package/licensing.ts';
import type { LicensePlan } from '../../src/package/types.ts';
import { frontMatter } from './helpers.ts';

function plan(licenses: LicensePlan['licenses'], ancestors: LicensePlan['ancestors'] = []): LicensePlan {
  return { licenses, ancestors, findings: [], notice: '' };
}

describe('emitted file names', () => {
  it('ships LICENSE / USE_POLICY.md for one license and replaces the checkpoint\'s own copies', async () => {
    const licenses = await packageLicenses(['llama3.2']);
    assert.deepEqual([...licenseFileNames(licenses)], [['llama3.2', { license: 'LICENSE', usePolicy: 'USE_POLICY.md' }]]);
    const replaced = generatedPathPredicate(licenses);
    for (const path of ['LICENSE', 'LICENSE.txt', 'license.md', 'USE_POLICY.md', 'README.md', 'NOTICE', 'manifest.json', 'bom.cdx.json']) assert.ok(replaced(path), path);
    for (const path of ['model.gguf', 'docs/LICENSE', 'config.json', 'LICENSES.md']) assert.ok(!replaced(path), path);
  });

  it('names each license\'s files when several apply, and keeps a checkpoint license the tool has no text for', async () => {
    const licenses = await packageLicenses(['llama3.1', 'gemma']);
    assert.equal(licenses[1]!.licenseText, undefined, 'gemma has no byte-exact text in templates/');
    assert.deepEqual([...licenseFileNames(licenses)], [
      ['llama3.1', { license: 'LICENSE-llama3.1.txt', usePolicy: 'USE_POLICY-llama3.1.md' }],
      ['gemma', {}],
    ]);
    const replaced = generatedPathPredicate(licenses);
    assert.ok(replaced('LICENSE-llama3.1.txt'));
    assert.ok(replaced('README.md'));
    // Gemma's terms come from the checkpoint: its LICENSE must stay in the package.
    assert.ok(!replaced('LICENSE'));
    assert.ok(!replaced('LICENSE.txt'));
  });
});

describe('model card', () => {
  it('uses the Hub id for one known license, `other` with a name and link otherwise', async () => {
    const hub = cardMetadata({ name: 'Llama-X', version: '1.0.0', relation: 'finetune', plan: plan(await packageLicenses(['llama3.3']), [{ id: 'meta-llama/Llama-3.3-70B-Instruct', onHub: true, depth: 1, role: 'base', licenseId: 'llama3.3' }]), files: [] });
    assert.deepEqual(hub, { license: 'llama3.3', base_model: ['meta-llama/Llama-3.3-70B-Instruct'], base_model_relation: 'finetune', tags: ['finetune', 'llama', 'llama-dist'] });

    const qwen = cardMetadata({ name: 'Qwen-X', version: '1.0.0', plan: plan(await packageLicenses(['tongyi-qianwen'])), files: [] });
    assert.equal(qwen.license, 'other');
    assert.equal(qwen.license_name, 'tongyi-qianwen');
    assert.equal(qwen.license_link, 'LICENSE');

    // distillation is not a relation the Hub knows: left for the Hub to infer.
    const distilled = cardMetadata({ name: 'Llama-D', version: '1.0.0', relation: 'distillation', plan: plan(await packageLicenses(['llama3.1']), [{ id: 'meta-llama/Llama-3.1-8B', onHub: true, depth: 1, role: 'base' }]), files: [] });
    assert.equal(distilled.base_model_relation, undefined);
  });

  it('renders parseable front matter, each required "Built with" line once, and the files', async () => {
    const licenses = await packageLicenses(['llama3', 'llama3.1', 'llama3.2']);
    const card = renderCard({
      name: 'Llama-3-Merge',
      version: '0.1.0',
      relation: 'merge',
      plan: plan(licenses, [{ id: 'a/b', onHub: true, depth: 1, role: 'base' }, { id: 'local-ckpt', onHub: false, depth: 1, role: 'base' }]),
      files: [{ path: 'model.gguf', source: '/x', size: 3 * 1024 * 1024, mode: 0o644, explicit: true, shown: 'model.gguf' }],
    });
    const meta = parse(frontMatter(card)) as Record<string, unknown>;
    assert.equal(meta.license, 'other');
    assert.equal(meta.license_name, 'llama3-and-llama3.1-and-llama3.2');
    assert.deepEqual(meta.base_model, ['a/b']);
    assert.equal(card.split('**Built with Meta Llama 3**').length, 2);
    assert.equal(card.split('**Built with Llama**').length, 2);
    assert.match(card, /\| `model\.gguf` \| 3\.0 MiB \|/);
    assert.match(card, /\[LICENSE-llama3\.1\.txt\]\(LICENSE-llama3\.1\.txt\)/);
  });
});
