/**
 * `llama package` keeps the user's model card (issue 17 §15): its body and metadata go into the packaged README.md,
 * with the license metadata and the lines the licenses require added or corrected, and every override reported.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { UsageError } from '../../src/errors.ts';
import { packageDerivative, type PackageOptions } from '../../src/package/package.ts';
import { runCli } from '../support/cli.ts';
import { frontMatter, makeBase, makeDerivative, writeConfig } from './helpers.ts';

const LICENSEE = { name: 'Acme Inc.', monthlyActiveUsers: 12_000, euEstablished: false, commercial: true };

const USER_CARD = `---
language:
  - en
  - de
license: apache-2.0
license_link: https://example.com/our-license
pipeline_tag: text-generation
# reviewed by legal, LEG-7
tags:
  - chat
  - llama
datasets:
  - acme/support-tickets
base_model: meta-llama/Llama-3.2-1B
model-index:
  - name: Llama-3.2-Tiny-Card
    results: []
---
# Acme Support Assistant

Fine-tuned on a year of support tickets.

## Evaluation

| metric | value |
| --- | ---: |
| accuracy | 0.91 |
`;

describe('llama package keeps the model card', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  let configFile: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'llama-package-card-'));
    await writeFile(join(root, 'package.json'), '{"name":"release"}\n');
    env = { HOME: root, HF_HOME: join(root, 'hf-home'), HF_TOKEN: '', HF_HUB_OFFLINE: '1', SOURCE_DATE_EPOCH: '1700000000' };
    await makeBase(join(root, 'base'), '3.2');
    configFile = await writeConfig(root, { derivative: { name: 'Llama-3.2-Tiny-Card', version: '1.0.0', baseModels: ['./base'], relation: 'quantized' }, licensee: LICENSEE });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function derivativeWithCard(name: string, card: string): Promise<string> {
    const dir = join(root, name);
    await makeDerivative(dir);
    await writeFile(join(dir, 'README.md'), card);
    return dir;
  }

  async function pack(input: string, out: string, options: Partial<PackageOptions> = {}) {
    return packageDerivative({ inputs: [input], config: await loadConfig({ configFile, cwd: root }), cwd: root, offline: true, env, out, format: 'dir', ...options });
  }

  it('carries the body and metadata over, corrects the license metadata, adds the required line and reports each change', async () => {
    await derivativeWithCard('deriv', USER_CARD);
    const result = await pack('deriv', join(root, 'out'));
    const card = await readFile(join(result.path, 'README.md'), 'utf8');
    const meta = parse(frontMatter(card)) as Record<string, unknown>;

    // The user's metadata, as written.
    assert.deepEqual(meta.language, ['en', 'de']);
    assert.equal(meta.pipeline_tag, 'text-generation');
    assert.deepEqual(meta.datasets, ['acme/support-tickets']);
    assert.deepEqual(meta['model-index'], [{ name: 'Llama-3.2-Tiny-Card', results: [] }]);
    assert.equal(meta.base_model, 'meta-llama/Llama-3.2-1B');
    assert.match(frontMatter(card), /# reviewed by legal, LEG-7/);
    // The license metadata corrected, the tags completed (the user's first, in their order).
    assert.equal(meta.license, 'llama3.2');
    assert.equal(meta.license_link, undefined);
    assert.equal(meta.base_model_relation, 'quantized');
    assert.deepEqual((meta.tags as string[]).slice(0, 2), ['chat', 'llama']);
    for (const tag of ['gguf', 'quantized', 'llama-dist']) assert.ok((meta.tags as string[]).includes(tag), tag);

    // The body, whole, with the line the license requires right under the title, and the package's sections after.
    const body = card.slice(card.indexOf('\n---\n', 4) + 5).replace(/^\n/, '');
    assert.ok(body.startsWith('# Acme Support Assistant\n\n**Built with Llama**\n\nFine-tuned on a year of support tickets.\n'), body);
    assert.ok(body.includes('## Evaluation\n\n| metric | value |\n| --- | ---: |\n| accuracy | 0.91 |\n'), body);
    assert.match(body, /## License\n\n- \*\*Llama 3\.2 Community License Agreement\*\*/);
    assert.match(body, /\| `model-Q8_0\.gguf` \|/);

    // Every change to what the user wrote is reported; nothing else is.
    assert.equal(result.card.source, 'deriv/README.md');
    const changes = result.card.changes.join('\n');
    assert.match(changes, /license: apache-2\.0 → llama3\.2/);
    assert.match(changes, /license_link: removed https:\/\/example\.com\/our-license/);
    assert.match(changes, /base_model_relation: added quantized/);
    assert.match(changes, /tags: added gguf, llama-dist, quantized/);
    assert.match(changes, /Built with Llama/);
    assert.equal(result.card.changes.length, 5, changes);
    assert.ok(!result.notes.some((n) => n.includes('README.md')), result.notes.join('\n'));
  });

  it('packages its own card again without repeating what it added, and reports nothing then', async () => {
    const first = await pack('deriv', join(root, 'out-again-1'), { version: '1.0.1' });
    const again = await derivativeWithCard('deriv-again', await readFile(join(first.path, 'README.md'), 'utf8'));
    const second = await pack(again, join(root, 'out-again-2'), { version: '1.0.2' });
    const card = await readFile(join(second.path, 'README.md'), 'utf8');
    assert.equal(card.split('**Built with Llama**').length, 2, card);
    assert.equal(card.split('## License').length, 2, card);
    assert.match(card, /Version 1\.0\.2\./);
    assert.doesNotMatch(card, /Version 1\.0\.1\./);
    assert.deepEqual(second.card.changes, []);
  });

  it('refuses a card whose front matter is not YAML, and one that holds the token, leaving nothing at --out', async () => {
    await derivativeWithCard('bad-yaml', '---\nlicense: [unclosed\n---\n# Card\n');
    const out = join(root, 'out-bad');
    await assert.rejects(pack('bad-yaml', out), (error: unknown) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.equal(error.code, 'PACKAGE_CARD_INVALID');
      assert.match(error.message, /bad-yaml\/README\.md/);
      return true;
    });
    await assert.rejects(stat(out), { code: 'ENOENT' });

    const token = `hf_${'CardT0ken'.repeat(4)}`;
    await mkdir(join(root, 'hf-home'), { recursive: true });
    await derivativeWithCard('leaky-card', `# Card\n\nlogin with ${token}\n`);
    await assert.rejects(pack('leaky-card', out), (error: unknown) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.equal(error.code, 'PACKAGE_SECRET_IN_OUTPUT');
      assert.match(error.message, /leaky-card\/README\.md/);
      assert.ok(!error.message.includes(token));
      return true;
    });
    await assert.rejects(stat(out), { code: 'ENOENT' });
  });

  it('shows the changes in the command output and under --json', async () => {
    const text = await runCli(['package', 'deriv', '--out', 'out-cli', '--version', '2.0.0'], { cwd: root, env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Model card: kept deriv\/README\.md, with 5 changes:$/m);
    assert.match(text.stdout, /^ {2}license: apache-2\.0 → llama3\.2/m);
    const json = await runCli(['package', 'deriv', '--out', 'out-cli', '--version', '2.0.1', '--json'], { cwd: root, env });
    assert.equal(json.code, 0, json.stderr);
    const result = JSON.parse(json.stdout) as { card: { source: string; changes: string[] } };
    assert.equal(result.card.source, 'deriv/README.md');
    assert.equal(result.card.changes.length, 5);
  });
});
