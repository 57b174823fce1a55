/**
 * An independent safetensors reader for these tests (it shares no code with the generator): parses the header
 * and lists every rule of the format the file breaks (huggingface/safetensors `Metadata::validate` and
 * `read_metadata`: known dtype, non-negative integer shape, offsets within the buffer, each tensor's byte length
 * equal to elements × dtype size, tensors contiguous from 0, last offset = end of file).
 */
import { readFile } from 'node:fs/promises';

const DTYPE_SIZES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
};

export interface ParsedTensor {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

export interface ParsedSafetensors {
  bytes: Buffer;
  headerLength: number;
  dataStart: number;
  /** Header keys in file order (the JSON text's order). */
  keys: string[];
  metadata: unknown;
  tensors: ParsedTensor[];
  /** Broken rules; empty for a valid file. */
  problems: string[];
}

export async function parseSafetensorsFile(path: string): Promise<ParsedSafetensors> {
  return parseSafetensors(await readFile(path));
}

export function parseSafetensors(bytes: Buffer): ParsedSafetensors {
  const result: ParsedSafetensors = { bytes, headerLength: 0, dataStart: 0, keys: [], metadata: undefined, tensors: [], problems: [] };
  if (bytes.length < 8) {
    result.problems.push('shorter than the length prefix');
    return result;
  }
  const n = bytes.readBigUInt64LE(0);
  if (n > BigInt(bytes.length - 8)) {
    result.problems.push('header length beyond the file');
    return result;
  }
  result.headerLength = Number(n);
  result.dataStart = 8 + result.headerLength;
  let header: unknown;
  try {
    header = JSON.parse(bytes.subarray(8, result.dataStart).toString('utf8'));
  } catch {
    result.problems.push('header is not JSON');
    return result;
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    result.problems.push('header is not an object');
    return result;
  }
  const dataLength = bytes.length - result.dataStart;
  for (const [key, value] of Object.entries(header as Record<string, unknown>)) {
    result.keys.push(key);
    if (key === '__metadata__') {
      result.metadata = value;
      continue;
    }
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(v.dtype);
    const shape = Array.isArray(v.shape) ? (v.shape as number[]) : [];
    const offsets = Array.isArray(v.data_offsets) ? (v.data_offsets as number[]) : [];
    const [begin = Number.NaN, end = Number.NaN] = offsets;
    result.tensors.push({ name: key, dtype, shape, begin, end });
    const size = DTYPE_SIZES[dtype];
    if (size === undefined) result.problems.push(`${key}: unknown dtype ${dtype}`);
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) result.problems.push(`${key}: bad shape`);
    if (!(Number.isSafeInteger(begin) && Number.isSafeInteger(end) && begin >= 0 && begin <= end)) {
      result.problems.push(`${key}: bad offsets`);
      continue;
    }
    if (end > dataLength) result.problems.push(`${key}: offsets beyond data`);
    if (size !== undefined && shape.reduce((a, b) => a * b, 1) * size !== end - begin) {
      result.problems.push(`${key}: size does not match shape`);
    }
  }
  const byOffset = [...result.tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const t of byOffset) {
    if (t.begin < cursor) result.problems.push(`${t.name}: overlaps`);
    else if (t.begin > cursor) result.problems.push(`${t.name}: gap before`);
    cursor = Math.max(cursor, t.end);
  }
  if (cursor < dataLength) result.problems.push('bytes after the last tensor');
  return result;
}

/** The raw bytes of one tensor. */
export function tensorBytes(file: ParsedSafetensors, t: ParsedTensor): Buffer {
  return file.bytes.subarray(file.dataStart + t.begin, file.dataStart + t.end);
}

/** Decode F32 / F16 / BF16 bytes with the platform's own conversions (Float16Array; bf16 = top half of f32). */
export function decodeFloats(dtype: string, raw: Buffer): Float32Array {
  const copy = new Uint8Array(raw); // aligned copy
  if (dtype === 'F32') return new Float32Array(copy.buffer, 0, copy.length / 4);
  if (dtype === 'F16') return Float32Array.from(new Float16Array(copy.buffer, 0, copy.length / 2));
  if (dtype === 'BF16') {
    const h = new Uint16Array(copy.buffer, 0, copy.length / 2);
    const bits = new Uint32Array(h.length);
    for (let i = 0; i < h.length; i++) bits[i] = (h[i] as number) * 65536;
    return new Float32Array(bits.buffer);
  }
  throw new Error(`cannot decode ${dtype}`);
}
