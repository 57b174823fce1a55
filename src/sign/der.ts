/**
 * Just enough DER to read an X.509 certificate's key usage, which Node's X509Certificate does not expose
 * (its `keyUsage` is the extended key usage). RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate, ... };
 * the extensions are the tbsCertificate's `[3]` element, a SEQUENCE of Extension ::= SEQUENCE { extnID OID,
 * critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }; KeyUsage (2.5.29.15, §4.2.1.3) is a BIT STRING whose
 * bit 0 is digitalSignature and bit 5 keyCertSign.
 */

interface Element {
  tag: number;
  /** Offset of the contents. */
  start: number;
  /** Offset just past the contents. */
  end: number;
}

function readElement(der: Uint8Array, offset: number, limit: number): Element {
  if (offset + 2 > limit) throw new Error('DER: truncated element');
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) throw new Error('DER: bad length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  const end = start + length;
  if (end > limit) throw new Error('DER: element runs past its parent');
  return { tag, start, end };
}

function children(der: Uint8Array, parent: Element): Element[] {
  const out: Element[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    const element = readElement(der, offset, parent.end);
    out.push(element);
    offset = element.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const EXTENSIONS = 0xa3;
const OID = 0x06;
const OCTET_STRING = 0x04;
const BIT_STRING = 0x03;
const KEY_USAGE_OID = Buffer.from([0x55, 0x1d, 0x0f]);

export interface KeyUsage {
  digitalSignature: boolean;
  keyCertSign: boolean;
}

/** The key usage extension of a DER certificate, or undefined when it has none. Throws on malformed DER. */
export function keyUsage(certificate: Uint8Array): KeyUsage | undefined {
  const root = readElement(certificate, 0, certificate.length);
  if (root.tag !== SEQUENCE) throw new Error('DER: a certificate is a SEQUENCE');
  const tbs = children(certificate, root)[0];
  if (!tbs || tbs.tag !== SEQUENCE) throw new Error('DER: missing tbsCertificate');
  const extensions = children(certificate, tbs).find((e) => e.tag === EXTENSIONS);
  if (!extensions) return undefined;
  const list = children(certificate, extensions)[0];
  if (!list || list.tag !== SEQUENCE) throw new Error('DER: extensions are a SEQUENCE');
  for (const extension of children(certificate, list)) {
    const parts = children(certificate, extension);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (!id || id.tag !== OID || !value || value.tag !== OCTET_STRING) continue;
    if (!Buffer.from(certificate.subarray(id.start, id.end)).equals(KEY_USAGE_OID)) continue;
    const bits = readElement(certificate, value.start, value.end);
    if (bits.tag !== BIT_STRING || bits.end - bits.start < 1) throw new Error('DER: key usage is a BIT STRING');
    const first = bits.end - bits.start > 1 ? certificate[bits.start + 1]! : 0;
    return { digitalSignature: (first & 0x80) !== 0, keyCertSign: (first & 0x04) !== 0 };
  }
  return undefined;
}
