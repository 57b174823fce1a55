/**
 * The reference signatures (model_signing 1.0.0, 1.0.1, 1.1.0; key and certificate methods; a single-file model and
 * ignored paths) verify, and each is refused after one byte of a signed file, of the signature, of the signed
 * statement, or the key changes. The OMS v1.0 valid vectors verify; every invalid* vector is refused.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LlamaError } from '../../src/errors.ts';
import { parseBundle } from '../../src/sign/bundle.ts';
import { parseStatement } from '../../src/sign/statement.ts';
import { verifyModelSignature, type VerifySignatureOptions } from '../../src/sign/verify.ts';
import { flipByte, KEYS, makeKeyPair, MT, NO_SHARED, OMS, REFERENCE_VECTORS, removeDir, tamperSignature, tamperStatement, tempDir, writableCopy, type ReferenceVector } from './helpers.ts';

const trust = (v: ReferenceVector): Partial<VerifySignatureOptions> =>
  v.method === 'key' ? { publicKeyPath: join(KEYS, 'signing-key-pub.pem') } : { caChainPath: join(KEYS, 'ca-cert.pem') };

async function rejects(options: VerifySignatureOptions, code: RegExp): Promise<void> {
  const outcome = await verifyModelSignature(options).then(
    (report) => ({ report }),
    (error: unknown) => ({ error }),
  );
  if ('report' in outcome) {
    assert.equal(outcome.report.ok, false, `expected a refusal, got ${JSON.stringify(outcome.report.counts)}`);
    assert.match('SIGNATURE_MODEL_MISMATCH', code);
  } else {
    assert.ok(outcome.error instanceof LlamaError, String(outcome.error));
    assert.match(outcome.error.code, code, outcome.error.message);
  }
}

describe('reference signatures', { skip: NO_SHARED }, () => {
  let work: string;
  before(async () => {
    work = await tempDir();
  });
  after(async () => removeDir(work));

  for (const v of REFERENCE_VECTORS) {
    test(`${v.name} verifies as upstream verifies it`, async () => {
      const report = await verifyModelSignature({ model: join(MT, v.model), signaturePath: join(MT, v.name, 'model.sig'), ignorePaths: v.ignore, ...trust(v) });
      assert.equal(report.ok, true, JSON.stringify(report.files));
      assert.equal(report.method, v.method);
      assert.equal(report.curve, 'P-384');
      assert.equal(report.counts.ok, v.model.includes('/') ? 1 : 2);
    });

    test(`${v.name} is refused after one byte of a signed file changes`, async () => {
      const copy = await writableCopy(join(MT, v.name), join(work, `${v.name}-file`));
      const model = v.model.includes('/') ? join(copy, 'signme-1') : copy;
      await flipByte(v.model.includes('/') ? model : join(copy, 'signme-1'), 3);
      const report = await verifyModelSignature({ model, signaturePath: join(copy, 'model.sig'), ignorePaths: v.ignore, ...trust(v) });
      assert.equal(report.ok, false);
      assert.equal(report.counts.mismatch, 1);
      assert.equal(report.files.find((f) => f.status === 'mismatch')?.name, v.model.includes('/') ? '.' : 'signme-1');
    });

    test(`${v.name} is refused after one byte of the signature changes`, async () => {
      const sig = join(work, `${v.name}-sig.sig`);
      await writeFile(sig, tamperSignature(await readFile(join(MT, v.name, 'model.sig'), 'utf8')));
      await rejects({ model: join(MT, v.model), signaturePath: sig, ignorePaths: v.ignore, ...trust(v) }, /^SIGNATURE_INVALID$/);
    });

    test(`${v.name} is refused after one byte of the signed statement changes`, async () => {
      const sig = join(work, `${v.name}-statement.sig`);
      await writeFile(sig, tamperStatement(await readFile(join(MT, v.name, 'model.sig'), 'utf8')));
      await rejects({ model: join(MT, v.model), signaturePath: sig, ignorePaths: v.ignore, ...trust(v) }, /^SIGNATURE_INVALID$/);
    });

    test(`${v.name} is refused with another ${v.method === 'key' ? 'public key' : 'CA'}`, async () => {
      const other = await makeKeyPair(work, 'secp384r1', `${v.name}-other`);
      if (v.method === 'key') {
        await rejects({ model: join(MT, v.model), signaturePath: join(MT, v.name, 'model.sig'), ignorePaths: v.ignore, publicKeyPath: other.publicPath }, /^SIGNATURE_(KEY_MISMATCH|INVALID)$/);
      } else {
        // Trusting the signing certificate itself is not enough: the chain must reach a CA in the CA file.
        await rejects({ model: join(MT, v.model), signaturePath: join(MT, v.name, 'model.sig'), ignorePaths: v.ignore, caChainPath: join(KEYS, 'signing-key-cert.pem') }, /^SIGNATURE_UNTRUSTED$/);
      }
    });
  }

  test('a one-byte change of the public key file is refused', async () => {
    const pem = await readFile(join(KEYS, 'signing-key-pub.pem'), 'utf8');
    const lines = pem.split('\n');
    // Change one base64 character of the key body, inside the point's X coordinate (the file has a text dump first).
    const first = lines.indexOf('-----BEGIN PUBLIC KEY-----') + 1;
    const body = lines[first]!;
    lines[first] = `${body.slice(0, 40)}${body[40] === 'A' ? 'B' : 'A'}${body.slice(41)}`;
    const key = join(work, 'changed-pub.pem');
    await writeFile(key, lines.join('\n'));
    await rejects({ model: join(MT, 'v1.1.0-elliptic-key'), signaturePath: join(MT, 'v1.1.0-elliptic-key', 'model.sig'), publicKeyPath: key }, /^SIGN(ATURE_KEY_MISMATCH|_KEY_INVALID|ATURE_INVALID)$/);
  });

  test('the ignored paths recorded in a v1.1.0 signature are honoured; without them an unsigned file fails v1.0.1', async () => {
    const recorded = await verifyModelSignature({ model: join(MT, 'v1.1.0-elliptic-key'), signaturePath: join(MT, 'v1.1.0-elliptic-key', 'model.sig'), publicKeyPath: join(KEYS, 'signing-key-pub.pem') });
    assert.equal(recorded.ok, true);
    assert.ok(recorded.serialization.ignore_paths?.includes('ignore-me'));
    const unrecorded = await verifyModelSignature({ model: join(MT, 'v1.0.1-elliptic-key'), signaturePath: join(MT, 'v1.0.1-elliptic-key', 'model.sig'), publicKeyPath: join(KEYS, 'signing-key-pub.pem') });
    assert.equal(unrecorded.ok, false);
    assert.deepEqual(unrecorded.files.filter((f) => f.status === 'extra').map((f) => f.name), ['ignore-me']);
    const unsignedAllowed = await verifyModelSignature({ model: join(MT, 'v1.0.1-elliptic-key'), signaturePath: join(MT, 'v1.0.1-elliptic-key', 'model.sig'), publicKeyPath: join(KEYS, 'signing-key-pub.pem'), ignoreUnsignedFiles: true });
    assert.equal(unsignedAllowed.ok, true);
  });

  test('a certificate chain is refused when the signing certificate is not valid at the time of verification', async () => {
    await rejects(
      { model: join(MT, 'v1.1.0-certificate'), signaturePath: join(MT, 'v1.1.0-certificate', 'model.sig'), caChainPath: join(KEYS, 'ca-cert.pem'), now: new Date('2036-01-01T00:00:00Z') },
      /^SIGNATURE_UNTRUSTED$/,
    );
  });
});

describe('OMS v1.0 test vectors', { skip: NO_SHARED }, () => {
  const vectors = join(OMS, 'test-vectors', 'v1.0');

  test('valid/key.bundle.json and valid/certificate.bundle.json verify against the files they sign', async () => {
    // Both sign the files of v1.1.0-elliptic-key; they do not record the folder's own model.sig among their ignored paths.
    const key = await verifyModelSignature({ model: join(MT, 'v1.1.0-elliptic-key'), signaturePath: join(vectors, 'valid', 'key.bundle.json'), publicKeyPath: join(KEYS, 'signing-key-pub.pem'), ignorePaths: ['model.sig'] });
    assert.equal(key.ok, true, JSON.stringify(key.files));
    const certificate = await verifyModelSignature({ model: join(MT, 'v1.1.0-elliptic-key'), signaturePath: join(vectors, 'valid', 'certificate.bundle.json'), caChainPath: join(KEYS, 'ca-cert.pem'), ignorePaths: ['model.sig'] });
    assert.equal(certificate.ok, true, JSON.stringify(certificate.files));
  });

  test('valid/sigstore.bundle.json (keyless) parses as keyless and is refused as not supported', () => {
    return readFile(join(vectors, 'valid', 'sigstore.bundle.json'), 'utf8').then((text) => {
      assert.throws(() => parseBundle(text), (e: unknown) => e instanceof LlamaError && e.code === 'SIGNATURE_KEYLESS_UNSUPPORTED');
    });
  });

  for (const folder of ['invalid', 'invalid-payload']) {
    test(`every bundle in ${folder}/ is refused`, async () => {
      const names = (await readdir(join(vectors, folder))).filter((n) => n.endsWith('.json'));
      assert.ok(names.length > 0);
      for (const name of names) {
        const signaturePath = join(vectors, folder, name);
        const outcome = await verifyModelSignature({ model: join(MT, 'v1.1.0-elliptic-key'), signaturePath, publicKeyPath: join(KEYS, 'signing-key-pub.pem') }).then(
          () => undefined,
          (error: unknown) => error,
        );
        assert.ok(outcome instanceof LlamaError, `${folder}/${name} was accepted`);
        // invalid-payload bundles carry a changed payload under the original signature: refused at the signature
        // already, and their statement alone is refused too (below).
        assert.match(outcome.code, folder === 'invalid' ? /^SIGNATURE_MALFORMED$/ : /^SIGNATURE_INVALID$/, `${folder}/${name}: ${outcome.code} ${outcome.message}`);
        if (folder === 'invalid-payload') {
          const { payload } = parseBundle(await readFile(signaturePath, 'utf8'));
          assert.throws(() => parseStatement(payload), (e: unknown) => e instanceof LlamaError && e.code === 'SIGNATURE_STATEMENT_INVALID');
        }
      }
    });
  }
});
