/**
 * safetensors reader: strict header validation, one tensor (or a range of its rows) at a time through a file handle,
 * never the whole file in memory. Sharded checkpoints through `model.safetensors.index.json`.
 *
 * Format (huggingface/safetensors README): u64 LE header length N, N bytes of UTF-8 JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`, then the byte buffer; offsets are
 * relative to the buffer start (file offset 8 + N).
 */
import type { Stats } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { IntegrityError, UsageError } from '../errors.ts';
import { notRegularFileError, openRegularFile, readOptionalRegularFile } from '../fs/regular-file.ts';
import { bf16ToF32Row, f16ToF32Row } from '../quant/fp16.ts';
import { FLOAT_TYPE_NAMES, isFloatTypeName, type FloatTypeName } from '../quant/types.ts';

/** Bytes per element of every dtype the format defines (F8 types are one byte). */
const SAFETENSORS_DTYPE_SIZES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};


/** The safetensors library refuses headers above 100 MB; a larger length is a corrupt file, not a big model. */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute path of the file holding it. */
  file: string;
  /** Absolute byte offsets in that file, [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  file: string;
  fileSize: number;
  headerLength: number;
  dataStart: number;
  metadata: Record<string, string>;
  /** In header (JSON key) order. */
  tensors: SafetensorsTensor[];
}

function corrupt(file: string, message: string, details: Record<string, unknown> = {}): IntegrityError {
  return new IntegrityError('SAFETENSORS_CORRUPT', `${basename(file)}: ${message}`, {
    hint: 'The file is truncated or damaged. Download it again (llama pull verifies hashes) and retry.',
    details: { file, ...details },
  });
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Parse and validate the header of one safetensors file. Reads only the first 8 + N bytes. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  let handle: FileHandle;
  try {
    handle = await openRegularFile(file);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError('SAFETENSORS_NOT_FOUND', `cannot open ${file}: ${(error as Error).message}`, {
      hint: 'Check the checkpoint directory: every shard listed in the index must be present.',
      details: { file },
      cause: error,
    });
  }
  try {
    const fileSize = (await handle.stat()).size;
    if (fileSize < 8) throw corrupt(file, `file is ${fileSize} bytes, shorter than the 8-byte header length`);
    const lengthBytes = Buffer.alloc(8);
    await handle.read(lengthBytes, 0, 8, 0);
    const length64 = lengthBytes.readBigUInt64LE(0);
    if (length64 > BigInt(fileSize - 8)) {
      throw corrupt(file, `header length ${length64} runs past the end of the file (${fileSize} bytes)`);
    }
    const headerLength = Number(length64);
    if (headerLength > MAX_HEADER_BYTES) throw corrupt(file, `header length ${headerLength} exceeds 100 MB`);
    if (headerLength < 2) throw corrupt(file, `header length ${headerLength} is too short for a JSON object`);
    const headerBytes = Buffer.alloc(headerLength);
    const { bytesRead } = await handle.read(headerBytes, 0, headerLength, 8);
    if (bytesRead !== headerLength) throw corrupt(file, 'header is truncated');
    return parseSafetensorsHeader(file, fileSize, headerBytes);
  } finally {
    await handle.close();
  }
}

/** Validate a header already in memory (exported for tests and fuzzing). */
export function parseSafetensorsHeader(file: string, fileSize: number, headerBytes: Uint8Array): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw corrupt(file, 'header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw corrupt(file, `header is not valid JSON (${(error as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw corrupt(file, 'header is not a JSON object');
  }
  const headerLength = headerBytes.length;
  const dataStart = 8 + headerLength;
  const bufferSize = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: SafetensorsTensor[] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw corrupt(file, '__metadata__ is not an object');
      }
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== 'string') throw corrupt(file, `__metadata__.${key} is not a string`);
        metadata[key] = value;
      }
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw corrupt(file, `tensor ${name}: entry is not an object`, { tensor: name });
    }
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string') throw corrupt(file, `tensor ${name}: dtype is missing`, { tensor: name });
    const elementSize = SAFETENSORS_DTYPE_SIZES[dtype];
    if (elementSize === undefined) {
      throw new UsageError('SAFETENSORS_UNSUPPORTED_DTYPE', `${basename(file)}: tensor ${name} has unknown dtype ${dtype}`, {
        hint: `Supported dtypes: ${FLOAT_TYPE_NAMES.join(', ')}. Convert the checkpoint with the tool that made it.`,
        details: { file, tensor: name, dtype },
      });
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt) || shape.length > 8) {
      throw corrupt(file, `tensor ${name}: shape is not a list of non-negative integers`, { tensor: name });
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt)) {
      throw corrupt(file, `tensor ${name}: data_offsets is not a pair of non-negative integers`, { tensor: name });
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) throw corrupt(file, `tensor ${name}: data_offsets [${begin}, ${end}] are reversed`, { tensor: name });
    if (end > bufferSize) {
      throw corrupt(file, `tensor ${name}: data_offsets end ${end} is beyond the data (${bufferSize} bytes)`, {
        tensor: name,
      });
    }
    let elements = 1;
    for (const dim of shape as number[]) elements *= dim;
    const expected = elements * elementSize;
    if (!Number.isSafeInteger(expected) || expected !== end - begin) {
      throw corrupt(file, `tensor ${name}: ${dtype} ${JSON.stringify(shape)} needs ${expected} bytes, offsets give ${end - begin}`, {
        tensor: name,
      });
    }
    tensors.push({ name, dtype, shape: shape as number[], file, begin: dataStart + begin, end: dataStart + end });
  }
  // Like the safetensors library: the tensors must tile the data buffer exactly (no overlap, no gap, no trailing bytes).
  const byOffset = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = dataStart;
  let previous: SafetensorsTensor | undefined;
  for (const cur of byOffset) {
    if (cur.begin < expected) {
      throw corrupt(file, `tensors ${previous?.name ?? '?'} and ${cur.name} overlap`, { tensor: cur.name, other: previous?.name });
    }
    if (cur.begin > expected) {
      throw corrupt(file, `${cur.begin - expected} bytes before tensor ${cur.name} belong to no tensor`, { tensor: cur.name });
    }
    expected = cur.end;
    previous = cur;
  }
  if (expected !== fileSize) {
    throw corrupt(file, `${fileSize - expected} bytes after the last tensor belong to no tensor`);
  }
  return { file, fileSize, headerLength, dataStart, metadata, tensors };
}

/** Decode raw little-endian F32/F16/BF16 bytes into float32 (exact for all three; the quantizers' own conversions). */
export function decodeFloats(dtype: FloatTypeName, bytes: Uint8Array, out?: Float32Array): Float32Array {
  const size = dtype === 'F32' ? 4 : 2;
  const count = bytes.length / size;
  const result = out ?? new Float32Array(count);
  if (dtype === 'F32') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) result[i] = view.getFloat32(i * 4, true);
  } else if (dtype === 'BF16') {
    bf16ToF32Row(bytes, 0, count, result, 0);
  } else {
    f16ToF32Row(bytes, 0, count, result, 0);
  }
  return result;
}

/**
 * An open checkpoint: the tensors of every shard, in the order convert_hf_to_gguf.py iterates them (shard file names
 * sorted, then `safe_open().keys()`, which the safetensors Python binding returns sorted by name).
 */
export class SafetensorsCheckpoint {
  readonly dir: string;
  readonly files: string[];
  readonly tensors: SafetensorsTensor[];
  readonly metadata: Record<string, string>;
  private readonly handles = new Map<string, FileHandle>();

  private constructor(dir: string, headers: SafetensorsHeader[]) {
    this.dir = dir;
    this.files = headers.map((h) => h.file);
    this.tensors = [];
    this.metadata = {};
    const seen = new Map<string, string>();
    for (const header of headers) {
      Object.assign(this.metadata, header.metadata);
      const names = [...header.tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const tensor of names) {
        const other = seen.get(tensor.name);
        if (other !== undefined) {
          throw corrupt(tensor.file, `tensor ${tensor.name} also appears in ${basename(other)}`, { tensor: tensor.name });
        }
        seen.set(tensor.name, tensor.file);
        this.tensors.push(tensor);
      }
    }
  }

  /** Open the safetensors files of a checkpoint directory (single file, `model-*.safetensors` shards, or an index). */
  static async open(dir: string): Promise<SafetensorsCheckpoint> {
    const files = await listSafetensorsFiles(dir);
    const headers: SafetensorsHeader[] = [];
    for (const file of files) headers.push(await readSafetensorsHeader(file));
    const checkpoint = new SafetensorsCheckpoint(dir, headers);
    await checkpoint.checkIndex();
    return checkpoint;
  }

  get(name: string): SafetensorsTensor | undefined {
    return this.tensors.find((t) => t.name === name);
  }

  /** Raw bytes of `count` rows (of the innermost dimension's stride) starting at `row`; into `target` when given. */
  async readRowsRaw(tensor: SafetensorsTensor, row: number, count: number, target?: Uint8Array): Promise<Uint8Array> {
    const rowBytes = rowByteLength(tensor);
    const start = tensor.begin + row * rowBytes;
    const length = count * rowBytes;
    if (row < 0 || count < 0 || start + length > tensor.end) {
      throw new RangeError(`rows ${row}+${count} out of range for ${tensor.name}`);
    }
    const handle = await this.handle(tensor.file);
    if (target !== undefined && target.length < length) throw new RangeError('readRowsRaw: target too small');
    const buffer = target === undefined ? Buffer.allocUnsafe(length) : target.subarray(0, length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buffer, done, length - done, start + done);
      if (bytesRead === 0) throw corrupt(tensor.file, `tensor ${tensor.name}: file ended while reading`, { tensor: tensor.name });
      done += bytesRead;
    }
    return buffer;
  }

  /** Rows [row, row+count) as float32. */
  async readRows(tensor: SafetensorsTensor, row: number, count: number): Promise<Float32Array> {
    if (!isFloatTypeName(tensor.dtype)) throw unsupportedDtype(tensor);
    return decodeFloats(tensor.dtype, await this.readRowsRaw(tensor, row, count));
  }

  /** The whole tensor as float32 (for small tensors; large ones go through readRows). */
  async readTensor(tensor: SafetensorsTensor): Promise<Float32Array> {
    return this.readRows(tensor, 0, rowCount(tensor));
  }

  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map((h) => h.close()));
  }

  private async handle(file: string): Promise<FileHandle> {
    let handle = this.handles.get(file);
    if (handle === undefined) {
      handle = await open(file, 'r');
      this.handles.set(file, handle);
    }
    return handle;
  }

  private async checkIndex(): Promise<void> {
    const index = await readIndex(this.dir);
    if (index === undefined) return;
    for (const [name, shard] of Object.entries(index)) {
      const tensor = this.get(name);
      if (tensor === undefined) {
        throw corrupt(join(this.dir, shard), `tensor ${name} is listed in model.safetensors.index.json but not in ${shard}`, {
          tensor: name,
        });
      }
      if (basename(tensor.file) !== shard) {
        throw corrupt(tensor.file, `tensor ${name} is in ${basename(tensor.file)}, the index says ${shard}`, { tensor: name });
      }
    }
  }
}

export function unsupportedDtype(tensor: SafetensorsTensor): UsageError {
  return new UsageError(
    'SAFETENSORS_UNSUPPORTED_DTYPE',
    `${basename(tensor.file)}: tensor ${tensor.name} is ${tensor.dtype}; only ${FLOAT_TYPE_NAMES.join(', ')} can be converted`,
    {
      hint: 'Use a checkpoint saved in F32, F16 or BF16 (the dtypes Meta and Hugging Face ship Llama in).',
      details: { file: tensor.file, tensor: tensor.name, dtype: tensor.dtype },
    },
  );
}

/** Number of rows when the tensor is seen as [rows, innermost]; a 1-D tensor is one row. */
export function rowCount(tensor: { shape: number[] }): number {
  if (tensor.shape.length <= 1) return 1;
  return tensor.shape.slice(0, -1).reduce((a, b) => a * b, 1);
}

function rowByteLength(tensor: SafetensorsTensor): number {
  const inner = tensor.shape.length === 0 ? 1 : tensor.shape[tensor.shape.length - 1]!;
  return inner * (SAFETENSORS_DTYPE_SIZES[tensor.dtype] ?? 1);
}

async function readIndex(dir: string): Promise<Record<string, string> | undefined> {
  const path = join(dir, 'model.safetensors.index.json');
  let text: string;
  try {
    const bytes = await readOptionalRegularFile(path);
    if (bytes === undefined) return undefined;
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error; // a FIFO or device: refused, not mistaken for "no index"
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw corrupt(path, `not valid JSON (${(error as Error).message})`);
  }
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) {
    throw corrupt(path, 'has no weight_map object');
  }
  const map: Record<string, string> = {};
  for (const [name, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
      throw corrupt(path, `weight_map entry for ${name} is not a file name`, { tensor: name });
    }
    map[name] = shard;
  }
  return map;
}

/**
 * The safetensors files of a checkpoint: the shards the index names (each must exist), else every `model*.safetensors`
 * in the directory (convert_hf_to_gguf.py's rule), sorted by name.
 */
async function listSafetensorsFiles(dir: string): Promise<string[]> {
  const index = await readIndex(dir);
  if (index !== undefined) {
    const shards = [...new Set(Object.values(index))].sort();
    for (const shard of shards) {
      const path = join(dir, shard);
      let info: Stats | undefined;
      try {
        info = await stat(path);
      } catch {
        // reported below
      }
      if (info !== undefined && !info.isFile() && !info.isDirectory()) throw notRegularFileError(path, info);
      if (info === undefined || !info.isFile()) {
        throw new IntegrityError('SAFETENSORS_SHARD_MISSING', `shard ${shard} named in model.safetensors.index.json is missing`, {
          hint: `Download the missing shard (llama pull resumes where it stopped) into ${dir} and retry.`,
          details: { file: path },
        });
      }
    }
    return shards.map((s) => join(dir, s));
  }
  const names = (await readdir(dir)).filter((n) => n.startsWith('model') && n.endsWith('.safetensors')).sort();
  if (names.length === 0) {
    throw new UsageError('SAFETENSORS_NONE', `no model*.safetensors files in ${dir}`, {
      hint: 'Point at a Hugging Face checkpoint directory with safetensors weights (PyTorch .bin files are not supported).',
      details: { dir },
    });
  }
  return names.map((n) => join(dir, n));
}
