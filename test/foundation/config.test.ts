import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, SEARCH_PLACES } from '../../src/config/load.ts';
import { LlamaError } from '../../src/errors.ts';

const valid = {
  derivative: { name: 'Llama-3.1-8B-Acme', version: '1.2.0', baseModels: ['meta-llama/Llama-3.1-8B-Instruct'], relation: 'quantized' },
  licensee: { name: 'Acme Inc.', monthlyActiveUsers: 12_000_000, euEstablished: false, commercial: true },
  intendedUses: ['summarization'],
  waivers: [{ finding: 'built-with', reason: 'shown on the about page' }],
};

const yamlText = `derivative:
  name: "Llama-3.1-8B-Acme"
  version: "1.2.0"
  baseModels: ["meta-llama/Llama-3.1-8B-Instruct"]
  relation: quantized
licensee:
  name: "Acme Inc."
  monthlyActiveUsers: 12000000
  euEstablished: false
  commercial: true
intendedUses: ["summarization"]
waivers: [{ finding: "built-with", reason: "shown on the about page" }]
`;

/** One writer per search place: the file content that holds `valid`. */
const writers: Record<(typeof SEARCH_PLACES)[number], string> = {
  'package.json': JSON.stringify({ name: 'x', llama: valid }),
  '.llamarc': yamlText,
  '.llamarc.json': JSON.stringify(valid),
  '.llamarc.yaml': yamlText,
  '.llamarc.yml': yamlText,
  '.llamarc.js': `export default ${JSON.stringify(valid)};`,
  '.llamarc.mjs': `export default ${JSON.stringify(valid)};`,
  '.llamarc.cjs': `module.exports = ${JSON.stringify(valid)};`,
  'llama.config.js': `export default ${JSON.stringify(valid)};`,
  'llama.config.mjs': `export default ${JSON.stringify(valid)};`,
  'llama.config.cjs': `module.exports = ${JSON.stringify(valid)};`,
  'llama.config.ts': `interface C { derivative: { name: string } }\nconst config: C & Record<string, unknown> = ${JSON.stringify(valid)};\nexport default config;`,
};

async function tempProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-config-'));
  // ESM package so .js config files are modules, as in a modern project
  return dir;
}

for (const place of SEARCH_PLACES) {
  test(`discovers configuration in ${place}`, async () => {
    const dir = await tempProject();
    try {
      if (place !== 'package.json') await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'p', type: 'module' }));
      if (place.endsWith('.js') && place !== 'package.json') {
        // .js is ESM because of "type": "module" above
      }
      await writeFile(join(dir, place), writers[place]);
      const loaded = await loadConfig({ cwd: dir });
      assert.equal(loaded.source, 'search');
      assert.equal(loaded.filepath, join(dir, place));
      assert.equal(loaded.config.derivative?.name, 'Llama-3.1-8B-Acme');
      assert.equal(loaded.config.licensee?.monthlyActiveUsers, 12_000_000);
      assert.deepEqual(loaded.config.waivers, valid.waivers);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('search walks up from a subdirectory to the project root', async () => {
  const dir = await tempProject();
  try {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'p' }));
    await writeFile(join(dir, '.llamarc.json'), JSON.stringify(valid));
    await mkdir(join(dir, 'a', 'b'), { recursive: true });
    const loaded = await loadConfig({ cwd: join(dir, 'a', 'b') });
    assert.equal(loaded.filepath, join(dir, '.llamarc.json'));
    assert.equal(loaded.baseDir, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('no configuration file: defaults', async () => {
  const dir = await tempProject();
  try {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'p' }));
    const loaded = await loadConfig({ cwd: dir });
    assert.equal(loaded.source, 'defaults');
    assert.equal(loaded.filepath, null);
    assert.deepEqual(loaded.config, { intendedUses: [], waivers: [] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--config overrides discovery', async () => {
  const dir = await tempProject();
  try {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'p' }));
    await writeFile(join(dir, '.llamarc.json'), JSON.stringify({ docs: 'DISCOVERED.md' }));
    await writeFile(join(dir, 'release.yaml'), 'docs: EXPLICIT.md\n');
    const loaded = await loadConfig({ cwd: dir, configFile: 'release.yaml' });
    assert.equal(loaded.source, 'flag');
    assert.equal(loaded.config.docs, 'EXPLICIT.md');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function expectInvalid(content: string, name: string): Promise<LlamaError> {
  const dir = await tempProject();
  try {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'p' }));
    await writeFile(join(dir, name), content);
    await loadConfig({ cwd: dir });
  } catch (error) {
    assert.ok(error instanceof LlamaError, String(error));
    assert.equal(error.exitCode, 2);
    assert.ok(error.message.includes(join(dir, name)), `message names the file: ${error.message}`);
    return error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  throw new assert.AssertionError({ message: 'expected an invalid-config error' });
}

test('invalid type: names file, key path and what was expected', async () => {
  const error = await expectInvalid('licensee:\n  monthlyActiveUsers: "lots"\n', '.llamarc.yaml');
  assert.equal(error.code, 'CONFIG_INVALID');
  assert.match(error.message, /licensee\.monthlyActiveUsers/);
  assert.match(error.message, /expected number/);
});

test('invalid enum and nested array index are named', async () => {
  const error = await expectInvalid(JSON.stringify({ derivative: { relation: 'forked' }, waivers: [{ finding: 'x' }] }), '.llamarc.json');
  assert.match(error.message, /derivative\.relation/);
  assert.match(error.message, /quantized/);
  assert.match(error.message, /waivers\[0\]\.reason/);
});

test('unknown keys are refused, not ignored', async () => {
  const error = await expectInvalid(JSON.stringify({ derivative: { nmae: 'typo' } }), '.llamarc.json');
  assert.match(error.message, /derivative\.nmae: unknown key/);
});

test('month keys of monthlyActiveUsers must be YYYY-MM', async () => {
  const error = await expectInvalid(JSON.stringify({ licensee: { monthlyActiveUsers: { '2024-13': 5 } } }), '.llamarc.json');
  assert.match(error.message, /licensee\.monthlyActiveUsers/);
  const dir = await tempProject();
  try {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'p' }));
    await writeFile(join(dir, '.llamarc.json'), JSON.stringify({ licensee: { monthlyActiveUsers: { '2024-06': 5 } } }));
    const loaded = await loadConfig({ cwd: dir });
    assert.deepEqual(loaded.config.licensee?.monthlyActiveUsers, { '2024-06': 5 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('syntax errors are usage errors naming the file', async () => {
  const error = await expectInvalid('{ "derivative": ', '.llamarc.json');
  assert.equal(error.code, 'CONFIG_UNREADABLE');
});

test('a missing --config file is exit 2', async () => {
  await assert.rejects(loadConfig({ configFile: '/nonexistent/llama.yaml' }), (error: unknown) => {
    assert.ok(error instanceof LlamaError);
    assert.equal(error.code, 'CONFIG_NOT_FOUND');
    assert.equal(error.exitCode, 2);
    return true;
  });
});
