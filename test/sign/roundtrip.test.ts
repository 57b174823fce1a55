/**
 * sign → verify with our own keys on every curve (the signature hash follows the curve), the certificate method
 * with the reference test chain, tampering refused, ignore rules, unsigned files, package tars and staged package
 * directories (model.sig excluded from what it signs), and the resource order model_signing uses.
 */
import assert from 'node:assert/strict';
import { verify as cryptoVerify, createPublicKey } from 'node:crypto';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { create as createTar, extract } from 'tar';
import { LlamaError } from '../../src/errors.ts';
import { pae } from '../../src/sign/dsse.ts';
import { comparePaths, compareResourceNames } from '../../src/sign/paths.ts';
import { signModel, signPackageDirectory } from '../../src/sign/sign.ts';
import { verifyModelSignature } from '../../src/sign/verify.ts';
import { CURVES, flipByte, KEYS, makeKeyPair, makeModel, NO_SHARED, removeDir, tamperSignature, tamperStatement, tempDir } from './helpers.ts';

async function errorCode(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof LlamaError, `expected a LlamaError, got ${String(error)}`);
  return error.code;
}

describe('sign → verify', () => {
  let work: string;
  before(async () => {
    work = await tempDir();
  });
  after(async () => removeDir(work));

  for (const { curve, nodeName, hash } of CURVES) {
    test(`${curve}: a signed folder verifies, and the DSSE signature is over the PAE with ${hash}`, async () => {
      const dir = await makeModel(join(work, `model-${curve}`));
      const keys = await makeKeyPair(work, nodeName, `k-${curve}`);
      const signed = await signModel({ model: dir, keyPath: keys.privatePath });
      assert.equal(signed.signaturePath, join(dir, 'model.sig'));
      assert.equal(signed.curve, curve);
      assert.equal(signed.hash, hash);
      // .git/ and .gitattributes are left out; the empty file is signed.
      assert.equal(signed.files, 5);
      const bundle = JSON.parse(await readFile(signed.signaturePath, 'utf8'));
      const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
      const sig = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64');
      const pub = createPublicKey(await readFile(keys.publicPath));
      assert.equal(cryptoVerify(hash, pae('application/vnd.in-toto+json', payload), { key: pub, dsaEncoding: 'der' }, sig), true);
      if (hash !== 'sha256') assert.equal(cryptoVerify('sha256', pae('application/vnd.in-toto+json', payload), { key: pub, dsaEncoding: 'der' }, sig), false);
      const statement = JSON.parse(payload.toString('utf8'));
      assert.deepEqual(statement.predicate.resources.map((r: { name: string }) => r.name), ['README.md', 'config.json', 'empty.txt', 'weights/model-00001-of-00002.safetensors', 'weights/model-00002-of-00002.safetensors']);
      assert.deepEqual(statement.predicate.serialization, { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: ['.git', '.gitattributes', '.github', '.gitignore', 'model.sig'] });
      assert.equal(statement.subject[0].name, `model-${curve}`);

      const report = await verifyModelSignature({ model: dir, signaturePath: signed.signaturePath, publicKeyPath: keys.publicPath });
      assert.equal(report.ok, true);
      assert.equal(report.counts.ok, 5);
      assert.equal(report.rootDigest, signed.rootDigest);
    });
  }

  test('tampering is refused: a file byte, a signature byte, a statement byte, another key', async () => {
    const dir = await makeModel(join(work, 'tamper'));
    const keys = await makeKeyPair(work, 'secp384r1', 'tamper');
    const signed = await signModel({ model: dir, keyPath: keys.privatePath });
    const text = await readFile(signed.signaturePath, 'utf8');

    await writeFile(join(work, 'sig-changed.sig'), tamperSignature(text));
    assert.equal(await errorCode(verifyModelSignature({ model: dir, signaturePath: join(work, 'sig-changed.sig'), publicKeyPath: keys.publicPath })), 'SIGNATURE_INVALID');
    await writeFile(join(work, 'statement-changed.sig'), tamperStatement(text));
    assert.equal(await errorCode(verifyModelSignature({ model: dir, signaturePath: join(work, 'statement-changed.sig'), publicKeyPath: keys.publicPath, ignorePaths: ['model.sig'] })), 'SIGNATURE_INVALID');
    const other = await makeKeyPair(work, 'secp384r1', 'other');
    assert.equal(await errorCode(verifyModelSignature({ model: dir, signaturePath: signed.signaturePath, publicKeyPath: other.publicPath })), 'SIGNATURE_KEY_MISMATCH');

    await flipByte(join(dir, 'weights', 'model-00001-of-00002.safetensors'), 65_000);
    const report = await verifyModelSignature({ model: dir, signaturePath: signed.signaturePath, publicKeyPath: keys.publicPath });
    assert.equal(report.ok, false);
    assert.deepEqual(report.files.filter((f) => f.status !== 'ok').map((f) => [f.name, f.status]), [['weights/model-00001-of-00002.safetensors', 'mismatch']]);
  });

  test('unsigned and missing files fail unless --ignore-unsigned-files (which still checks every signed file)', async () => {
    const dir = await makeModel(join(work, 'unsigned'));
    const keys = await makeKeyPair(work, 'prime256v1', 'unsigned');
    const signed = await signModel({ model: dir, keyPath: keys.privatePath });
    await writeFile(join(dir, 'added.txt'), 'not signed');
    const extra = await verifyModelSignature({ model: dir, signaturePath: signed.signaturePath, publicKeyPath: keys.publicPath });
    assert.deepEqual([extra.ok, extra.counts.extra], [false, 1]);
    const allowed = await verifyModelSignature({ model: dir, signaturePath: signed.signaturePath, publicKeyPath: keys.publicPath, ignoreUnsignedFiles: true });
    assert.deepEqual([allowed.ok, allowed.counts.ok, allowed.counts.extra], [true, 5, 0]);
    await removeDir(join(dir, 'README.md'));
    for (const ignoreUnsignedFiles of [false, true]) {
      const missing = await verifyModelSignature({ model: dir, signaturePath: signed.signaturePath, publicKeyPath: keys.publicPath, ignoreUnsignedFiles });
      assert.equal(missing.ok, false);
      assert.deepEqual(missing.files.filter((f) => f.status === 'missing').map((f) => f.name), ['README.md']);
    }
  });

  test('--ignore paths are left out, recorded, and honoured again at verification; paths outside the model and globs are refused', async () => {
    const dir = await makeModel(join(work, 'ignore'));
    await mkdir(join(dir, 'cache'), { recursive: true });
    await writeFile(join(dir, 'cache', 'tmp.bin'), 'scratch');
    await mkdir(join(dir, 'weights', 'cache'), { recursive: true });
    await writeFile(join(dir, 'weights', 'cache', 'kept.bin'), 'a nested cache/ is not the top-level one');
    const keys = await makeKeyPair(work, 'prime256v1', 'ignore');
    const signed = await signModel({ model: dir, keyPath: keys.privatePath, ignorePaths: ['cache', join(dir, 'README.md')], out: join(work, 'ignore.sig') });
    assert.deepEqual(signed.ignorePaths, ['.git', '.gitattributes', '.github', '.gitignore', 'README.md', 'cache']);
    assert.equal(signed.files, 5);
    await writeFile(join(dir, 'cache', 'tmp.bin'), 'changed scratch');
    const report = await verifyModelSignature({ model: dir, signaturePath: join(work, 'ignore.sig'), publicKeyPath: keys.publicPath });
    assert.equal(report.ok, true);
    assert.ok(report.files.some((f) => f.name === 'weights/cache/kept.bin'));
    assert.equal(await errorCode(signModel({ model: dir, keyPath: keys.privatePath, ignorePaths: ['../elsewhere'] })), 'SIGN_IGNORE_OUTSIDE');
    assert.equal(await errorCode(signModel({ model: dir, keyPath: keys.privatePath, ignorePaths: ['*.bin'] })), 'SIGN_IGNORE_GLOB');
  });

  test('a symbolic link in the model is refused, an empty model is refused, a key that is not EC is refused', async () => {
    const dir = await makeModel(join(work, 'link'));
    await symlink('config.json', join(dir, 'alias.json'));
    const keys = await makeKeyPair(work, 'prime256v1', 'link');
    assert.equal(await errorCode(signModel({ model: dir, keyPath: keys.privatePath })), 'SIGN_SYMLINK');
    await mkdir(join(work, 'empty', '.git'), { recursive: true });
    await writeFile(join(work, 'empty', '.git', 'HEAD'), 'x');
    assert.equal(await errorCode(signModel({ model: join(work, 'empty'), keyPath: keys.privatePath })), 'SIGN_EMPTY_MODEL');
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    await writeFile(join(work, 'rsa.pem'), rsa);
    assert.equal(await errorCode(signModel({ model: join(work, 'tamper'), keyPath: join(work, 'rsa.pem'), out: join(work, 'rsa.sig') })), 'SIGN_KEY_UNSUPPORTED');
  });

  test('an encrypted key needs its passphrase, and no message carries key material', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct horse' }) as string;
    await writeFile(join(work, 'enc.pem'), pem);
    const dir = await makeModel(join(work, 'enc'));
    const error = await signModel({ model: dir, keyPath: join(work, 'enc.pem') }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof LlamaError && error.code === 'SIGN_KEY_INVALID');
    assert.doesNotMatch(`${error.message} ${error.hint}`, /BEGIN|MII/);
    const signed = await signModel({ model: dir, keyPath: join(work, 'enc.pem'), passphrase: 'correct horse' });
    assert.doesNotMatch(await readFile(signed.signaturePath, 'utf8'), /PRIVATE|correct horse/);
  });

  test('a package tar is signed as the folder it extracts to, and the signature goes beside it', async () => {
    const staged = await makeModel(join(work, 'pkg-src', 'acme-1.0.0'));
    await removeDir(join(staged, '.git'));
    await removeDir(join(staged, '.gitattributes'));
    const tarPath = join(work, 'acme-1.0.0.tar');
    await createTar({ file: tarPath, cwd: join(work, 'pkg-src'), portable: true }, ['acme-1.0.0']);
    const keys = await makeKeyPair(work, 'secp521r1', 'pkg');
    const signed = await signModel({ model: tarPath, keyPath: keys.privatePath });
    assert.equal(signed.signaturePath, join(work, 'acme-1.0.0.sig'));
    assert.equal(signed.kind, 'package');
    assert.equal(signed.modelName, 'acme-1.0.0');
    assert.equal(signed.files, 5);
    await mkdir(join(work, 'unpacked'), { recursive: true });
    await extract({ file: tarPath, cwd: join(work, 'unpacked') });
    const report = await verifyModelSignature({ model: join(work, 'unpacked', 'acme-1.0.0'), signaturePath: signed.signaturePath, publicKeyPath: keys.publicPath });
    assert.equal(report.ok, true, JSON.stringify(report.files));
    // A tar with two top-level folders is not a package.
    await mkdir(join(work, 'pkg-src', 'other'), { recursive: true });
    await writeFile(join(work, 'pkg-src', 'other', 'x'), 'x');
    await createTar({ file: join(work, 'two.tar'), cwd: join(work, 'pkg-src') }, ['acme-1.0.0', 'other']);
    assert.equal(await errorCode(signModel({ model: join(work, 'two.tar'), keyPath: keys.privatePath })), 'SIGN_PACKAGE_LAYOUT');
  });

  test('signPackageDirectory puts model.sig in the staged package and leaves it out of what it signs', async () => {
    const dir = await makeModel(join(work, 'staged'));
    const keys = await makeKeyPair(work, 'prime256v1', 'staged');
    await writeFile(join(dir, 'model.sig'), 'a stale signature from an earlier run');
    const signed = await signPackageDirectory(dir, { keyPath: keys.privatePath });
    assert.equal(signed.signaturePath, join(dir, 'model.sig'));
    const statement = JSON.parse(Buffer.from(JSON.parse(await readFile(signed.signaturePath, 'utf8')).dsseEnvelope.payload, 'base64').toString('utf8'));
    assert.ok(!statement.predicate.resources.some((r: { name: string }) => r.name === 'model.sig'));
    assert.ok(statement.predicate.serialization.ignore_paths.includes('model.sig'));
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), []);
    const report = await verifyModelSignature({ model: dir, signaturePath: signed.signaturePath, publicKeyPath: keys.publicPath });
    assert.equal(report.ok, true);
  });

  test('certificate method: signed with the reference test chain, verified against its root CA', { skip: NO_SHARED }, async () => {
    const dir = await makeModel(join(work, 'cert'));
    const chain = join(work, 'chain.pem');
    await writeFile(chain, Buffer.concat([await readFile(join(KEYS, 'signing-key-cert.pem')), await readFile(join(KEYS, 'int-ca-cert.pem'))]));
    const signed = await signModel({ model: dir, keyPath: join(KEYS, 'signing-key.pem'), certChainPath: chain });
    assert.equal(signed.method, 'certificate');
    const report = await verifyModelSignature({ model: dir, signaturePath: signed.signaturePath, caChainPath: join(KEYS, 'ca-cert.pem') });
    assert.equal(report.ok, true);
    assert.deepEqual(report.certificatePath, ['CN=intermediate-ca', 'CN=intermediate-ca', 'CN=root-ca']);
    // The key must be the first certificate's.
    const keys = await makeKeyPair(work, 'secp384r1', 'notcert');
    assert.equal(await errorCode(signModel({ model: dir, keyPath: keys.privatePath, certChainPath: chain })), 'SIGN_CERT_KEY_MISMATCH');
    // Without the intermediate in the bundle, the leaf does not reach the root.
    const leafOnly = await signModel({ model: dir, keyPath: join(KEYS, 'signing-key.pem'), certChainPath: join(KEYS, 'signing-key-cert.pem'), out: join(work, 'leaf-only.sig') });
    assert.equal(await errorCode(verifyModelSignature({ model: dir, signaturePath: leafOnly.signaturePath, caChainPath: join(KEYS, 'ca-cert.pem') })), 'SIGNATURE_UNTRUSTED');
    // …unless the intermediate is trusted too.
    const both = join(work, 'trust-both.pem');
    await writeFile(both, Buffer.concat([await readFile(join(KEYS, 'ca-cert.pem')), await readFile(join(KEYS, 'int-ca-cert.pem'))]));
    assert.equal((await verifyModelSignature({ model: dir, signaturePath: leafOnly.signaturePath, caChainPath: both })).ok, true);
  });
});

describe('resource order', () => {
  test('paths compare component by component, by code point, as Python compares PurePosixPath', () => {
    const names = ['a-c', 'a/b', 'a.b', 'A', 'é', '\u{1F600}', '\uFFFF', 'a/b/c', 'a'];
    // From CPython 3.11: sorted(PurePosixPath(n) for n in names)
    assert.deepEqual([...names].sort(comparePaths), ['A', 'a', 'a/b', 'a/b/c', 'a-c', 'a.b', 'é', '\uFFFF', '\u{1F600}']);
  });

  test('shards order by file, then by start offset as a number', () => {
    const names = ['w:10000000000:11000000000', 'w:2000000000:3000000000', 'v:0:5', 'w:0:1000000000'];
    assert.deepEqual([...names].sort((a, b) => compareResourceNames(a, b, true)), ['v:0:5', 'w:0:1000000000', 'w:2000000000:3000000000', 'w:10000000000:11000000000']);
  });
});
