/**
 * The license engine: catalog, lineage, clause-cited checks, NOTICE, identification, report renderers.
 *
 * Typical use (what `llama license check` and `llama package` do):
 *
 *   const { config, baseDir } = await loadConfig();
 *   const { offline, hub, cacheDir } = await hubAccess({ offline, endpoint, token }, onProgress);  // HubClient-backed
 *   const lineage = await resolveLineage({ baseModels: config.derivative?.baseModels ?? [],
 *     trainedOnOutputsOf: config.derivative?.trainedOnOutputsOf, baseDir, derivativeDir, offline,
 *     hub, cacheDir });           // or hub: hubCardSource(connectHub({ endpoint, token })) directly
 *   const report = checkDerivative(config, lineage, { docs: await readDocs(config.docs, baseDir) });
 *   report.blocking            // true → exit 3 (ComplianceError('LICENSE_BLOCKING', …) or set the exit code)
 *   renderReport(report, 'text' | 'json' | 'sarif')
 *   renderNotice(lineage, { attribution })           // NOTICE file text
 *   for (const { entry } of lineageLicenses(lineage)) await readLicenseTexts(entry)  // verbatim LICENSE / USE_POLICY
 *   await identifyText(text) / identifyFile(path)     // which catalog license a text is
 *
 * Catalog data: CATALOG, getLicense(id), licenseFromHfMetadata(license, license_name), AUP_CATEGORIES.
 * Nothing here prints; hub reads report through `onProgress`.
 */
export {
  AUP_CATEGORIES,
  CATALOG,
  getLicense,
  licenseFromHfMetadata,
  type AupItem,
  type LicenseEntry,
  type LicenseFamily,
  type LicenseTextFile,
  type Via,
} from './catalog.ts';
export { fingerprint, normalizedWords, sha256Hex, similarity } from './normalize.ts';
export { identificationLines, identifyFile, identifyText, MAX_TEXT_BYTES, type Identification } from './identify.ts';
export { assertEmittable, hasEmittableText, readLicenseTexts, templatesRoot, type VerbatimText } from './texts.ts';
export { cardMetadataFromObject, parseModelCard, type CardMetadata } from './card.ts';
export { hubCardSource } from './hub-cards.ts';
export {
  resolveLineage,
  walkLineage,
  type Lineage,
  type LineageNode,
  type ModelCardSource,
  type RemoteCard,
  type ResolveLineageOptions,
  type TextCheck,
} from './lineage.ts';
export { lineageLicenses, noticeLines, renderNotice, type NoticeLine, type NoticeOptions } from './notice.ts';
export { checkDerivative, FINDING_IDS, type CheckOptions, type Finding, type FindingId, type LicenseReport, type LicenseSummary, type Severity } from './checks.ts';
export { findingRulesMarkdown, RULES } from './rules/index.ts';
export type { Rule } from './rules/rule.ts';
export { nameHasPrefix } from './rules/naming-prefix.ts';
export { previousMonth } from './rules/users.ts';
export { obligationsOf, type Obligation } from './obligations.ts';
export { renderJson, renderReport, renderSarif, renderText, toSarif, type ReportFormat, type SarifOptions } from './report.ts';
export {
  checkLicenses,
  licenseNotice,
  readDocs,
  runLicenseCheck,
  type CheckLicensesResult,
  type LicenseCheckOptions,
  type LicenseCheckResult,
  type LicenseCommandOptions,
  type LicenseNoticeResult,
} from './run.ts';
export { hubAccess, hubFlagValues, type HubAccess, type HubFlagValues } from './hub-access.ts';
