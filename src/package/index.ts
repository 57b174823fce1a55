/**
 * Packaging as a library: `packageDerivative` runs the whole `llama package` flow; the pieces are exported for
 * programs that build their own (a different sink, their own license data).
 */
export {
  packageDerivative,
  toolVersion,
  DEFAULT_OUT_DIR,
  type PackageOptions,
  type PackageResult,
  type PackageFormat,
} from './package.ts';
export { engineLicensing, packageLicenses } from './licensing.ts';
export { stageInputs, parseInputArgument, compareBytes, type PackageInput, type StagedFile, type StagePlan, type StageOptions } from './stage.ts';
export { checkPackagePath, secretReason } from './safety.ts';
export { TokenScanner, type TokenMatch } from './token-scan.ts';
export { TarSink, DirectorySink, DEFAULT_EPOCH_SECONDS, type PackageSink, type EntryDigest, type SinkResult } from './archive.ts';
export { checkName, checkVersion, chooseVersion, packagedVersions, packageBase, sourceDateEpoch, type BumpKind, type VersionChoice } from './version.ts';
export { renderCard, cardMetadata, licenseFileNames, type CardMetadata as PackageCardMetadata } from './emit.ts';
export { buildBom } from './bom.ts';
export { buildManifest, type PackageManifest, type ManifestFile } from './manifest.ts';
export type { LicensePlan, PackageLicense, PackageAncestor, PackageFinding, Relation, Licensing, LicensingContext } from './types.ts';
