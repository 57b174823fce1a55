/**
 * llama-dist as a library: every operation the `llama` commands run, importable by programs.
 * Commands in commands/ only parse flags, call these, and render what they return.
 */
export * from './errors.ts';
export { redactSecrets, registerSecret } from './redact.ts';
export type { ProgressEvent, ProgressSink, ProgressUnit } from './progress/events.ts';
export { createRenderer, chooseProgressMode, type ProgressMode } from './progress/render.ts';
export { loadConfig, validateConfig, SEARCH_PLACES, type LoadedConfig, type LoadConfigOptions } from './config/load.ts';
export { describeConfig, type ConfigReport } from './config/show.ts';
export type { LlamaConfig, DerivativeConfig, LicenseeConfig, Waiver } from './config/schema.ts';
export { writeFileAtomic, withAtomicPath } from './fs/atomic.ts';

// Hub access and `llama pull` / `llama verify`
export { pull, type PullOptions, type PullResult, type PulledFile } from './transfer/pull.ts';
export { verify, type VerifyOptions, type VerifyReport, type VerifiedFile } from './integrity/verify.ts';
export {
  readLockfile,
  writeLockfile,
  parseLockfile,
  serializeLockfile,
  DEFAULT_LOCKFILE,
  type Lockfile,
  type LockedRepo,
  type LockedFile,
} from './integrity/lockfile.ts';
export { hashFile, StreamingHasher } from './integrity/hash.ts';
export { resolveEndpoint, resolveCacheDir } from './hub/config.ts';
export { resolveToken } from './hub/token.ts';
export { HubClient, connectHub, type ConnectHubOptions } from './hub/client.ts';

// `llama quantize`: formats, conversion, the bit-exact quantizers
export { quantize, type QuantizeOptions, type QuantizeResult, type QuantizeAdapter } from './quantize/quantize.ts';
export { resolveQuantizeOptions, type QuantizeFlags } from './quantize/options.ts';
export { readGguf, GgufWriter, GgufTensorReader, type GgufFile, type GgufKv, type GgufTensorInfo } from './formats/gguf.ts';
export { readSafetensorsHeader, type SafetensorsHeader, type SafetensorsTensor } from './formats/safetensors.ts';
export { parseFtype, FTYPE_NAMES, GGML_TYPES, LLAMA_FTYPES, rowSizeBytes, type GgmlTypeName, type LlamaFtype } from './quant/types.ts';
export { quantizeRows, dequantizeRows, convertInto, findInvalidBlock } from './quant/kernels.ts';
export { chooseTensorType, tensorAllowsQuantization, type ModelFacts, type TensorTypeChoice } from './quant/choose.ts';
export { QuantPool } from './quant/pool.ts';

// The license engine: `llama license check|notice|identify`
export * from './license/index.ts';

// `llama package`
export {
  packageDerivative,
  DEFAULT_OUT_DIR,
  DEFAULT_EPOCH_SECONDS,
  TarSink,
  DirectorySink,
  stageInputs,
  chooseVersion,
  buildBom,
  buildManifest,
  type PackageOptions,
  type PackageResult,
  type PackageFormat,
  type PackageManifest,
  type LicensePlan,
} from './package/index.ts';

// The GPU quantization kernels (WGSL through Dawn), byte-identical to the CPU path
export { createGpuQuantizer, GPU_TYPES, type GpuQuantizer, type GpuQuantizerOptions, type GpuSource, type GpuLimits } from './quant/gpu/runner.ts';
export { openGpu, probeGpu, isSoftwareAdapter, vulkanDiagnosis, missingGpuError, type GpuAdapterInfo } from './quant/gpu/device.ts';
export { selectQuantDevice, QUANT_DEVICE_MODES, type QuantDeviceMode, type QuantDevice, type QuantDeviceChoice } from './quant/gpu/select.ts';

// Delivery: publishing (Hub, OCI registries) and OpenSSF model signatures.
export * from './publish/index.ts';
export { signModel, signPackageDirectory, SIGNATURE_FILE, type SignOptions, type SignResult } from './sign/sign.ts';
export { verifyModelSignature, type VerifySignatureOptions, type SignatureVerifyReport } from './sign/verify.ts';
