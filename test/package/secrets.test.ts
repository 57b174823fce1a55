/**
 * The token never reaches a package (issue 17 §6b): with the user's real token in $HF_HOME/token, no staged file may
 * carry it, whatever its name or extension, and a hard link to the token file is refused like the file itself.
 * Each refusal names the file, never prints the token, and leaves nothing at --out.
 */
import assert from 'node:assert/strict';
import { link, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { UsageError } from '../../src/errors.ts';
import { packageDerivative, type PackageOptions } from '../../src/package/package.ts';
import { SLOT_BYTES } from '../../src/package/pipeline.ts';
import { makeBase, makeDerivative, writeConfig } from './helpers.ts';

const LICENSEE = { name: 'Acme Inc.', monthlyActiveUsers: 12_000, euEstablished: false, commercial: true };
/** The user's real token, as `hf auth login` leaves it in $HF_HOME/token. */
const TOKEN = `hf_${'RealT0ken'.repeat(4)}`;
/** A token of the right shape that this machine does not know (someone else's, pasted into a log). */
const FOREIGN = `hf_${'Other7oken'.repeat(4)}`;

describe('llama package keeps the token out', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  let configFile: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'llama-package-secrets-'));
    env = { HOME: root, HF_HOME: join(root, 'hf-home'), HF_TOKEN: '', SOURCE_DATE_EPOCH: '1700000000' };
    await mkdir(join(root, 'hf-home'), { recursive: true });
    await writeFile(join(root, 'hf-home', 'token'), `${TOKEN}\n`);
    await makeBase(join(root, 'base'), '3.2');
    configFile = await writeConfig(root, { derivative: { name: 'Llama-3.2-Tiny-Secret', version: '1.0.0', baseModels: ['./base'], relation: 'quantized' }, licensee: LICENSEE });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A fresh derivative directory with one extra file. */
  async function derivativeWith(name: string, file: string, content: string | Buffer): Promise<string> {
    const dir = join(root, 'inputs', name);
    await makeDerivative(dir);
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), content);
    return dir;
  }

  async function pack(inputs: string[], out: string, options: Partial<PackageOptions> = {}) {
    return packageDerivative({
      inputs: inputs.map((source) => ({ source })),
      config: await loadConfig({ configFile, cwd: root }),
      cwd: root,
      offline: true,
      env,
      out,
      ...options,
    });
  }

  /** Refused with `code`, naming `file`, without the token; --out (fresh) is not even created. */
  async function refused(inputs: string[], code: string, file: string, options: Partial<PackageOptions> = {}) {
    for (const format of ['tar', 'dir'] as const) {
      const out = join(root, `out-${code}-${format}-${Math.random().toString(36).slice(2)}`);
      await assert.rejects(pack(inputs, out, { format, ...options }), (error: unknown) => {
        assert.ok(error instanceof UsageError, `${file}: expected a UsageError, got ${String(error)}`);
        assert.equal(error.code, code, `${file}: ${error.message}`);
        assert.equal(error.exitCode, 2);
        const shown = JSON.stringify({ message: error.message, hint: error.hint, details: error.details });
        assert.ok(shown.includes(file), `${file}: the error does not name the file: ${error.message}`);
        for (const token of [TOKEN, FOREIGN]) assert.ok(!shown.includes(token), `${file}: the error prints the token`);
        return true;
      });
      await assert.rejects(stat(out), { code: 'ENOENT' }, `${file} (${format}): something was left at --out`);
    }
  }

  it('refuses ordinary inputs that hold the token, whatever their name or extension', async () => {
    const notebook = JSON.stringify({ cells: [{ cell_type: 'code', source: [`login(token="${TOKEN}")`] }] });
    const weights = Buffer.concat([Buffer.from([0x80, 0x02, 0x00, 0x00]), Buffer.from(TOKEN), Buffer.alloc(64)]);
    const cases: Array<[string, string | Buffer]> = [
      ['train.log', `step 1 loss 2.1\nHF_TOKEN=${TOKEN}\n`],
      ['nohup.out', `Logged in with ${TOKEN}\n`],
      ['run.ipynb', notebook],
      ['hf_token.bak', TOKEN],
      ['optimizer.bin', weights],
      ['config.json', `{"auth": "${TOKEN}"}`],
    ];
    for (const [file, content] of cases) {
      const dir = await derivativeWith(`holds-${file}`, file, content);
      await refused([dir], 'PACKAGE_SECRET_IN_FILE', file);
    }
    // Named directly as an INPUT (the opt-in for secret-looking names) is no opt-in for the token.
    const named = await derivativeWith('named', 'notes/train.log', `token ${TOKEN}\n`);
    await refused([join(named, 'notes', 'train.log')], 'PACKAGE_SECRET_IN_FILE', 'train.log');
  });

  it('finds a token split across two read chunks, in binary and in text files', async () => {
    const at = SLOT_BYTES - 10;
    const binary = Buffer.alloc(SLOT_BYTES + 4096);
    binary[0] = 0;
    Buffer.from(TOKEN).copy(binary, at);
    await refused([await derivativeWith('split-binary', 'shard.bin', binary)], 'PACKAGE_SECRET_IN_FILE', 'shard.bin');

    const text = Buffer.alloc(SLOT_BYTES + 4096, 'a');
    text[at - 1] = 0x20;
    Buffer.from(`${FOREIGN} `).copy(text, at);
    await refused([await derivativeWith('split-text', 'data.jsonl', text)], 'PACKAGE_SECRET_IN_FILE', 'data.jsonl');
  });

  it('refuses token-shaped strings in text files of any extension, and leaves binary files and near misses alone', async () => {
    for (const file of ['train.log', 'nohup.out', 'run.ipynb', 'notes.bak']) {
      await refused([await derivativeWith(`foreign-${file}`, file, `see ${FOREIGN}\n`)], 'PACKAGE_SECRET_IN_FILE', file);
    }
    // Binary content (a NUL byte early on) is searched only for the tokens this machine holds.
    const blob = Buffer.concat([Buffer.from([0, 1, 2, 3]), Buffer.from(FOREIGN), Buffer.alloc(16)]);
    const okBinary = await pack([await derivativeWith('foreign-binary', 'extra.bin', blob)], join(root, 'out-binary'), { format: 'dir' });
    assert.deepEqual(await readFile(join(okBinary.path, 'extra.bin')), blob);
    // Not tokens: too short, part of a longer word, an underscore after the run.
    const nearMiss = `hf_short hf_transfer x${FOREIGN} ${FOREIGN}_suffix\n`;
    const okText = await pack([await derivativeWith('near-miss', 'train.log', nearMiss)], join(root, 'out-near-miss'), { format: 'dir' });
    assert.equal(await readFile(join(okText.path, 'train.log'), 'utf8'), nearMiss);
  });

  it('refuses a hard link to the token file like the file itself', async () => {
    const dir = join(root, 'inputs', 'hardlink');
    await makeDerivative(dir);
    await link(join(root, 'hf-home', 'token'), join(dir, 'cached-login'));
    await refused([dir], 'PACKAGE_SECRET_FILE', 'cached-login');
    await refused([join(dir, 'cached-login')], 'PACKAGE_SECRET_FILE', 'cached-login');
  });

  it('knows the tokens of the flag, HF_TOKEN and stored_tokens, not only the token file', async () => {
    const flagToken = 'mirror-token-123';
    await refused([await derivativeWith('flag', 'train.log', `using ${flagToken}\n`)], 'PACKAGE_SECRET_IN_FILE', 'train.log', { token: flagToken });
    const envToken = 'env-token-abcdef';
    await refused([await derivativeWith('env', 'train.log', `using ${envToken}\n`)], 'PACKAGE_SECRET_IN_FILE', 'train.log', { env: { ...env, HF_TOKEN: envToken } });
    // (moved from stage.test.ts) a token of the hub's shape in config.json, and one of another format in notes.md.
    const hfShaped = `hf_${'Q'.repeat(34)}`;
    await refused([await derivativeWith('leaky', 'config.json', `{"auth": "${hfShaped}"}`)], 'PACKAGE_SECRET_IN_FILE', 'config.json', { env: { ...env, HF_TOKEN: hfShaped } });
    await refused([await derivativeWith('other-token', 'notes.md', 'use abcdefgh12345678 to log in')], 'PACKAGE_SECRET_IN_FILE', 'notes.md', { env: { ...env, HF_TOKEN: 'abcdefgh12345678' } });
    const stored = 'stored-token-xyz987';
    const home = join(root, 'hf-home-stored');
    await mkdir(home, { recursive: true });
    await writeFile(join(home, 'stored_tokens'), `[work]\nhf_token = ${stored}\n`);
    await refused([await derivativeWith('stored', 'train.log', `using ${stored}\n`)], 'PACKAGE_SECRET_IN_FILE', 'train.log', { env: { ...env, HF_HOME: home } });
  });
});
