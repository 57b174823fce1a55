/**
 * Test support: the tiny-checkpoint generator and safetensors helpers (see generate.ts and safetensors.ts).
 * Used by tests, benchmarks and the demo; nothing here is part of the published library.
 */
export {
  generateCheckpoint,
  planTensors,
  assignShards,
  shardFileName,
  resolveShape,
  loadTokenizerFiles,
  buildConfig,
  buildGenerationConfig,
  buildCard,
  transformersJson,
  pythonFloatRepr,
  tamperText,
  TINY_SHAPE,
  LLAMA2_7B_SHAPE,
  MAX_KEPT_ELEMENTS,
  WEIGHT_DTYPE_BYTES,
  type CheckpointOptions,
  type CheckpointDescription,
  type GeneratedTensor,
  type WrittenFile,
  type ModelShape,
  type WeightDtype,
  type LicenseOptions,
  type CardOptions,
} from './generate.ts';
export {
  writeSafetensors,
  writeMalformedSafetensors,
  encodeValues,
  encodeSafetensorsHeader,
  encodeRawHeader,
  safetensorsOrder,
  MALFORMED_SAFETENSORS_KINDS,
  SAFETENSORS_DTYPE_BYTES,
  type SafetensorsTensorInput,
  type SafetensorsHeaderEntry,
  type WrittenSafetensors,
  type WriteSafetensorsOptions,
  type MalformedSafetensorsKind,
  type MalformedSafetensors,
} from './safetensors.ts';
export {
  f32Bits,
  f32FromBits,
  f32BitsToF16Bits,
  f16BitsToF32,
  f32BitsToBf16Bits,
  bf16BitsToF32,
  f32ToF16Bits,
  f32ToBf16Bits,
} from './float.ts';
export { weightStream, seedWords, type WeightStream } from './prng.ts';
export { LLAMA_VERSIONS, VERSION_FACTS, TORCH_DTYPE_NAMES, type LlamaVersion, type VersionFacts, type TokenizerPackage } from './versions.ts';
export { corruptCheckpoint, CHECKPOINT_CORRUPTIONS, type CheckpointCorruption, type CorruptionResult } from './corrupt.ts';
