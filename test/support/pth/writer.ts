/**
 * Writes `.pth` files as torch.save does (a stored zip: <name>/data.pkl, <name>/data/<key>, <name>/byteorder,
 * <name>/version), with a protocol-2 pickle of an OrderedDict of `_rebuild_tensor_v2` calls on persistent-id storages,
 * so the tests need no Python torch. `rawPickle` replaces data.pkl (hostile pickles).
 */
import { crc32 } from 'node:zlib';

export interface PthTensorSpec {
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  data: Uint8Array;
}

const STORAGE = { F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage' } as const;
const SIZE = { F32: 4, F16: 2, BF16: 2 } as const;

class Pickle {
  parts: Buffer[] = [Buffer.from([0x80, 0x02])];
  op(...bytes: number[]): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const head = Buffer.alloc(5);
    head[0] = 0x58;
    head.writeUInt32LE(b.length, 1);
    this.parts.push(head, b);
    return this;
  }
  int(n: number): this {
    if (n < 256) return this.op(0x4b, n);
    const b = Buffer.alloc(5);
    b[0] = 0x4a;
    b.writeInt32LE(n, 1);
    this.parts.push(b);
    return this;
  }
  global(module: string, name: string): this {
    this.parts.push(Buffer.from(`c${module}\n${name}\n`));
    return this;
  }
  tuple(items: number[]): this {
    this.op(0x28);
    for (const n of items) this.int(n);
    return this.op(0x74);
  }
  bytes(): Buffer {
    return Buffer.concat([...this.parts, Buffer.from([0x2e])]);
  }
}

export function stateDictPickle(tensors: Record<string, PthTensorSpec>): Buffer {
  const p = new Pickle();
  p.global('collections', 'OrderedDict').op(0x29, 0x52); // OrderedDict()
  p.op(0x28); // MARK for SETITEMS
  let key = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const stride = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    p.str(name);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.op(0x28); // args
    p.op(0x28).str('storage').global('torch', STORAGE[t.dtype]).str(String(key++)).str('cpu').int(numel).op(0x74, 0x51); // persistent id
    p.int(0).tuple(t.shape).tuple(stride).op(0x89);
    p.global('collections', 'OrderedDict').op(0x29, 0x52);
    p.op(0x74, 0x52); // tuple, REDUCE
  }
  p.op(0x75); // SETITEMS
  return p.bytes();
}

export function zipStored(entries: Array<[string, Uint8Array]>): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(nameBytes.length, 28);
    cd.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, Buffer.from(data));
    central.push(cd, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const cdBytes = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cdBytes.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cdBytes, eocd]);
}

export function pthFile(tensors: Record<string, PthTensorSpec>, options: { rawPickle?: Buffer; prefix?: string } = {}): Buffer {
  const prefix = options.prefix ?? 'consolidated';
  const entries: Array<[string, Uint8Array]> = [[`${prefix}/data.pkl`, options.rawPickle ?? stateDictPickle(tensors)]];
  Object.values(tensors).forEach((t, i) => {
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1) * SIZE[t.dtype]) throw new Error('data length does not match shape');
    entries.push([`${prefix}/data/${i}`, t.data]);
  });
  entries.push([`${prefix}/byteorder`, Buffer.from('little')], [`${prefix}/version`, Buffer.from('3\n')]);
  return zipStored(entries);
}
