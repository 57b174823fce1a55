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
export { writeFileAtomic, withAtomicPath, createAtomicWriteStream } from './fs/atomic.ts';
