/**
 * The plan of a quantize run, decided before any tensor data is read: every tensor's output type (the
 * convert_hf_to_gguf.py rules for F32/F16/BF16 from a checkpoint, llama-quantize's per-tensor choice otherwise), the
 * tensor order and the KVs.
 */
import type { ModelSource, SourceTensor } from '../convert/source.ts';
import { kv, type GgufKv } from '../formats/gguf.ts';
import { chooseTensorType } from '../quant/choose.ts';
import { isFloatTypeName, type GgmlTypeName, type LlamaFtype } from '../quant/types.ts';

/** llama-model-loader weight_name_comparer: layer number from `blk.%d.` (others -1), then byte order of the name. */
export function llamaQuantizeOrder<T extends { name: string }>(tensors: readonly T[]): T[] {
  const layer = (name: string): number => {
    const m = /^blk\.(-?\d+)\./.exec(name);
    return m === null ? -1 : Number(m[1]);
  };
  const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
  return [...tensors].sort((a, b) => layer(a.name) - layer(b.name) || Buffer.compare(bytes(a.name), bytes(b.name)));
}

/** One tensor of the plan: its source and the type it is written as. */
export interface Planned {
  source: SourceTensor;
  type: GgmlTypeName;
  /** The intermediate type the chosen type is made from (convert --outtype f32 makes every HF tensor F32). */
  baseType: GgmlTypeName;
  nDims?: number;
  fallbackFrom?: GgmlTypeName;
}

/** Decide every tensor's output type and the KVs, without touching tensor data. */
export function planQuantization(source: ModelSource, ftype: LlamaFtype, pure: boolean): { mode: 'convert' | 'quantize'; kvs: GgufKv[]; tensors: Planned[] } {
  if (source.kind === 'hf' && isFloatTypeName(ftype.name)) {
    // convert_hf_to_gguf.py prepare_tensors: 1-D tensors, norms and non-weights stay F32; the rest get --outtype.
    const tensors = source.tensors.map((t): Planned => {
      const keepF32 = t.nDims <= 1 || t.name.endsWith('_norm.weight') || !t.name.endsWith('.weight');
      return { source: t, type: keepF32 ? 'F32' : ftype.defaultType, baseType: t.type, nDims: t.nDims };
    });
    return { mode: 'convert', kvs: source.kvs(ftype.id), tensors };
  }
  const drop = new Set(['general.quantization_version', 'general.file_type', 'split.no', 'split.count', 'split.tensors.count']);
  const kvs = source.kvs(0).filter((k) => !drop.has(k.key));
  kvs.push(kv.u32('general.quantization_version', 2));
  kvs.push(kv.u32('general.file_type', ftype.id));
  const tensors = llamaQuantizeOrder(source.tensors).map((t): Planned => {
    const baseType: GgmlTypeName = source.kind === 'hf' ? 'F32' : t.type;
    const choice = chooseTensorType({ name: t.name, shape: t.ne, type: baseType }, ftype, source.facts, { pure });
    const planned: Planned = { source: t, type: choice.type, baseType };
    if (choice.fallbackFrom !== undefined) planned.fallbackFrom = choice.fallbackFrom;
    return planned;
  });
  return { mode: 'quantize', kvs, tensors };
}
