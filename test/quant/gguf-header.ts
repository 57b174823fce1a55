/**
 * A minimal GGUF v3 header reader for the quant tests and fixture extraction (KVs with scalar/string values, tensor
 * infos, the data section start). Layout from ggml/include/gguf.h (shared/research/gguf.md §1). Replace with
 * src/formats/gguf.ts once that reader exists.
 */
export interface GgufTensorInfo {
  name: string;
  ne: number[];
  type: number;
  offset: number;
}

export interface GgufHeader {
  kv: Map<string, unknown>;
  tensors: GgufTensorInfo[];
  dataStart: number;
}

export function readGgufHeader(buf: Uint8Array): GgufHeader {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = 0;
  const u32 = (): number => {
    const v = dv.getUint32(o, true);
    o += 4;
    return v;
  };
  const u64 = (): number => {
    const v = Number(dv.getBigUint64(o, true));
    o += 8;
    return v;
  };
  const str = (): string => {
    const n = u64();
    const s = new TextDecoder().decode(buf.subarray(o, o + n));
    o += n;
    return s;
  };
  const scalarSize: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const value = (vt: number): unknown => {
    switch (vt) {
      case 4: return u32();
      case 5: { const v = dv.getInt32(o, true); o += 4; return v; }
      case 6: { const v = dv.getFloat32(o, true); o += 4; return v; }
      case 8: return str();
      case 9: {
        const et = u32();
        const n = u64();
        if (et === 8) {
          const out: string[] = [];
          for (let i = 0; i < n; i++) out.push(str());
          return out;
        }
        const size = scalarSize[et];
        if (size === undefined) throw new Error(`gguf: bad array element type ${et}`);
        o += size * n;
        return { arrayOf: et, length: n };
      }
      default: {
        const size = scalarSize[vt];
        if (size === undefined) throw new Error(`gguf: bad value type ${vt}`);
        const start = o;
        o += size;
        return buf.slice(start, o);
      }
    }
  };
  if (new TextDecoder().decode(buf.subarray(0, 4)) !== 'GGUF') throw new Error('gguf: bad magic');
  o = 4;
  const version = u32();
  if (version !== 3) throw new Error(`gguf: version ${version}`);
  const nTensors = u64();
  const nKv = u64();
  const kv = new Map<string, unknown>();
  for (let i = 0; i < nKv; i++) {
    const key = str();
    kv.set(key, value(u32()));
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const ne: number[] = [];
    for (let d = 0; d < nd; d++) ne.push(u64());
    const type = u32();
    const offset = u64();
    tensors.push({ name, ne, type, offset });
  }
  const align = typeof kv.get('general.alignment') === 'number' ? (kv.get('general.alignment') as number) : 32;
  const dataStart = Math.ceil(o / align) * align;
  return { kv, tensors, dataStart };
}
