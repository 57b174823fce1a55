/**
 * GGUF v3 reader and streaming writer.
 *
 * Layout (llama.cpp ggml/include/gguf.h, ggml/src/gguf.cpp; ../shared/research/gguf.md §1): "GGUF", u32 version,
 * i64 n_tensors, i64 n_kv, the KVs, the tensor infos, zero padding to the alignment, then each tensor's bytes followed by
 * zero padding to the alignment (the last one too). Offsets are relative to the data section and must be exactly
 * contiguous: offset[i+1] = offset[i] + PAD(nbytes[i]).
 *
 * The writer computes every offset up front from the tensor plan, writes header + KVs + infos, then takes tensor data
 * in order as it is produced, so a file of any size is written with bounded memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { IntegrityError, UsageError } from '../errors.ts';
import { writeAll } from '../fs/write-all.ts';
import { openRegularFile } from '../fs/regular-file.ts';

const GGUF_MAGIC = 0x46554747; // "GGUF" read as u32 LE
const GGUF_VERSION = 3;
const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml.h GGML_MAX_DIMS / GGML_MAX_NAME. */
const MAX_DIMS = 4;
const MAX_NAME = 64;
/** ignoreBOM: a token may be U+FEFF itself; the default decoder would drop it. */
const UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** gguf_type ids (gguf.h). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];

const SCALAR_SIZE: Partial<Record<number, number>> = {
  [GgufValueType.UINT8]: 1, [GgufValueType.INT8]: 1, [GgufValueType.UINT16]: 2, [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4, [GgufValueType.INT32]: 4, [GgufValueType.FLOAT32]: 4, [GgufValueType.BOOL]: 1,
  [GgufValueType.UINT64]: 8, [GgufValueType.INT64]: 8, [GgufValueType.FLOAT64]: 8,
};

/**
 * ggml tensor types: id → [name, elements per block, bytes per block] (ggml/include/ggml.h, ggml-common.h). The GGUF
 * reader needs the sizes to validate offsets; the quantizers own the block layouts.
 */
export const GGML_TYPE_SIZES: Readonly<Record<number, readonly [string, number, number]>> = {
  0: ['F32', 1, 4],
  1: ['F16', 1, 2],
  2: ['Q4_0', 32, 18],
  3: ['Q4_1', 32, 20],
  6: ['Q5_0', 32, 22],
  7: ['Q5_1', 32, 24],
  8: ['Q8_0', 32, 34],
  9: ['Q8_1', 32, 36],
  10: ['Q2_K', 256, 84],
  11: ['Q3_K', 256, 110],
  12: ['Q4_K', 256, 144],
  13: ['Q5_K', 256, 176],
  14: ['Q6_K', 256, 210],
  15: ['Q8_K', 256, 292],
  16: ['IQ2_XXS', 256, 66],
  17: ['IQ2_XS', 256, 74],
  18: ['IQ3_XXS', 256, 98],
  19: ['IQ1_S', 256, 50],
  20: ['IQ4_NL', 32, 18],
  21: ['IQ3_S', 256, 110],
  22: ['IQ2_S', 256, 82],
  23: ['IQ4_XS', 256, 136],
  24: ['I8', 1, 1],
  25: ['I16', 1, 2],
  26: ['I32', 1, 4],
  27: ['I64', 1, 8],
  28: ['F64', 1, 8],
  29: ['IQ1_M', 256, 56],
  30: ['BF16', 1, 2],
  34: ['TQ1_0', 256, 54],
  35: ['TQ2_0', 256, 66],
};

export function ggmlTypeId(name: string): number {
  for (const [id, entry] of Object.entries(GGML_TYPE_SIZES)) if (entry[0] === name) return Number(id);
  throw new UsageError('GGML_TYPE_UNKNOWN', `unknown ggml type ${name}`, { hint: 'Use a type llama.cpp defines.' });
}

/** Bytes of a tensor of type `type` and dims `ne` (ne[0] must be a multiple of the block size). */
export function ggmlNbytes(type: number, ne: readonly number[]): number {
  const entry = GGML_TYPE_SIZES[type];
  if (entry === undefined) throw new RangeError(`unknown ggml type ${type}`);
  const [, block, size] = entry;
  const n0 = ne[0] ?? 1;
  if (n0 % block !== 0) throw new RangeError(`row length ${n0} is not a multiple of ${block} for ${entry[0]}`);
  let rows = 1;
  for (let i = 1; i < ne.length; i++) rows *= ne[i]!;
  return (n0 / block) * size * rows;
}

function padTo(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/** ggml_n_dims: index of the last dimension > 1, plus one, at least 1 (ggml.c). */
function ggmlNDims(ne: readonly number[]): number {
  for (let i = ne.length - 1; i >= 1; i--) if (ne[i]! > 1) return i + 1;
  return 1;
}

/** A KV value as read or to be written. Numbers of the 64-bit integer types are bigint. */
export type GgufValue =
  | { type: (typeof GgufValueType)['UINT8'] | (typeof GgufValueType)['INT8'] | (typeof GgufValueType)['UINT16'] | (typeof GgufValueType)['INT16'] | (typeof GgufValueType)['UINT32'] | (typeof GgufValueType)['INT32'] | (typeof GgufValueType)['FLOAT32'] | (typeof GgufValueType)['FLOAT64']; value: number }
  | { type: (typeof GgufValueType)['UINT64'] | (typeof GgufValueType)['INT64']; value: bigint }
  | { type: (typeof GgufValueType)['BOOL']; value: boolean }
  | { type: (typeof GgufValueType)['STRING']; value: string }
  | { type: (typeof GgufValueType)['ARRAY']; itemType: number; value: readonly string[] | readonly number[] | readonly bigint[] | readonly boolean[] };

export interface GgufKv {
  key: string;
  value: GgufValue;
  /** The encoded value (type id onward) exactly as read, so a copy is byte-identical even for odd strings. */
  raw?: Uint8Array;
}

export interface GgufTensorInfo {
  name: string;
  /** Dimensions, ne[0] innermost (row length). */
  ne: number[];
  type: number;
  /** Relative to the data section. */
  offset: number;
  /** Number of dims as stored in the file. */
  nDims: number;
}

export interface GgufFile {
  path: string;
  version: number;
  kvs: GgufKv[];
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute offset of the data section. */
  dataStart: number;
  fileSize: number;
}

// Helpers to build KVs the way gguf-py's GGUFWriter types them.
export const kv = {
  str: (key: string, value: string): GgufKv => ({ key, value: { type: GgufValueType.STRING, value } }),
  u32: (key: string, value: number): GgufKv => ({ key, value: { type: GgufValueType.UINT32, value } }),
  i32: (key: string, value: number): GgufKv => ({ key, value: { type: GgufValueType.INT32, value } }),
  f32: (key: string, value: number): GgufKv => ({ key, value: { type: GgufValueType.FLOAT32, value } }),
  bool: (key: string, value: boolean): GgufKv => ({ key, value: { type: GgufValueType.BOOL, value } }),
  strArray: (key: string, value: readonly string[]): GgufKv => ({ key, value: { type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value } }),
  f32Array: (key: string, value: readonly number[]): GgufKv => ({ key, value: { type: GgufValueType.ARRAY, itemType: GgufValueType.FLOAT32, value } }),
  i32Array: (key: string, value: readonly number[]): GgufKv => ({ key, value: { type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value } }),
};

export function getKv(file: { kvs: readonly GgufKv[] }, key: string): GgufValue['value'] | undefined {
  return file.kvs.find((k) => k.key === key)?.value.value;
}

// ------------------------------------------------------------------------------------------------------------ reader

function corruptGguf(path: string, message: string, details: Record<string, unknown> = {}): IntegrityError {
  return new IntegrityError('GGUF_CORRUPT', `${basename(path)}: ${message}`, {
    hint: 'The GGUF file is truncated or damaged. Produce or download it again.',
    details: { file: path, ...details },
  });
}

/** Reads the metadata part of a file through a handle, growing its window as needed. */
class MetaCursor {
  pos = 0;
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;
  private readonly handle: FileHandle;
  private readonly size: number;
  private readonly path: string;

  constructor(handle: FileHandle, size: number, path: string) {
    this.handle = handle;
    this.size = size;
    this.path = path;
  }

  async need(n: number): Promise<void> {
    if (this.pos + n > this.size) throw corruptGguf(this.path, 'file ends inside the header');
    if (this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.buf.length) return;
    const length = Math.min(this.size - this.pos, Math.max(n, 1 << 20));
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buf, done, length - done, this.pos + done);
      if (bytesRead === 0) throw corruptGguf(this.path, 'file ends inside the header');
      done += bytesRead;
    }
    this.buf = buf;
    this.bufStart = this.pos;
  }

  private at(): number {
    return this.pos - this.bufStart;
  }

  async u32(): Promise<number> {
    await this.need(4);
    const v = this.buf.readUInt32LE(this.at());
    this.pos += 4;
    return v;
  }

  async u64(): Promise<bigint> {
    await this.need(8);
    const v = this.buf.readBigUInt64LE(this.at());
    this.pos += 8;
    return v;
  }

  async count(what: string, limit: number): Promise<number> {
    const v = await this.u64();
    if (v > BigInt(limit)) throw corruptGguf(this.path, `${what} ${v} is impossible for a file of ${this.size} bytes`);
    return Number(v);
  }

  async bytes(n: number): Promise<Uint8Array> {
    await this.need(n);
    const out = Uint8Array.prototype.slice.call(this.buf, this.at(), this.at() + n);
    this.pos += n;
    return out;
  }

  async string(): Promise<string> {
    const n = await this.count('string length', this.size);
    return UTF8.decode(await this.bytes(n));
  }

  /**
   * `n` strings in a row (a vocabulary: 128k tokens, 280k merges). Those that lie inside the window are decoded
   * without an await or a copy each, which was most of `llama quantize`'s start-up on a Llama 3 GGUF; the others go
   * through `string()`. Buffer's UTF-8 decoding equals the TextDecoder's here (replacement characters and BOM alike).
   */
  async strings(n: number): Promise<string[]> {
    const items = new Array<string>(n);
    for (let j = 0; j < n; j++) {
      const o = this.pos - this.bufStart;
      if (o >= 0 && o + 8 <= this.buf.length) {
        const length = this.buf.readUInt32LE(o);
        if (this.buf.readUInt32LE(o + 4) === 0 && length <= this.buf.length - o - 8) {
          items[j] = this.buf.toString('utf8', o + 8, o + 8 + length);
          this.pos += 8 + length;
          continue;
        }
      }
      items[j] = await this.string();
    }
    return items;
  }

  /** `n` scalars of one type, read into the window once. */
  async scalars(type: number, n: number): Promise<(number | bigint | boolean)[]> {
    const size = SCALAR_SIZE[type];
    if (size === undefined) throw corruptGguf(this.path, `unknown value type ${type}`);
    const items: (number | bigint | boolean)[] = new Array(n);
    if (n === 0) return items;
    await this.need(n * size);
    for (let j = 0; j < n; j++) items[j] = this.scalarInWindow(type, size);
    return items;
  }

  async scalar(type: number): Promise<number | bigint | boolean> {
    const size = SCALAR_SIZE[type];
    if (size === undefined) throw corruptGguf(this.path, `unknown value type ${type}`);
    await this.need(size);
    return this.scalarInWindow(type, size);
  }

  private scalarInWindow(type: number, size: number): number | bigint | boolean {
    const b = this.buf;
    const o = this.at();
    this.pos += size;
    switch (type) {
      case GgufValueType.UINT8: return b.readUInt8(o);
      case GgufValueType.INT8: return b.readInt8(o);
      case GgufValueType.UINT16: return b.readUInt16LE(o);
      case GgufValueType.INT16: return b.readInt16LE(o);
      case GgufValueType.UINT32: return b.readUInt32LE(o);
      case GgufValueType.INT32: return b.readInt32LE(o);
      case GgufValueType.FLOAT32: return b.readFloatLE(o);
      case GgufValueType.BOOL: return b.readUInt8(o) !== 0;
      case GgufValueType.UINT64: return b.readBigUInt64LE(o);
      case GgufValueType.INT64: return b.readBigInt64LE(o);
      default: return b.readDoubleLE(o);
    }
  }

  /** Bytes from `start` to the current position (re-read through the handle if the window moved). */
  async rawSince(start: number): Promise<Uint8Array> {
    const n = this.pos - start;
    if (start >= this.bufStart && this.pos <= this.bufStart + this.buf.length) {
      return Uint8Array.prototype.slice.call(this.buf, start - this.bufStart, start - this.bufStart + n);
    }
    const out = Buffer.allocUnsafe(n);
    await this.handle.read(out, 0, n, start);
    return out;
  }
}

/** Read a GGUF file's KVs and tensor infos (not the tensor data). */
export async function readGguf(path: string): Promise<GgufFile> {
  let handle: FileHandle;
  try {
    handle = await openRegularFile(path);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError('GGUF_NOT_FOUND', `cannot open ${path}: ${(error as Error).message}`, {
      hint: 'Check the path of the GGUF file.',
      details: { file: path },
      cause: error,
    });
  }
  try {
    const fileSize = (await handle.stat()).size;
    const c = new MetaCursor(handle, fileSize, path);
    if (fileSize < 24) throw corruptGguf(path, 'file is too short to be GGUF');
    const magic = await c.u32();
    if (magic !== GGUF_MAGIC) {
      throw new UsageError('GGUF_NOT_GGUF', `${basename(path)} is not a GGUF file`, {
        hint: 'Pass a .gguf file or a Hugging Face checkpoint directory.',
        details: { file: path },
      });
    }
    const version = await c.u32();
    if (version !== 2 && version !== 3) {
      throw new UsageError('GGUF_VERSION', `${basename(path)} is GGUF version ${version}; versions 2 and 3 are read`, {
        hint: 'Re-export the file with a current llama.cpp.',
        details: { file: path, version },
      });
    }
    const nTensors = await c.count('tensor count', fileSize);
    const nKv = await c.count('KV count', fileSize);
    const kvs: GgufKv[] = [];
    const keys = new Set<string>();
    for (let i = 0; i < nKv; i++) {
      const key = await c.string();
      if (keys.has(key)) throw corruptGguf(path, `duplicate key ${key}`);
      keys.add(key);
      const start = c.pos;
      const type = await c.u32();
      let value: GgufValue;
      if (type === GgufValueType.STRING) value = { type: GgufValueType.STRING, value: await c.string() };
      else if (type === GgufValueType.ARRAY) {
        const itemType = await c.u32();
        const n = await c.count('array length', fileSize);
        if (itemType === GgufValueType.STRING) {
          value = { type: GgufValueType.ARRAY, itemType, value: await c.strings(n) };
        } else if (itemType === GgufValueType.ARRAY) {
          throw corruptGguf(path, `key ${key}: nested arrays are not allowed`);
        } else {
          const size = SCALAR_SIZE[itemType];
          if (size === undefined) throw corruptGguf(path, `key ${key}: unknown array type ${itemType}`);
          if (n * size > fileSize) throw corruptGguf(path, `key ${key}: array runs past the end of the file`);
          value = { type: GgufValueType.ARRAY, itemType, value: (await c.scalars(itemType, n)) as readonly number[] };
        }
      } else {
        value = { type, value: await c.scalar(type) } as GgufValue;
      }
      kvs.push({ key, value, raw: await c.rawSince(start) });
    }
    const tensors: GgufTensorInfo[] = [];
    const names = new Set<string>();
    for (let i = 0; i < nTensors; i++) {
      const name = await c.string();
      if (Buffer.byteLength(name) >= MAX_NAME) throw corruptGguf(path, `tensor name ${name} is too long`);
      if (names.has(name)) throw corruptGguf(path, `duplicate tensor ${name}`);
      names.add(name);
      const nDims = await c.u32();
      if (nDims < 1 || nDims > MAX_DIMS) throw corruptGguf(path, `tensor ${name} has ${nDims} dimensions`);
      const ne: number[] = [];
      for (let d = 0; d < nDims; d++) {
        const v = await c.u64();
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corruptGguf(path, `tensor ${name} has dimension ${v}`);
        ne.push(Number(v));
      }
      const type = await c.u32();
      if (GGML_TYPE_SIZES[type] === undefined) throw corruptGguf(path, `tensor ${name} has unknown type ${type}`);
      const offset = await c.count('tensor offset', fileSize);
      tensors.push({ name, ne, type, offset, nDims });
    }
    const alignmentKv = kvs.find((k) => k.key === 'general.alignment');
    let alignment = GGUF_DEFAULT_ALIGNMENT;
    if (alignmentKv !== undefined) {
      const v = alignmentKv.value;
      if (v.type !== GgufValueType.UINT32 || v.value === 0 || (v.value & (v.value - 1)) !== 0) {
        throw corruptGguf(path, 'general.alignment is not a power-of-two u32');
      }
      alignment = v.value;
    }
    const dataStart = padTo(c.pos, alignment);
    let expected = 0;
    for (const t of tensors) {
      if (t.offset !== expected) throw corruptGguf(path, `tensor ${t.name} has offset ${t.offset}, expected ${expected}`, { tensor: t.name });
      let nbytes: number;
      try {
        nbytes = ggmlNbytes(t.type, t.ne);
      } catch (error) {
        throw corruptGguf(path, `tensor ${t.name}: ${(error as Error).message}`, { tensor: t.name });
      }
      expected += padTo(nbytes, alignment);
    }
    const lastEnd = tensors.length === 0 ? 0 : tensors[tensors.length - 1]!.offset + ggmlNbytes(tensors[tensors.length - 1]!.type, tensors[tensors.length - 1]!.ne);
    // (a metadata-only file, as gguf-py writes a vocab-only GGUF, may end before the padding)
    if (tensors.length > 0 && dataStart + lastEnd > fileSize) throw corruptGguf(path, `tensor data runs past the end of the file (${fileSize} bytes)`);
    return { path, version, kvs, tensors, alignment, dataStart, fileSize };
  } finally {
    await handle.close();
  }
}

/** Reads tensor bytes of a GGUF file, a range at a time. */
export class GgufTensorReader {
  readonly file: GgufFile;
  private handle: FileHandle | undefined;

  constructor(file: GgufFile) {
    this.file = file;
  }

  /** `length` bytes of `tensor` from `byteOffset`; into `target` when given. */
  async read(tensor: GgufTensorInfo, byteOffset: number, length: number, target?: Uint8Array): Promise<Uint8Array> {
    this.handle ??= await open(this.file.path, 'r');
    if (target !== undefined && target.length < length) throw new RangeError('GgufTensorReader.read: target too small');
    const buffer = target === undefined ? Buffer.allocUnsafe(length) : target.subarray(0, length);
    const start = this.file.dataStart + tensor.offset + byteOffset;
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, start + done);
      if (bytesRead === 0) throw corruptGguf(this.file.path, `file ends inside tensor ${tensor.name}`, { tensor: tensor.name });
      done += bytesRead;
    }
    return buffer;
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}

// ------------------------------------------------------------------------------------------------------------ writer

class ByteSink {
  chunks: Uint8Array[] = [];
  length = 0;

  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  u32(v: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(v >>> 0);
    this.push(b);
  }

  u64(v: number | bigint): void {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }

  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }

  scalar(type: number, v: number | bigint | boolean): void {
    const size = SCALAR_SIZE[type];
    if (size === undefined) throw new RangeError(`not a scalar GGUF type: ${type}`);
    const b = Buffer.allocUnsafe(size);
    switch (type) {
      case GgufValueType.UINT8: b.writeUInt8(Number(v)); break;
      case GgufValueType.INT8: b.writeInt8(Number(v)); break;
      case GgufValueType.UINT16: b.writeUInt16LE(Number(v)); break;
      case GgufValueType.INT16: b.writeInt16LE(Number(v)); break;
      case GgufValueType.UINT32: b.writeUInt32LE(Number(v)); break;
      case GgufValueType.INT32: b.writeInt32LE(Number(v)); break;
      case GgufValueType.FLOAT32: b.writeFloatLE(Number(v)); break;
      case GgufValueType.BOOL: b.writeUInt8(v === true || v === 1 ? 1 : 0); break;
      case GgufValueType.UINT64: b.writeBigUInt64LE(BigInt(v)); break;
      case GgufValueType.INT64: b.writeBigInt64LE(BigInt(v)); break;
      default: b.writeDoubleLE(Number(v));
    }
    this.push(b);
  }

  concat(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

function encodeValue(sink: ByteSink, value: GgufValue): void {
  sink.u32(value.type);
  if (value.type === GgufValueType.STRING) sink.string(value.value);
  else if (value.type === GgufValueType.ARRAY) {
    sink.u32(value.itemType);
    sink.u64(value.value.length);
    for (const item of value.value) {
      if (value.itemType === GgufValueType.STRING) sink.string(item as string);
      else sink.scalar(value.itemType, item as number | bigint | boolean);
    }
  } else sink.scalar(value.type, value.value);
}

export interface GgufTensorPlan {
  name: string;
  ne: number[];
  type: number;
  /** Dims to write; default ggml_n_dims(ne) as llama.cpp's writer does (gguf-py writes the numpy rank). */
  nDims?: number;
}

/** Encode header + KVs + tensor infos + padding to the alignment; returns the bytes and each tensor's size. */
export function encodeGgufMetadata(
  kvs: readonly GgufKv[],
  tensors: readonly GgufTensorPlan[],
  alignment = GGUF_DEFAULT_ALIGNMENT,
): { bytes: Buffer; sizes: number[] } {
  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(tensors.length);
  sink.u64(kvs.length);
  const keys = new Set<string>();
  for (const entry of kvs) {
    if (keys.has(entry.key)) throw new RangeError(`duplicate GGUF key ${entry.key}`);
    keys.add(entry.key);
    sink.string(entry.key);
    if (entry.raw !== undefined) sink.push(entry.raw);
    else encodeValue(sink, entry.value);
  }
  const sizes: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    const nDims = t.nDims ?? ggmlNDims(t.ne);
    sink.string(t.name);
    sink.u32(nDims);
    for (let d = 0; d < nDims; d++) sink.u64(t.ne[d] ?? 1);
    sink.u32(t.type);
    sink.u64(offset);
    const size = ggmlNbytes(t.type, t.ne);
    sizes.push(size);
    offset += padTo(size, alignment);
  }
  const padding = padTo(sink.length, alignment) - sink.length;
  sink.push(new Uint8Array(padding));
  return { bytes: sink.concat(), sizes };
}

/**
 * Streaming writer: the metadata goes out first, then each tensor's bytes in plan order through `write`, each tensor
 * padded with zeros once complete. `close` checks that every tensor got exactly its size.
 */
export class GgufWriter {
  private readonly handle: FileHandle;
  private readonly sizes: number[];
  private readonly names: string[];
  private readonly alignment: number;
  private position: number;
  private current = 0;
  private writtenInCurrent = 0;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  private constructor(handle: FileHandle, metaLength: number, sizes: number[], names: string[], alignment: number) {
    this.handle = handle;
    this.sizes = sizes;
    this.names = names;
    this.alignment = alignment;
    this.position = metaLength;
  }

  static async create(
    path: string,
    kvs: readonly GgufKv[],
    tensors: readonly GgufTensorPlan[],
    alignment = GGUF_DEFAULT_ALIGNMENT,
  ): Promise<GgufWriter> {
    const { bytes, sizes } = encodeGgufMetadata(kvs, tensors, alignment);
    const handle = await open(path, 'w');
    try {
      await writeAll(handle, bytes, 0);
    } catch (error) {
      await handle.close();
      throw error;
    }
    const writer = new GgufWriter(handle, bytes.length, sizes, tensors.map((t) => t.name), alignment);
    writer.skipEmpty();
    return writer;
  }

  /** Index of the tensor the next bytes belong to. */
  get tensorIndex(): number {
    return this.current;
  }

  /**
   * Append bytes of the current tensor (a tensor may arrive in any number of pieces). When the promise settles the
   * writer no longer refers to `bytes`, so the caller may reuse its buffer: small pieces are copied into a batch,
   * large ones are written straight through.
   */
  async write(bytes: Uint8Array): Promise<void> {
    let rest = bytes;
    while (rest.length > 0) {
      const size = this.sizes[this.current];
      if (size === undefined) throw new RangeError('GGUF writer: more tensor data than the plan holds');
      const take = Math.min(rest.length, size - this.writtenInCurrent);
      const piece = take === rest.length ? rest : rest.subarray(0, take);
      if (piece.length >= DIRECT_WRITE_BYTES) {
        await this.flush();
        await writeAll(this.handle, piece, this.position);
        this.position += piece.length;
      } else this.queue(Uint8Array.prototype.slice.call(piece));
      this.writtenInCurrent += take;
      rest = rest.subarray(take);
      if (this.writtenInCurrent === size) {
        const pad = padTo(size, this.alignment) - size;
        if (pad > 0) this.queue(new Uint8Array(pad));
        this.current++;
        this.writtenInCurrent = 0;
        this.skipEmpty();
      }
      if (this.pendingBytes >= DIRECT_WRITE_BYTES) await this.flush();
    }
  }

  /** Flush, check completeness, fsync and close. */
  async close(): Promise<void> {
    try {
      await this.flush();
      if (this.current !== this.sizes.length) {
        throw new RangeError(`GGUF writer: tensor ${this.names[this.current]} is incomplete`);
      }
      await this.handle.sync();
    } finally {
      await this.handle.close();
    }
  }

  /** Close without checks (after a failure). */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
  }

  private skipEmpty(): void {
    while (this.sizes[this.current] === 0) this.current++;
  }

  private queue(bytes: Uint8Array): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    const length = this.pendingBytes;
    this.pendingBytes = 0;
    await writeAll(this.handle, data, this.position);
    this.position += length;
  }
}

/** Pieces at least this large skip the batch and go to the file directly. */
const DIRECT_WRITE_BYTES = 1 << 20;

