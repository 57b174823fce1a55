/**
 * The `certificate` method: the bundle carries the signing certificate followed by its CA chain (base64 DER,
 * `x509CertificateChain`), and the verifier trusts the CA certificates it is given (oms-spec/spec/v1.0.md §4.1,
 * §8.2; model_signing 1.1.1 `_signing/sign_certificate.py`). Checks, with Node's X509Certificate:
 * - every link: issued by the next certificate (names) and signed with its key; issuers are CAs (basic constraints,
 *   and keyCertSign when they carry a key usage, which is what Node's `ca` reports); the path ends at a trusted
 *   certificate; at most 10 links;
 * - the signing certificate may sign: key usage digitalSignature or extended key usage codeSigning;
 * - every certificate on the path is within its validity period at `now` (OMS §8.2; model_signing checks the chain
 *   at the leaf's notBefore instead, so it also accepts an expired chain).
 * Node exposes no key-usage bits, so those are read from the DER (./der.ts).
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { IntegrityError, UsageError } from '../errors.ts';
import { keyUsage } from './der.ts';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const MAX_PATH = 10;

/** Every certificate in a PEM file, in file order. */
export async function loadCertificates(path: string, what: string): Promise<X509Certificate[]> {
  let text: string;
  try {
    text = await readFile(path, 'latin1');
  } catch (error) {
    throw new UsageError('SIGN_CERT_UNREADABLE', `Cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}.`, { hint: 'Pass the path of a PEM file.', cause: error });
  }
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new UsageError('SIGN_CERT_INVALID', `${path} holds no PEM certificate.`, { hint: `Pass ${what} as PEM (-----BEGIN CERTIFICATE-----).` });
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new UsageError('SIGN_CERT_INVALID', `Certificate ${i + 1} in ${path} cannot be parsed.`, { hint: `Pass ${what} as PEM certificates.`, cause: error });
    }
  });
}

export function certificateFromDer(der: Buffer, index: number): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (error) {
    throw new IntegrityError('SIGNATURE_MALFORMED', `Certificate ${index + 1} of the signature's chain cannot be parsed.`, { hint: 'The signature file is damaged or was not made by an OMS signer.', cause: error });
  }
}

/** May this certificate sign a model (digitalSignature, or codeSigning)? */
export function canSign(certificate: X509Certificate): boolean {
  return keyUsage(certificate.raw)?.digitalSignature === true || (certificate.keyUsage ?? []).includes(CODE_SIGNING);
}

function within(certificate: X509Certificate, now: Date): boolean {
  return new Date(certificate.validFrom) <= now && now <= new Date(certificate.validTo);
}

function chainError(message: string, hint: string): IntegrityError {
  return new IntegrityError('SIGNATURE_UNTRUSTED', message, { hint });
}

const commonName = (c: X509Certificate): string => c.subject.replace(/\n/g, ', ');

/**
 * Check that `chain[0]` (the signing certificate) leads to one of `trusted` through the other certificates of
 * `chain`. Returns the path from the signing certificate to the trusted one.
 */
export function verifyCertificatePath(chain: readonly X509Certificate[], trusted: readonly X509Certificate[], now: Date): X509Certificate[] {
  const leaf = chain[0];
  if (!leaf) throw chainError('The signature carries no certificate.', 'The signature file is damaged.');
  if (!canSign(leaf)) {
    throw chainError(`The signing certificate (${commonName(leaf)}) may not sign: it has neither key usage digitalSignature nor extended key usage codeSigning.`, 'Sign with a certificate issued for signing.');
  }
  const path: X509Certificate[] = [leaf];
  let current = leaf;
  while (path.length <= MAX_PATH) {
    if (!within(current, now)) {
      throw chainError(`Certificate ${commonName(current)} is not valid now (valid ${current.validFrom} to ${current.validTo}).`, 'Re-sign with a current certificate.');
    }
    if (trusted.some((t) => t.fingerprint256 === current.fingerprint256)) return path;
    const issuedBy = (candidate: X509Certificate): boolean => candidate !== current && current.checkIssued(candidate) && current.verify(candidate.publicKey);
    const anchor = trusted.find((t) => issuedBy(t));
    if (anchor) {
      if (!anchor.ca) throw chainError(`Trusted certificate ${commonName(anchor)} is not a CA certificate, so it cannot vouch for ${commonName(current)}.`, 'Pass the CA certificate(s) with --cert-chain.');
      if (!within(anchor, now)) throw chainError(`Trusted certificate ${commonName(anchor)} is not valid now (valid ${anchor.validFrom} to ${anchor.validTo}).`, 'Use a current CA certificate.');
      path.push(anchor);
      return path;
    }
    const next = chain.find((c) => !path.includes(c) && issuedBy(c));
    if (!next) {
      throw chainError(`The signing certificate (${commonName(leaf)}) does not chain to a trusted certificate: nothing in the signature or the CA file issued ${commonName(current)}.`, 'Pass the CA that issued the signer\'s certificate with --cert-chain.');
    }
    if (!next.ca) throw chainError(`${commonName(next)} in the signature's chain is not a CA certificate, so it cannot issue ${commonName(current)}.`, 'The signer\'s chain is wrong; ask for a corrected signature.');
    path.push(next);
    current = next;
  }
  throw chainError(`The certificate chain is longer than ${MAX_PATH}.`, 'The signature file is damaged.');
}
