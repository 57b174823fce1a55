/**
 * PyTorch `.pth` checkpoints (torch.save's zip format, what Meta's consolidated.NN.pth are), read without Python and
 * without running the pickle.
 *
 * The file is an uncompressed ("stored") zip: `<prefix>/data.pkl` is a pickle of the state dict, each tensor's bytes
 * are the entry `<prefix>/data/<key>`. The pickle is interpreted by a restricted machine that knows only the opcodes
 * a state dict needs and only these callables: `collections.OrderedDict` (the dict), `torch._utils._rebuild_tensor_v2`
 * (a tensor view of a storage) and the `torch.*Storage` classes named in persistent ids `('storage', cls, key,
 * location, numel)`. Any other global (os.system, builtins.eval, …), any other opcode (NEWOBJ, INST, BUILD, EXT*, …)
 * is refused with a typed error before anything else happens; nothing is ever called or imported. Tensor bytes stay
 * in the zip and are read at their offset (the format's stored entries make that possible), never extracted.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { IntegrityError, UsageError } from '../errors.ts';

export type PthDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const STORAGE_DTYPES: Record<string, { dtype: PthDtype; size: number }> = {
  FloatStorage: { dtype: 'F32', size: 4 },
  HalfStorage: { dtype: 'F16', size: 2 },
  BFloat16Storage: { dtype: 'BF16', size: 2 },
  DoubleStorage: { dtype: 'F64', size: 8 },
  LongStorage: { dtype: 'I64', size: 8 },
  IntStorage: { dtype: 'I32', size: 4 },
  ShortStorage: { dtype: 'I16', size: 2 },
  CharStorage: { dtype: 'I8', size: 1 },
  ByteStorage: { dtype: 'U8', size: 1 },
  BoolStorage: { dtype: 'BOOL', size: 1 },
};

export interface PthTensor {
  name: string;
  dtype: PthDtype;
  shape: number[];
  /** Absolute offset of the tensor's first byte in the .pth file, and its length. */
  offset: number;
  byteLength: number;
}

export interface PthCheckpoint {
  path: string;
  tensors: Map<string, PthTensor>;
  /** Read one tensor's bytes (row-major, little-endian) from the zip. */
  read(name: string): Promise<Buffer>;
  close(): Promise<void>;
}

function corrupt(path: string, what: string, code = 'PTH_CORRUPT'): IntegrityError {
  return new IntegrityError(code, `${path} is not a readable PyTorch checkpoint: ${what}.`, {
    hint: 'The file is truncated, damaged or not a torch.save zip. Download it again and check it against its checklist (llama pull meta:… does).',
    details: { path },
  });
}

function unsafe(path: string, what: string): IntegrityError {
  return new IntegrityError('PTH_UNSAFE_PICKLE', `${path} holds a pickle that does more than rebuild tensors (${what}); it was not run.`, {
    hint: 'A state dict needs only OrderedDict, torch._utils._rebuild_tensor_v2 and storages. Do not load this file with torch.load either; get the checkpoint from its publisher.',
    details: { path },
  });
}

// ---- zip (stored entries only; zip64 as torch writes for big files) -------------------------------------------

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  return Number(v);
}

async function readCentralDirectory(handle: FileHandle, path: string, fileSize: number): Promise<ZipEntry[]> {
  const tailLength = Math.min(fileSize, 65_557);
  const tail = await readAt(handle, fileSize - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corrupt(path, 'no zip end record (truncated, or not a zip)');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if ((count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) && eocd >= 20 && tail.readUInt32LE(eocd - 20) === 0x07064b50) {
    const z64At = u64(tail, eocd - 20 + 8);
    const z64 = await readAt(handle, z64At, 56);
    if (z64.length < 56 || z64.readUInt32LE(0) !== 0x06064b50) throw corrupt(path, 'bad zip64 end record');
    count = u64(z64, 32);
    cdSize = u64(z64, 40);
    cdOffset = u64(z64, 48);
  }
  if (cdOffset + cdSize > fileSize || cdSize > 64 * 1024 * 1024 || count > cdSize / 46 + 1) throw corrupt(path, 'the zip directory lies outside the file');
  const cd = await readAt(handle, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > cd.length || cd.readUInt32LE(at) !== 0x02014b50) throw corrupt(path, `zip directory entry ${i} is damaged`);
    const method = cd.readUInt16LE(at + 10);
    let compressedSize = cd.readUInt32LE(at + 20);
    let size = cd.readUInt32LE(at + 24);
    const nameLength = cd.readUInt16LE(at + 28);
    const extraLength = cd.readUInt16LE(at + 30);
    const commentLength = cd.readUInt16LE(at + 32);
    let localHeaderOffset = cd.readUInt32LE(at + 42);
    if (at + 46 + nameLength + extraLength + commentLength > cd.length) throw corrupt(path, `zip directory entry ${i} is damaged`);
    const name = cd.toString('utf8', at + 46, at + 46 + nameLength);
    // zip64 extra field: the 64-bit values, in this order, for the fields that are 0xffffffff.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = cd.readUInt16LE(extra);
      const length = cd.readUInt16LE(extra + 2);
      if (id === 0x0001) {
        let p = extra + 4;
        const take = (): number => {
          if (p + 8 > extra + 4 + length) throw corrupt(path, `zip64 field of ${name} is short`);
          const v = u64(cd, p);
          p += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      extra += 4 + length;
    }
    entries.push({ name, method, compressedSize, size, localHeaderOffset });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Offset of an entry's bytes (after its local header), checked to lie inside the file. */
async function entryData(handle: FileHandle, path: string, entry: ZipEntry, fileSize: number): Promise<number> {
  if (entry.method !== 0) {
    throw corrupt(path, `${entry.name} is compressed (method ${entry.method}); torch.save stores entries uncompressed`, 'PTH_COMPRESSED');
  }
  const local = await readAt(handle, entry.localHeaderOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== 0x04034b50) throw corrupt(path, `the local header of ${entry.name} is damaged`);
  const start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (start + entry.size > fileSize || entry.size !== entry.compressedSize) throw corrupt(path, `${entry.name} runs past the end of the file`);
  return start;
}

// ---- the restricted pickle machine -----------------------------------------------------------------------------

class Global {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}
class StorageRef {
  readonly dtype: PthDtype;
  readonly elementSize: number;
  readonly key: string;
  readonly numel: number;
  constructor(dtype: PthDtype, elementSize: number, key: string, numel: number) {
    this.dtype = dtype;
    this.elementSize = elementSize;
    this.key = key;
    this.numel = numel;
  }
}
class TensorRef {
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: number[];
  readonly stride: number[];
  constructor(storage: StorageRef, offset: number, shape: number[], stride: number[]) {
    this.storage = storage;
    this.offset = offset;
    this.shape = shape;
    this.stride = stride;
  }
}
class Dict {
  readonly entries = new Map<unknown, unknown>();
}
const MARK = Symbol('mark');

const ALLOWED_GLOBALS = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`)]);
const MAX_DEPTH_ITEMS = 10_000_000;

function isIntList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0);
}

/** Run the restricted machine over `data` (the bytes of data.pkl); returns the unpickled top object. */
export function restrictedUnpickle(data: Buffer, path = 'data.pkl'): unknown {
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let at = 0;
  const need = (n: number): void => {
    if (at + n > data.length) throw corrupt(path, 'the pickle ends early');
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw corrupt(path, 'the pickle pops an empty stack');
    const v = stack.pop();
    if (v === MARK) throw corrupt(path, 'the pickle pops a mark');
    return v;
  };
  const popMark = (): unknown[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw corrupt(path, 'the pickle has no mark to pop to');
    const items = stack.splice(i);
    items.shift();
    return items;
  };
  const top = (): unknown => {
    if (stack.length === 0) throw corrupt(path, 'the pickle reads an empty stack');
    return stack[stack.length - 1];
  };
  const text = (n: number): string => {
    need(n);
    const s = data.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  const setItems = (dict: unknown, items: unknown[]): void => {
    if (!(dict instanceof Dict) || items.length % 2 !== 0) throw corrupt(path, 'the pickle sets items on something that is not a dict');
    for (let i = 0; i < items.length; i += 2) dict.entries.set(items[i], items[i + 1]);
  };
  const global = (module: string, name: string): Global => {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(full)) throw unsafe(path, `it imports ${JSON.stringify(full).slice(0, 120)}`);
    return new Global(full);
  };
  const reduce = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof Global) || !Array.isArray(args)) throw unsafe(path, 'it calls something that is not an allowed global');
    if (fn.name === 'collections.OrderedDict') {
      if (args.length !== 0) throw unsafe(path, 'OrderedDict is called with arguments');
      return new Dict();
    }
    if (fn.name === 'torch._utils._rebuild_tensor_v2') {
      const [storage, offset, shape, stride] = args as unknown[];
      if (!(storage instanceof StorageRef) || !Number.isSafeInteger(offset) || (offset as number) < 0 || !isIntList(shape) || !isIntList(stride) || shape.length !== stride.length) {
        throw corrupt(path, 'a tensor is rebuilt from arguments that are not (storage, offset, size, stride, …)');
      }
      return new TensorRef(storage, offset as number, shape, stride);
    }
    throw unsafe(path, `it calls ${fn.name}`);
  };

  let steps = 0;
  for (;;) {
    if (++steps > MAX_DEPTH_ITEMS) throw corrupt(path, 'the pickle is too long for a state dict');
    need(1);
    const op = data[at++] as number;
    switch (op) {
      case 0x80: // PROTO
        need(1);
        at += 1;
        break;
      case 0x95: // FRAME
        need(8);
        at += 8;
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Dict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        need(1);
        stack.push(data[at]);
        at += 1;
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(data.readUInt16LE(at));
        at += 2;
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(data.readInt32LE(at));
        at += 4;
        break;
      case 0x8a: {
        // LONG1
        need(1);
        const n = data[at] as number;
        at += 1;
        need(n);
        if (n > 8) throw corrupt(path, 'an integer is too large');
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[at + i] as number);
        if (n > 0 && ((data[at + n - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * n);
        at += n;
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(path, 'an integer is too large');
        stack.push(Number(v));
        break;
      }
      case 0x47: // BINFLOAT
        need(8);
        stack.push(data.readDoubleBE(at));
        at += 8;
        break;
      case 0x58: // BINUNICODE
        need(4);
        at += 4;
        stack.push(text(data.readUInt32LE(at - 4)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        need(1);
        at += 1;
        stack.push(text(data[at - 1] as number));
        break;
      case 0x8d: // BINUNICODE8
        need(8);
        at += 8;
        stack.push(text(u64(data, at - 8)));
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) throw corrupt(path, 'the pickle appends to something that is not a list');
        list.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw corrupt(path, 'the pickle appends to something that is not a list');
        list.push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        need(1);
        memo.set(data[at] as number, top());
        at += 1;
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        memo.set(data.readUInt32LE(at), top());
        at += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const width = op === 0x68 ? 1 : 4;
        need(width);
        const key = width === 1 ? (data[at] as number) : data.readUInt32LE(at);
        at += width;
        if (!memo.has(key)) throw corrupt(path, `the pickle reads memo ${key}, which was never stored`);
        stack.push(memo.get(key));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const end1 = data.indexOf(0x0a, at);
        const end2 = end1 < 0 ? -1 : data.indexOf(0x0a, end1 + 1);
        if (end2 < 0 || end2 - at > 512) throw corrupt(path, 'a global name is not terminated');
        const module = data.toString('utf8', at, end1);
        const name = data.toString('utf8', end1 + 1, end2);
        at = end2 + 1;
        stack.push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof name !== 'string' || typeof module !== 'string') throw corrupt(path, 'STACK_GLOBAL without two names');
        stack.push(global(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(reduce(fn, args));
        break;
      }
      case 0x51: {
        // BINPERSID: ('storage', StorageClass, key, location, numel)
        const pid = pop();
        if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof Global) || typeof pid[2] !== 'string' || !Number.isSafeInteger(pid[4])) {
          throw unsafe(path, 'a persistent id that is not a storage record');
        }
        const cls = (pid[1] as Global).name.replace(/^torch\./, '');
        const info = STORAGE_DTYPES[cls];
        if (!info || !/^[A-Za-z0-9_]+$/.test(pid[2] as string)) throw unsafe(path, `a storage of kind ${cls}`);
        stack.push(new StorageRef(info.dtype, info.size, pid[2] as string, pid[4] as number));
        break;
      }
      default:
        throw unsafe(path, `opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at - 1}, which a state dict does not use`);
    }
  }
}

function flattenStateDict(root: unknown, path: string): Map<string, TensorRef> {
  // Meta's consolidated.NN.pth is the state dict itself; some checkpoints wrap it ({"model": {...}}).
  let dict = root;
  if (dict instanceof Dict && dict.entries.size === 1) {
    const only = [...dict.entries.values()][0];
    if (only instanceof Dict) dict = only;
  }
  if (!(dict instanceof Dict)) throw corrupt(path, 'the pickle is not a state dict (a dict of tensors)', 'PTH_NOT_STATE_DICT');
  const out = new Map<string, TensorRef>();
  for (const [k, v] of dict.entries) {
    if (typeof k !== 'string' || !(v instanceof TensorRef)) throw corrupt(path, `the state dict entry ${JSON.stringify(String(k)).slice(0, 80)} is not a named tensor`, 'PTH_NOT_STATE_DICT');
    out.set(k, v);
  }
  return out;
}

export async function openPth(path: string): Promise<PthCheckpoint> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new UsageError('PTH_NOT_FOUND', `Cannot open ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, {
      hint: 'Check the path of the checkpoint folder.',
      details: { path },
    });
  }
  try {
    const fileSize = (await handle.stat()).size;
    const entries = await readCentralDirectory(handle, path, fileSize);
    const pkl = entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
    if (!pkl) throw corrupt(path, 'no <name>/data.pkl in the zip');
    const prefix = pkl.name.slice(0, -'data.pkl'.length);
    const byteorder = entries.find((e) => e.name === `${prefix}byteorder`);
    if (byteorder) {
      const at = await entryData(handle, path, byteorder, fileSize);
      const order = (await readAt(handle, at, Math.min(byteorder.size, 16))).toString('utf8').trim();
      if (order !== 'little') throw corrupt(path, `its tensors are ${order}-endian`, 'PTH_BIG_ENDIAN');
    }
    if (pkl.size > 256 * 1024 * 1024) throw corrupt(path, 'data.pkl is too large for a state dict');
    const pklAt = await entryData(handle, path, pkl, fileSize);
    const refs = flattenStateDict(restrictedUnpickle(await readAt(handle, pklAt, pkl.size), path), path);
    const byName = new Map(entries.map((e) => [e.name, e]));
    const tensors = new Map<string, PthTensor>();
    for (const [name, ref] of refs) {
      const entry = byName.get(`${prefix}data/${ref.storage.key}`);
      if (!entry) throw corrupt(path, `the storage ${ref.storage.key} of ${name} is missing from the zip`);
      const dataAt = await entryData(handle, path, entry, fileSize);
      // Only contiguous row-major views are read (what torch.save of a model's parameters gives).
      let expected = 1;
      for (let i = ref.shape.length - 1; i >= 0; i--) {
        if ((ref.shape[i] as number) > 1 && ref.stride[i] !== expected) throw corrupt(path, `${name} is not stored contiguously (stride ${ref.stride.join(',')})`, 'PTH_NOT_CONTIGUOUS');
        expected *= ref.shape[i] as number;
      }
      const numel = expected;
      const byteLength = numel * ref.storage.elementSize;
      const start = ref.offset * ref.storage.elementSize;
      if (!Number.isSafeInteger(byteLength) || start + byteLength > entry.size || ref.offset + numel > ref.storage.numel) {
        throw corrupt(path, `${name} (${ref.shape.join('×')}) lies outside its storage`);
      }
      tensors.set(name, { name, dtype: ref.storage.dtype, shape: ref.shape, offset: dataAt + start, byteLength });
    }
    return {
      path,
      tensors,
      read: async (name) => {
        const t = tensors.get(name);
        if (!t) throw new UsageError('PTH_NO_TENSOR', `${path} has no tensor ${name}.`, { hint: 'List the checkpoint\'s tensors to see its names.', details: { path, name } });
        const bytes = await readAt(handle, t.offset, t.byteLength);
        if (bytes.length !== t.byteLength) throw corrupt(path, `${name} is cut short (the file shrank while reading)`);
        return bytes;
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
