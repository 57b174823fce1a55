/**
 * The ggml tensor types and llama file types (ftypes) that `llama quantize` handles.
 *
 * API
 * - `GGML_TYPES[name]`: `{ name, id, blockSize, typeSize, quantized }` for F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1,
 *   Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K (ids, block sizes and bytes per block from ggml/include/ggml.h and
 *   ggml/src/ggml-common.h).
 * - `ggmlTypeById(id)`: the entry for a type id found in a GGUF file, or undefined when we do not handle it.
 * - `rowSizeBytes(type, rowLength)`: bytes of one row (throws UsageError when rowLength is not a multiple of the block).
 * - `LLAMA_FTYPES[name]`: `{ name, id, defaultType }` (ids from include/llama.h `llama_ftype`, the default tensor
 *   type from src/llama-quant.cpp `llama_ftype_get_default_type`).
 * - `parseFtype(text)`: case-insensitive name → ftype entry, accepting llama-quantize's aliases Q3_K → Q3_K_M,
 *   Q4_K → Q4_K_M, Q5_K → Q5_K_M; anything else is a UsageError listing the valid names.
 */
import { UsageError } from '../errors.ts';

export type GgmlTypeName =
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'Q4_0'
  | 'Q4_1'
  | 'Q5_0'
  | 'Q5_1'
  | 'Q8_0'
  | 'Q2_K'
  | 'Q3_K'
  | 'Q4_K'
  | 'Q5_K'
  | 'Q6_K'
  | 'Q8_K';

/** The float types tensors are stored in before quantization (safetensors dtypes share the names). */
export const FLOAT_TYPE_NAMES = ['F32', 'F16', 'BF16'] as const;
export type FloatTypeName = (typeof FLOAT_TYPE_NAMES)[number];

export function isFloatTypeName(name: string): name is FloatTypeName {
  return (FLOAT_TYPE_NAMES as readonly string[]).includes(name);
}

export interface GgmlType {
  readonly name: GgmlTypeName;
  /** ggml_type id as stored in GGUF tensor infos. */
  readonly id: number;
  /** Elements per block (1 for the float types). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
  /** True for block-quantized types (ggml_is_quantized). */
  readonly quantized: boolean;
}

function t(name: GgmlTypeName, id: number, blockSize: number, typeSize: number): GgmlType {
  return Object.freeze({ name, id, blockSize, typeSize, quantized: blockSize > 1 });
}

export const GGML_TYPES: Readonly<Record<GgmlTypeName, GgmlType>> = Object.freeze({
  F32: t('F32', 0, 1, 4),
  F16: t('F16', 1, 1, 2),
  Q4_0: t('Q4_0', 2, 32, 18),
  Q4_1: t('Q4_1', 3, 32, 20),
  Q5_0: t('Q5_0', 6, 32, 22),
  Q5_1: t('Q5_1', 7, 32, 24),
  Q8_0: t('Q8_0', 8, 32, 34),
  Q2_K: t('Q2_K', 10, 256, 84),
  Q3_K: t('Q3_K', 11, 256, 110),
  Q4_K: t('Q4_K', 12, 256, 144),
  Q5_K: t('Q5_K', 13, 256, 176),
  Q6_K: t('Q6_K', 14, 256, 210),
  Q8_K: t('Q8_K', 15, 256, 292),
  BF16: t('BF16', 30, 1, 2),
});

const BY_ID = new Map<number, GgmlType>(Object.values(GGML_TYPES).map((x) => [x.id, x]));

export function ggmlTypeById(id: number): GgmlType | undefined {
  return BY_ID.get(id);
}

/** Bytes of one row of `rowLength` elements in `type` (ggml_row_size). */
export function rowSizeBytes(type: GgmlTypeName, rowLength: number): number {
  const info = GGML_TYPES[type];
  if (!Number.isInteger(rowLength) || rowLength < 0 || rowLength % info.blockSize !== 0) {
    throw new UsageError('QUANT_ROW_LENGTH', `A row of ${rowLength} elements cannot be stored as ${type}: ${type} packs ${info.blockSize} elements per block.`, {
      hint: `Use a type whose block size divides ${rowLength}, or let the per-tensor type choice pick a fallback.`,
      details: { type, rowLength, blockSize: info.blockSize },
    });
  }
  return (rowLength / info.blockSize) * info.typeSize;
}

export type LlamaFtypeName =
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'Q8_0'
  | 'Q4_0'
  | 'Q4_1'
  | 'Q5_0'
  | 'Q5_1'
  | 'Q2_K'
  | 'Q3_K_S'
  | 'Q3_K_M'
  | 'Q3_K_L'
  | 'Q4_K_S'
  | 'Q4_K_M'
  | 'Q5_K_S'
  | 'Q5_K_M'
  | 'Q6_K';

export interface LlamaFtype {
  readonly name: LlamaFtypeName;
  /** `general.file_type` value (llama_ftype). */
  readonly id: number;
  /** The tensor type most weights get (llama_ftype_get_default_type). */
  readonly defaultType: GgmlTypeName;
}

function ft(name: LlamaFtypeName, id: number, defaultType: GgmlTypeName): LlamaFtype {
  return Object.freeze({ name, id, defaultType });
}

export const LLAMA_FTYPES: Readonly<Record<LlamaFtypeName, LlamaFtype>> = Object.freeze({
  F32: ft('F32', 0, 'F32'),
  F16: ft('F16', 1, 'F16'),
  Q4_0: ft('Q4_0', 2, 'Q4_0'),
  Q4_1: ft('Q4_1', 3, 'Q4_1'),
  Q8_0: ft('Q8_0', 7, 'Q8_0'),
  Q5_0: ft('Q5_0', 8, 'Q5_0'),
  Q5_1: ft('Q5_1', 9, 'Q5_1'),
  Q2_K: ft('Q2_K', 10, 'Q2_K'),
  Q3_K_S: ft('Q3_K_S', 11, 'Q3_K'),
  Q3_K_M: ft('Q3_K_M', 12, 'Q3_K'),
  Q3_K_L: ft('Q3_K_L', 13, 'Q3_K'),
  Q4_K_S: ft('Q4_K_S', 14, 'Q4_K'),
  Q4_K_M: ft('Q4_K_M', 15, 'Q4_K'),
  Q5_K_S: ft('Q5_K_S', 16, 'Q5_K'),
  Q5_K_M: ft('Q5_K_M', 17, 'Q5_K'),
  Q6_K: ft('Q6_K', 18, 'Q6_K'),
  BF16: ft('BF16', 32, 'BF16'),
});

/** llama-quantize's aliases (tools/quantize/quantize.cpp QUANT_OPTIONS). */
const FTYPE_ALIASES: Readonly<Record<string, LlamaFtypeName>> = Object.freeze({
  Q3_K: 'Q3_K_M',
  Q4_K: 'Q4_K_M',
  Q5_K: 'Q5_K_M',
});

/** Valid names in the order llama-quantize lists them, aliases last. */
export const FTYPE_NAMES: readonly string[] = Object.freeze([
  'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K_S', 'Q3_K_M', 'Q3_K_L', 'Q4_K_S', 'Q4_K_M', 'Q5_K_S', 'Q5_K_M',
  'Q6_K', 'Q8_0', 'F16', 'BF16', 'F32', ...Object.keys(FTYPE_ALIASES),
]);

export function parseFtype(text: string): LlamaFtype {
  const key = text.trim().toUpperCase();
  const name = Object.hasOwn(FTYPE_ALIASES, key) ? FTYPE_ALIASES[key] : key;
  if (name !== undefined && Object.hasOwn(LLAMA_FTYPES, name)) return LLAMA_FTYPES[name as LlamaFtypeName];
  throw new UsageError('QUANT_UNKNOWN_TYPE', `Unknown quantization type "${text}".`, {
    hint: `Use one of: ${FTYPE_NAMES.join(', ')} (case does not matter).`,
    details: { given: text, valid: FTYPE_NAMES },
  });
}

export function ftypeById(id: number): LlamaFtype | undefined {
  return Object.values(LLAMA_FTYPES).find((f) => f.id === id);
}
