/**
 * Writing safetensors files for tests: well-formed ones laid out as the reference writer does, and deliberately
 * broken ones for the corrupt-input tests.
 *
 * Format facts (huggingface/safetensors `tensor.rs`, `prepare`/`Metadata::serialize`): an 8-byte little-endian
 * header length N, N bytes of compact JSON padded with spaces to a multiple of 8, then the data buffer.
 * `__metadata__` comes first, then the tensors in data order; tensors are laid out sorted by dtype alignment
 * (descending) then by name, contiguous from offset 0, and the last offset is the end of the file.
 */
import { Buffer } from 'node:buffer';

import { writeFileAtomic } from '../../../src/fs/atomic.ts';
import { f32Bits, f32BitsToBf16Bits, f32BitsToF16Bits } from './float.ts';

/** Bytes per element of the dtypes the safetensors format defines (the ones our tests meet). */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

export interface SafetensorsTensorInput {
  /** Any string: an unknown one is written as given (and then needs `data`). */
  dtype: string;
  shape: readonly number[];
  /** Raw little-endian bytes, written as given (their length is not checked: tests may want it wrong). */
  data?: Uint8Array;
  /** Numbers, encoded for F32 / F16 / BF16 / F64 / I8 / U8 / I16 / I32 (RNE for the float formats). */
  values?: ArrayLike<number>;
}

export interface SafetensorsHeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface WrittenSafetensors {
  path: string;
  /** N from the first 8 bytes (padded JSON length). */
  headerLength: number;
  /** File offset of the data buffer: 8 + N. */
  dataStart: number;
  /** Total file size. */
  size: number;
  tensors: Array<{ name: string } & SafetensorsHeaderEntry>;
}

/** Encode numbers as little-endian bytes of `dtype`. */
export function encodeValues(dtype: string, values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  const width = SAFETENSORS_DTYPE_BYTES[dtype];
  if (width === undefined) throw new Error(`cannot encode values as unknown dtype ${dtype}; pass raw data`);
  const out = Buffer.alloc(n * width);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    switch (dtype) {
      case 'F32':
        out.writeFloatLE(v, i * 4);
        break;
      case 'F64':
        out.writeDoubleLE(v, i * 8);
        break;
      case 'F16':
        out.writeUInt16LE(f32BitsToF16Bits(f32Bits(v)), i * 2);
        break;
      case 'BF16':
        out.writeUInt16LE(f32BitsToBf16Bits(f32Bits(v)), i * 2);
        break;
      case 'I8':
        out.writeInt8(v, i);
        break;
      case 'U8':
      case 'BOOL':
        out.writeUInt8(v, i);
        break;
      case 'I16':
        out.writeInt16LE(v, i * 2);
        break;
      case 'I32':
        out.writeInt32LE(v, i * 4);
        break;
      default:
        throw new Error(`encoding numbers as ${dtype} is not supported here; pass raw data`);
    }
  }
  return out;
}

/** The order the reference writer lays tensors out in: larger element size first, then by name (bytewise). */
export function safetensorsOrder<T extends { name: string; dtype: string }>(tensors: readonly T[]): T[] {
  return [...tensors].sort((a, b) => {
    const wa = SAFETENSORS_DTYPE_BYTES[a.dtype] ?? 0;
    const wb = SAFETENSORS_DTYPE_BYTES[b.dtype] ?? 0;
    if (wa !== wb) return wb - wa;
    return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
  });
}

/**
 * The 8-byte length plus the space-padded JSON header, for entries already in data order.
 * `metadata: null` leaves `__metadata__` out.
 */
export function encodeSafetensorsHeader(
  entries: ReadonlyArray<{ name: string } & SafetensorsHeaderEntry>,
  metadata: Record<string, string> | null = { format: 'pt' },
): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata !== null) header.__metadata__ = metadata;
  for (const e of entries) header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: e.data_offsets };
  return encodeRawHeader(JSON.stringify(header));
}

/** Length prefix + `json` padded with spaces to a multiple of 8. */
export function encodeRawHeader(json: string): Buffer {
  const body = Buffer.from(json, 'utf8');
  const pad = (8 - (body.length % 8)) % 8;
  const out = Buffer.alloc(8 + body.length + pad, 0x20);
  out.writeBigUInt64LE(BigInt(body.length + pad), 0);
  body.copy(out, 8);
  return out;
}

export interface WriteSafetensorsOptions {
  /** `__metadata__`; default `{ format: 'pt' }`, `null` to leave it out. */
  metadata?: Record<string, string> | null;
  /** 'safetensors' (default): the reference writer's order; 'given': the object's key order. */
  order?: 'safetensors' | 'given';
}

/** Write a small safetensors file from in-memory tensors (atomically). */
export async function writeSafetensors(
  path: string,
  tensors: Readonly<Record<string, SafetensorsTensorInput>>,
  options: WriteSafetensorsOptions = {},
): Promise<WrittenSafetensors> {
  const items = Object.entries(tensors).map(([name, t]) => {
    const data = t.data ?? (t.values !== undefined ? encodeValues(t.dtype, t.values) : new Uint8Array(0));
    return { name, dtype: t.dtype, shape: [...t.shape], data };
  });
  const ordered = options.order === 'given' ? items : safetensorsOrder(items);
  let offset = 0;
  const entries = ordered.map((t) => {
    const entry = { name: t.name, dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] as [number, number] };
    offset += t.data.length;
    return entry;
  });
  const head = encodeSafetensorsHeader(entries, options.metadata === undefined ? { format: 'pt' } : options.metadata);
  const file = Buffer.concat([head, ...ordered.map((t) => t.data)]);
  await writeFileAtomic(path, file);
  return { path, headerLength: head.length - 8, dataStart: head.length, size: file.length, tensors: entries };
}

/** The ways `writeMalformedSafetensors` can break a file; each one a reader must reject with a typed error. */
export const MALFORMED_SAFETENSORS_KINDS = [
  'header-length-beyond-file',
  'header-length-huge',
  'file-shorter-than-length-prefix',
  'header-not-json',
  'header-not-object',
  'offsets-beyond-data',
  'overlapping-offsets',
  'offsets-size-mismatch',
  'offsets-reversed',
  'gap-between-tensors',
  'trailing-bytes',
  'truncated-data',
  'bad-dtype',
  'bad-shape',
] as const;
export type MalformedSafetensorsKind = (typeof MALFORMED_SAFETENSORS_KINDS)[number];

export interface MalformedSafetensors {
  path: string;
  kind: MalformedSafetensorsKind;
  /** What is wrong, in words (for assertion messages). */
  description: string;
  size: number;
}

/**
 * Write a file that is a valid two-tensor F32 safetensors file (`a` [2,3], `b` [4]) except for one defect.
 * Nothing else differs, so a reader that accepts it has missed exactly that defect.
 */
export async function writeMalformedSafetensors(path: string, kind: MalformedSafetensorsKind): Promise<MalformedSafetensors> {
  const a = encodeValues('F32', [1, 2, 3, 4, 5, 6]); // 24 bytes
  const b = encodeValues('F32', [7, 8, 9, 10]); // 16 bytes
  const data = Buffer.concat([a, b]);
  const meta = { format: 'pt' };
  const good = (): Record<string, unknown> => ({
    __metadata__: meta,
    a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
    b: { dtype: 'F32', shape: [4], data_offsets: [24, 40] },
  });
  const withHeader = (header: unknown, body: Uint8Array = data): Buffer =>
    Buffer.concat([encodeRawHeader(JSON.stringify(header)), body]);

  let bytes: Buffer;
  let description: string;
  switch (kind) {
    case 'header-length-beyond-file': {
      bytes = withHeader(good());
      bytes.writeBigUInt64LE(BigInt(bytes.length + 1000), 0);
      description = 'the 8-byte header length points past the end of the file';
      break;
    }
    case 'header-length-huge': {
      bytes = withHeader(good());
      bytes.writeBigUInt64LE(0xffff_ffff_ffff_fff0n, 0);
      description = 'the header length is near 2^64 (beyond any safe integer)';
      break;
    }
    case 'file-shorter-than-length-prefix': {
      bytes = Buffer.from([0x10, 0, 0, 0]);
      description = 'the file has 4 bytes, fewer than the 8-byte length prefix';
      break;
    }
    case 'header-not-json': {
      bytes = Buffer.concat([encodeRawHeader('{"a": {"dtype": "F32", "shape": [2, 3], "data_offs'), data]);
      description = 'the header is cut-off JSON';
      break;
    }
    case 'header-not-object': {
      bytes = withHeader([1, 2, 3]);
      description = 'the header is a JSON array, not an object';
      break;
    }
    case 'offsets-beyond-data': {
      const h = good();
      h.b = { dtype: 'F32', shape: [4], data_offsets: [24, 40] };
      bytes = withHeader(h, data.subarray(0, 32));
      description = 'tensor b ends at data offset 40 but the data buffer holds 32 bytes';
      break;
    }
    case 'overlapping-offsets': {
      const h = good();
      h.b = { dtype: 'F32', shape: [4], data_offsets: [16, 32] };
      bytes = withHeader(h, data.subarray(0, 32));
      description = 'tensor b [16, 32) overlaps tensor a [0, 24)';
      break;
    }
    case 'offsets-size-mismatch': {
      const h = good();
      h.b = { dtype: 'F32', shape: [5], data_offsets: [24, 40] };
      bytes = withHeader(h);
      description = 'tensor b has shape [5] of F32 (20 bytes) but its offsets span 16 bytes';
      break;
    }
    case 'offsets-reversed': {
      const h = good();
      h.b = { dtype: 'F32', shape: [4], data_offsets: [40, 24] };
      bytes = withHeader(h);
      description = 'tensor b has begin 40 > end 24';
      break;
    }
    case 'gap-between-tensors': {
      const h = good();
      h.b = { dtype: 'F32', shape: [4], data_offsets: [32, 48] };
      bytes = withHeader(h, Buffer.concat([a, Buffer.alloc(8), b]));
      description = 'bytes [24, 32) of the data buffer belong to no tensor';
      break;
    }
    case 'trailing-bytes': {
      bytes = withHeader(good(), Buffer.concat([data, Buffer.alloc(8, 0xee)]));
      description = 'the file has 8 bytes after the end of the last tensor';
      break;
    }
    case 'truncated-data': {
      const full = withHeader(good());
      bytes = full.subarray(0, full.length - 10);
      description = 'the file is 10 bytes short: tensor b is cut off';
      break;
    }
    case 'bad-dtype': {
      const h = good();
      h.b = { dtype: 'F33', shape: [4], data_offsets: [24, 40] };
      bytes = withHeader(h);
      description = 'tensor b has the unknown dtype F33';
      break;
    }
    case 'bad-shape': {
      const h = good();
      h.b = { dtype: 'F32', shape: [-4], data_offsets: [24, 40] };
      bytes = withHeader(h);
      description = 'tensor b has a negative dimension';
      break;
    }
  }
  await writeFileAtomic(path, bytes);
  return { path, kind, description, size: bytes.length };
}
