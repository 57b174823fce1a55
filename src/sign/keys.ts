/**
 * Signing keys of the `key` and `certificate` methods: EC P-256, P-384 or P-521 only, and the signature hash follows
 * the curve (SHA-256 / SHA-384 / SHA-512; model_signing 1.1.1 `_signing/sign_ec_key.py` get_ec_key_hash,
 * oms-spec/algorithm-registry.md). The bundle names a public key by its hint: the hex SHA-256 of the key's SPKI PEM
 * as re-serialized (not of the .pem file's bytes; research/publish-sign-quant2.md §3 tested that Node's export
 * reproduces the reference vectors' hint). Messages never carry key material.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.ts';

export type Curve = 'P-256' | 'P-384' | 'P-521';
export type SignatureHash = 'sha256' | 'sha384' | 'sha512';

const CURVES: Record<string, { curve: Curve; hash: SignatureHash }> = {
  prime256v1: { curve: 'P-256', hash: 'sha256' },
  secp384r1: { curve: 'P-384', hash: 'sha384' },
  secp521r1: { curve: 'P-521', hash: 'sha512' },
};

export interface EcKeyInfo {
  curve: Curve;
  hash: SignatureHash;
}

/** The curve and signature hash of an EC key; a UsageError for any other key. */
export function ecKeyInfo(key: KeyObject, what: string): EcKeyInfo {
  const namedCurve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  const info = namedCurve === undefined ? undefined : CURVES[namedCurve];
  if (!info) {
    const kind = key.asymmetricKeyType === 'ec' ? `an EC key on ${namedCurve}` : `a${key.asymmetricKeyType === 'rsa' ? 'n' : ''} ${key.asymmetricKeyType ?? 'unknown'} key`;
    throw new UsageError('SIGN_KEY_UNSUPPORTED', `${what} is ${kind}; OMS v1.0 signatures use EC keys on P-256, P-384 or P-521.`, {
      hint: 'Make one with `openssl ecparam -name secp384r1 -genkey -noout -out key.pem` (public half: `openssl ec -in key.pem -pubout -out key.pub.pem`).',
    });
  }
  return info;
}

/** Hex SHA-256 of the public key's SPKI PEM: `verificationMaterial.publicKey.hint`. */
export function publicKeyHint(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'pem' })).digest('hex');
}

async function readKeyFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError('SIGN_KEY_UNREADABLE', `Cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}.`, { hint: 'Pass the path of a PEM file.', cause: error });
  }
}

/** A PEM private key (PKCS#8 or SEC1, optionally encrypted with `passphrase`). */
export async function loadPrivateKey(path: string, passphrase?: string): Promise<{ key: KeyObject } & EcKeyInfo> {
  const pem = await readKeyFile(path, 'the private key');
  let key: KeyObject;
  try {
    key = createPrivateKey(passphrase === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase });
  } catch (error) {
    const encrypted = /ENCRYPTED/.test(pem.toString('latin1'));
    // Node's message names the parse failure, never the key's bytes.
    throw new UsageError('SIGN_KEY_INVALID', `${path} is not a usable PEM private key${encrypted ? ' (it is encrypted and the passphrase is missing or wrong)' : ''}.`, {
      hint: encrypted ? 'Set LLAMA_SIGN_KEY_PASSPHRASE to the key\'s passphrase.' : 'Pass an EC private key in PEM (`-----BEGIN PRIVATE KEY-----` or `-----BEGIN EC PRIVATE KEY-----`).',
      cause: error,
    });
  }
  return { key, ...ecKeyInfo(key, path) };
}

/** A PEM public key (SPKI); a certificate or a private key is accepted too, and its public half used. */
export async function loadPublicKey(path: string): Promise<{ key: KeyObject } & EcKeyInfo> {
  const pem = await readKeyFile(path, 'the public key');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new UsageError('SIGN_KEY_INVALID', `${path} is not a PEM public key.`, { hint: 'Pass the signer\'s public key (`-----BEGIN PUBLIC KEY-----`).', cause: error });
  }
  return { key, ...ecKeyInfo(key, path) };
}

/** The same public key? (compared as SPKI DER) */
export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  const der = (k: KeyObject): Buffer => (k.type === 'private' ? createPublicKey(k) : k).export({ type: 'spki', format: 'der' });
  return der(a).equals(der(b));
}
