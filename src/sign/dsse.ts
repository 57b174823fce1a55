/**
 * DSSE (secure-systems-lab/dsse protocol.md): the signature is over the Pre-Authentication Encoding
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes as ASCII decimal.
 * ECDSA signatures are DER-encoded and hashed with the curve's hash (./keys.ts), so P-384 and P-521 signatures
 * verify too — @sigstore/verify hashes DSSE with SHA-256 only and rejects them (research/publish-sign-quant2.md §3).
 * The older model_signing 0.2 "pae_compat" encoding is not accepted.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import type { SignatureHash } from './keys.ts';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `, 'ascii'), type, Buffer.from(` ${payload.byteLength} `, 'ascii'), payload]);
}

export function signPae(payloadType: string, payload: Uint8Array, key: KeyObject, hash: SignatureHash): Buffer {
  return sign(hash, pae(payloadType, payload), { key, dsaEncoding: 'der' });
}

export function verifyPae(payloadType: string, payload: Uint8Array, signature: Uint8Array, key: KeyObject, hash: SignatureHash): boolean {
  try {
    return verify(hash, pae(payloadType, payload), { key, dsaEncoding: 'der' }, signature);
  } catch {
    // A signature that is not even DER is simply not valid.
    return false;
  }
}
