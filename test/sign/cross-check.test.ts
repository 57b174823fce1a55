/**
 * Cross-check with the reference implementation, sigstore `model_signing` 1.1.1 (installed offline by
 * shared/reference/model-signing/implementation/install.sh; .ci/run installs it, and the helper installs it on
 * first use when missing): its `verify` accepts what `llama sign` writes (key method on every curve, certificate
 * method) and refuses it after a byte of a file changes; `llama verify` accepts what it signs, and both compute the
 * same manifest (order and root digest) for file names whose order differs between code points and path components.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signModel } from '../../src/sign/sign.ts';
import { verifyModelSignature } from '../../src/sign/verify.ts';
import { CURVES, flipByte, KEYS, makeKeyPair, makeModel, modelSigning, NO_SHARED, referenceImplementation, removeDir, tempDir } from './helpers.ts';

const reference = NO_SHARED ? { reason: NO_SHARED } : referenceImplementation();
const skip = reference.python === undefined && `reference model_signing unavailable: ${reference.reason}`;

function statementOf(signatureText: string): { subject: Array<{ digest: { sha256: string } }>; predicate: { resources: Array<{ name: string; digest: string }> } } {
  return JSON.parse(Buffer.from(JSON.parse(signatureText).dsseEnvelope.payload, 'base64').toString('utf8'));
}

describe('cross-check with model_signing 1.1.1', { skip }, () => {
  const python = reference.python!;
  let work: string;
  before(async () => {
    work = await tempDir();
  });
  after(async () => removeDir(work));

  for (const { curve, nodeName } of CURVES) {
    test(`model_signing verify key accepts a ${curve} signature by llama sign`, async () => {
      const dir = await makeModel(join(work, `m-${curve}`));
      const keys = await makeKeyPair(work, nodeName, curve);
      const signed = await signModel({ model: dir, keyPath: keys.privatePath });
      const ok = modelSigning(python, ['verify', 'key', '--signature', signed.signaturePath, '--public_key', keys.publicPath, dir]);
      assert.equal(ok.status, 0, ok.output);
      assert.match(ok.output, /Verification succeeded/);
      await flipByte(join(dir, 'config.json'), 2);
      const tampered = modelSigning(python, ['verify', 'key', '--signature', signed.signaturePath, '--public_key', keys.publicPath, dir]);
      assert.notEqual(tampered.status, 0, tampered.output);
      assert.match(tampered.output, /Hash mismatch for .*config\.json/);
    });
  }

  test('model_signing verify certificate accepts a certificate-method signature by llama sign', async () => {
    const dir = await makeModel(join(work, 'm-cert'));
    const chain = join(work, 'chain.pem');
    await writeFile(chain, Buffer.concat([await readFile(join(KEYS, 'signing-key-cert.pem')), await readFile(join(KEYS, 'int-ca-cert.pem'))]));
    const signed = await signModel({ model: dir, keyPath: join(KEYS, 'signing-key.pem'), certChainPath: chain, out: join(work, 'cert.sig') });
    const ok = modelSigning(python, ['verify', 'certificate', '--signature', signed.signaturePath, '--certificate_chain', join(KEYS, 'ca-cert.pem'), dir]);
    assert.equal(ok.status, 0, ok.output);
  });

  test('llama verify accepts model_signing sign key, and both build the same manifest for awkward names', async () => {
    const dir = join(work, 'awkward');
    await mkdir(join(dir, 'a'), { recursive: true });
    for (const name of ['a-c', 'a.b', 'A', 'é', '\u{1F600}', '\uFFFF', 'z:1:2']) await writeFile(join(dir, name), name);
    await writeFile(join(dir, 'a', 'b'), 'nested');
    await makeModel(join(dir, 'sub'));
    const keys = await makeKeyPair(work, 'secp384r1', 'awkward');
    const theirs = join(work, 'theirs.sig');
    const signed = modelSigning(python, ['sign', 'key', '--private_key', keys.privatePath, '--signature', theirs, dir]);
    assert.equal(signed.status, 0, signed.output);
    const report = await verifyModelSignature({ model: dir, signaturePath: theirs, publicKeyPath: keys.publicPath });
    assert.equal(report.ok, true, JSON.stringify(report.files));

    const ours = await signModel({ model: dir, keyPath: keys.privatePath, out: join(work, 'ours.sig') });
    const a = statementOf(await readFile(theirs, 'utf8'));
    const b = statementOf(await readFile(ours.signaturePath, 'utf8'));
    assert.deepEqual(b.predicate.resources.map((r) => [r.name, r.digest]), a.predicate.resources.map((r) => [r.name, r.digest]));
    assert.equal(b.subject[0]!.digest.sha256, a.subject[0]!.digest.sha256);
  });
});
