/**
 * The Sigstore bundle v0.3 JSON an OMS signature is stored in (oms-spec/spec/v1.0.md §4, schemas/v1.0/bundle.schema.json;
 * sigstore protobuf-specs sigstore_bundle.proto). Written as model_signing 1.1.1 writes it (one line of JSON:
 * mediaType, verificationMaterial with `publicKey.hint` or `x509CertificateChain` and empty `tlogEntries`,
 * dsseEnvelope with one signature whose keyid is ""). Read leniently where OMS §11 says verifiers must (the
 * pre-1.1 `publicKey.rawBytes`, keyid absent / "" / null, tlogEntries absent) and strictly elsewhere: the media type,
 * the in-toto payload type, base64 fields, exactly one signature. The keyless `sigstore` method (a Fulcio
 * certificate and Rekor entries) needs Sigstore's trust root and network and is refused as not supported.
 */
import { IntegrityError, UsageError } from '../errors.ts';
import { IN_TOTO_PAYLOAD_TYPE } from './dsse.ts';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** The same version in the older media-type spelling some Sigstore clients write. */
const BUNDLE_MEDIA_TYPE_ALT = 'application/vnd.dev.sigstore.bundle+json;version=0.3';

export type VerificationMaterialJson =
  | { publicKey: { hint: string }; tlogEntries: [] }
  | { x509CertificateChain: { certificates: Array<{ rawBytes: string }> }; tlogEntries: [] };

export interface BundleJson {
  mediaType: string;
  verificationMaterial: VerificationMaterialJson;
  dsseEnvelope: { payload: string; payloadType: string; signatures: Array<{ sig: string; keyid: string }> };
}

export function buildBundle(payload: Uint8Array, signature: Uint8Array, material: { keyHint: string } | { certificates: Uint8Array[] }): BundleJson {
  const verificationMaterial: VerificationMaterialJson =
    'keyHint' in material
      ? { publicKey: { hint: material.keyHint }, tlogEntries: [] }
      : { x509CertificateChain: { certificates: material.certificates.map((der) => ({ rawBytes: Buffer.from(der).toString('base64') })) }, tlogEntries: [] };
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial,
    dsseEnvelope: {
      payload: Buffer.from(payload).toString('base64'),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: Buffer.from(signature).toString('base64'), keyid: '' }],
    },
  };
}

/** What verification needs from a bundle. */
export interface ParsedBundle {
  payloadType: string;
  payload: Buffer;
  signature: Buffer;
  material:
    | { method: 'key'; hint?: string; rawPublicKey?: Buffer }
    | { method: 'certificate'; certificates: Buffer[] };
}

function malformed(message: string): IntegrityError {
  return new IntegrityError('SIGNATURE_MALFORMED', `Not an OMS signature bundle: ${message}.`, {
    hint: 'Pass the model.sig written by `llama sign` or `model_signing sign`; the file may be damaged.',
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function base64Field(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || value === '' || !BASE64.test(value)) throw malformed(`${what} is not base64`);
  return Buffer.from(value, 'base64');
}

export function parseBundle(text: string): ParsedBundle {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed('the file is not JSON');
  }
  if (!isObject(value)) throw malformed('the file is not a JSON object');
  if (value.mediaType !== BUNDLE_MEDIA_TYPE && value.mediaType !== BUNDLE_MEDIA_TYPE_ALT) {
    throw malformed(`mediaType is ${JSON.stringify(value.mediaType)}, not ${BUNDLE_MEDIA_TYPE}`);
  }
  const vm = value.verificationMaterial;
  if (!isObject(vm)) throw malformed('verificationMaterial is missing');
  const envelope = value.dsseEnvelope;
  if (!isObject(envelope)) throw malformed('dsseEnvelope is missing (OMS signatures are DSSE envelopes, not message signatures)');
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw malformed(`payloadType is ${JSON.stringify(envelope.payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`);
  const payload = base64Field(envelope.payload, 'dsseEnvelope.payload');
  const signatures = envelope.signatures;
  if (!Array.isArray(signatures) || signatures.length !== 1) throw malformed('dsseEnvelope must carry exactly one signature');
  const entry: unknown = signatures[0];
  if (!isObject(entry)) throw malformed('the signature entry is not an object');
  if (entry.keyid !== undefined && entry.keyid !== null && typeof entry.keyid !== 'string') throw malformed('keyid is not a string');
  const signature = base64Field(entry.sig, 'the signature');
  if (vm.tlogEntries !== undefined && !Array.isArray(vm.tlogEntries)) throw malformed('tlogEntries is not a list');

  const kinds = ['publicKey', 'x509CertificateChain', 'certificate'].filter((k) => vm[k] !== undefined);
  if (kinds.length !== 1) throw malformed(`verificationMaterial must hold exactly one of publicKey, x509CertificateChain, certificate (it holds ${kinds.length === 0 ? 'none' : kinds.join(', ')})`);
  if (vm.certificate !== undefined) {
    if (!Array.isArray(vm.tlogEntries) || vm.tlogEntries.length === 0) throw malformed('a Sigstore (keyless) signature must carry transparency log entries');
    throw new UsageError('SIGNATURE_KEYLESS_UNSUPPORTED', 'This is a Sigstore keyless signature (Fulcio certificate, Rekor entries); llama verifies the key and certificate methods only.', {
      hint: 'Verify it with `model_signing verify sigstore` (it needs Sigstore\'s trust root and the network).',
    });
  }
  if (isObject(vm.publicKey)) {
    const { hint, rawBytes } = vm.publicKey;
    if (typeof hint === 'string' && hint !== '') return { payloadType: IN_TOTO_PAYLOAD_TYPE, payload, signature, material: { method: 'key', hint } };
    if (rawBytes !== undefined) return { payloadType: IN_TOTO_PAYLOAD_TYPE, payload, signature, material: { method: 'key', rawPublicKey: base64Field(rawBytes, 'publicKey.rawBytes') } };
    throw malformed('publicKey has neither hint nor rawBytes');
  }
  const chain = vm.x509CertificateChain;
  if (!isObject(chain) || !Array.isArray(chain.certificates) || chain.certificates.length === 0) throw malformed('x509CertificateChain has no certificates');
  const certificates = chain.certificates.map((c: unknown, i) => base64Field(isObject(c) ? c.rawBytes : undefined, `certificate ${i + 1}`));
  return { payloadType: IN_TOTO_PAYLOAD_TYPE, payload, signature, material: { method: 'certificate', certificates } };
}
