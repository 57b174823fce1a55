import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsageError } from '../../src/errors.ts';
import { checkPackagePath, secretReason } from '../../src/package/safety.ts';
import { TokenScanner } from '../../src/package/token-scan.ts';
import { compareBytes, parseInputArgument, stageInputs } from '../../src/package/stage.ts';

/** An environment whose Hugging Face home is inside the test directory, so no real token file is involved. */
function envFor(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: dir, HF_HOME: join(dir, 'hf-home'), ...extra };
}

function refusedWith(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.exitCode, 2);
    assert.ok(error.hint.length > 0);
    return true;
  };
}

describe('package paths', () => {
  it('normalises relative paths and refuses anything that leaves the package root', () => {
    assert.equal(checkPackagePath('weights/./model.gguf'), 'weights/model.gguf');
    assert.equal(checkPackagePath('a/b/'), 'a/b');
    for (const bad of ['../x', 'a/../../x', 'a/..', '/etc/passwd', 'C:/x', 'a\\b', '', '.', 'a//b', 'a\u0000b']) {
      assert.throws(() => checkPackagePath(bad), refusedWith('PACKAGE_PATH_ESCAPES'), bad);
    }
  });

  it('recognises secret-looking names and leaves model files alone', () => {
    for (const name of ['.env', '.env.production', 'id_rsa', 'ID_ED25519', 'server.pem', 'tls.key', 'token', 'hf.token', '.netrc', 'credentials.json', 'secrets.yaml', '.git-credentials', 'store.p12']) {
      assert.ok(secretReason(name), name);
    }
    for (const name of ['model.gguf', 'config.json', 'tokenizer.json', 'tokenizer.model', 'tokenizer_config.json', 'id_rsa.pub', 'README.md', 'special_tokens_map.json', 'model.safetensors.index.json']) {
      assert.equal(secretReason(name), undefined, name);
    }
    assert.ok(secretReason('.ssh', true));
  });

  it('finds tokens by shape and by the value in the environment', () => {
    const containsToken = (text: string, tokens: string[]) => new TokenScanner(tokens).find(Buffer.from(text)) !== undefined;
    assert.ok(containsToken(`token: hf_${'a1B2'.repeat(9)}`, []));
    assert.ok(!containsToken('hf_short and hf_transfer', []));
    assert.ok(containsToken('x = s3cr3t-t0ken-value', ['s3cr3t-t0ken-value']));
  });

  it('compares paths by UTF-8 bytes, independent of locale', () => {
    assert.deepEqual(['b', 'a/b', 'a-c', 'Z', 'é', 'a'].sort(compareBytes), ['Z', 'a', 'a-c', 'a/b', 'b', 'é']);
  });
});

describe('stageInputs', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llama-stage-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function tree(name: string, files: Record<string, string>): Promise<string> {
    const root = join(dir, name);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), content);
    }
    return root;
  }

  it('puts a directory\'s contents and named files at the root, sorted, with normalised modes', async () => {
    const ckpt = await tree('ckpt', { 'config.json': '{}', 'tokenizer/tokenizer.json': '{"v":1}', 'model.safetensors': 'W' });
    await chmod(join(ckpt, 'config.json'), 0o600);
    const script = join(dir, 'convert.sh');
    await writeFile(script, '#!/bin/sh\n');
    await chmod(script, 0o700);
    const plan = await stageInputs([{ source: ckpt }, { source: script, dest: 'tools/convert.sh' }], { env: envFor(dir) });
    assert.deepEqual(plan.files.map((f) => [f.path, f.mode, f.size, f.explicit]), [
      ['config.json', 0o644, 2, false],
      ['model.safetensors', 0o644, 1, false],
      ['tokenizer/tokenizer.json', 0o644, 7, false],
      ['tools/convert.sh', 0o755, 10, true],
    ]);
    assert.deepEqual(plan.directories, ['tokenizer', 'tools']);
  });

  it('follows symlinks that stay inside the input and refuses those that leave it', async () => {
    const outside = join(dir, 'outside.bin');
    await writeFile(outside, 'secret weights');
    const inside = await tree('links', { 'real.bin': 'R', 'sub/other.bin': 'O' });
    await symlink('real.bin', join(inside, 'alias.bin'));
    await symlink('../real.bin', join(inside, 'sub', 'up.bin'));
    const plan = await stageInputs([{ source: inside }], { env: envFor(dir) });
    assert.deepEqual(plan.files.map((f) => f.path), ['alias.bin', 'real.bin', 'sub/other.bin', 'sub/up.bin']);
    assert.equal(plan.files[0]!.source, join(inside, 'real.bin'));

    const escaping = await tree('escaping', { 'ok.bin': 'x' });
    await symlink(outside, join(escaping, 'abs.bin'));
    await assert.rejects(stageInputs([{ source: escaping }], { env: envFor(dir) }), refusedWith('PACKAGE_SYMLINK_ESCAPES'));

    const relativeEscape = await tree('rel-escape', { 'ok.bin': 'x' });
    await symlink('../outside.bin', join(relativeEscape, 'rel.bin'));
    await assert.rejects(stageInputs([{ source: relativeEscape }], { env: envFor(dir) }), refusedWith('PACKAGE_SYMLINK_ESCAPES'));

    const dangling = await tree('dangling', { 'ok.bin': 'x' });
    await symlink('missing.bin', join(dangling, 'gone.bin'));
    await assert.rejects(stageInputs([{ source: dangling }], { env: envFor(dir) }), refusedWith('PACKAGE_SYMLINK_BROKEN'));

    const loop = await tree('loop', { 'a/x.bin': 'x' });
    await symlink('..', join(loop, 'a', 'up'));
    await assert.rejects(stageInputs([{ source: loop }], { env: envFor(dir) }), refusedWith('PACKAGE_SYMLINK_LOOP'));
  });

  it('refuses destinations outside the package root', async () => {
    const file = join(dir, 'f.bin');
    await writeFile(file, 'f');
    for (const dest of ['../f.bin', '/abs/f.bin', 'a/../../f.bin']) {
      await assert.rejects(stageInputs([{ source: file, dest }], { env: envFor(dir) }), refusedWith('PACKAGE_PATH_ESCAPES'));
    }
  });

  it('refuses secret-looking files inside directories unless the file itself is named', async () => {
    for (const name of ['.env', 'id_rsa', 'deploy.pem', 'token']) {
      const root = await tree(`secret-${name}`, { 'model.gguf': 'G', [name]: 'x' });
      await assert.rejects(stageInputs([{ source: root }], { env: envFor(dir) }), refusedWith('PACKAGE_SECRET_FILE'), name);
    }
    const withSsh = await tree('with-ssh', { 'model.gguf': 'G', '.ssh/config': 'Host x' });
    await assert.rejects(stageInputs([{ source: withSsh }], { env: envFor(dir) }), refusedWith('PACKAGE_SECRET_FILE'));

    const cert = join(dir, 'secret-deploy.pem', 'deploy.pem');
    const plan = await stageInputs([{ source: cert }], { env: envFor(dir) });
    assert.deepEqual(plan.files.map((f) => [f.path, f.explicit]), [['deploy.pem', true]]);
  });

  // Files holding the token are found while they are copied: test/package/secrets.test.ts.
  it('never packages the Hugging Face token file', async () => {
    const env = envFor(dir, { HF_TOKEN: 'hf_' + 'Q'.repeat(34) });
    await mkdir(join(dir, 'hf-home'), { recursive: true });
    await writeFile(join(dir, 'hf-home', 'token'), env.HF_TOKEN!);
    // Named explicitly, under a harmless destination: still refused.
    await assert.rejects(stageInputs([{ source: join(dir, 'hf-home', 'token'), dest: 'notes.txt' }], { env }), refusedWith('PACKAGE_SECRET_FILE'));
  });

  it('skips version-control metadata and the files the package generates itself', async () => {
    const root = await tree('with-git', { 'model.gguf': 'G', '.git/config': '[core]', 'README.md': '# upstream', 'LICENSE': 'text' });
    const plan = await stageInputs([{ source: root }], { env: envFor(dir), isGenerated: (p) => p === 'README.md' || p === 'LICENSE' });
    assert.deepEqual(plan.files.map((f) => f.path), ['model.gguf']);
    assert.equal(plan.notes.length, 3);
  });

  it('refuses two inputs that land on the same path, also when only the case differs', async () => {
    const a = await tree('dup-a', { 'model.gguf': 'A' });
    const b = await tree('dup-b', { 'MODEL.gguf': 'B' });
    await assert.rejects(stageInputs([{ source: a }, { source: b }], { env: envFor(dir) }), refusedWith('PACKAGE_PATH_CONFLICT'));
    const file = join(a, 'model.gguf');
    await assert.rejects(stageInputs([{ source: file, dest: 'x' }, { source: file, dest: 'x/y' }], { env: envFor(dir) }), refusedWith('PACKAGE_PATH_CONFLICT'));
  });

  it('reports missing inputs and an empty input list as usage errors', async () => {
    await assert.rejects(stageInputs([{ source: join(dir, 'nope') }], { env: envFor(dir) }), refusedWith('PACKAGE_INPUT_NOT_FOUND'));
    await assert.rejects(stageInputs([], { env: envFor(dir) }), refusedWith('PACKAGE_NO_INPUT'));
  });

  it('splits SOURCE=DEST only when the argument is not itself an existing path', async () => {
    const odd = join(dir, 'a=b.bin');
    await writeFile(odd, 'x');
    assert.deepEqual(await parseInputArgument('a=b.bin', dir), { source: 'a=b.bin' });
    assert.deepEqual(await parseInputArgument('model.gguf=weights/model.gguf', dir), { source: 'model.gguf', dest: 'weights/model.gguf' });
  });
});
