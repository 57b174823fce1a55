/**
 * The bridge from the license engine (src/license/) to packaging: the lineage, the findings of `llama license check`
 * with the configured waivers, the verbatim texts and the NOTICE text, turned into a LicensePlan.
 */
import { basename, resolve, sep } from 'node:path';
import type { LlamaConfig } from '../config/schema.ts';
import { getLicense, type LicenseEntry } from '../license/catalog.ts';
import type { Finding } from '../license/checks.ts';
import { hubAccess } from '../license/hub-access.ts';
import type { Lineage, LineageNode } from '../license/lineage.ts';
import { lineageLicenses, renderNotice } from '../license/notice.ts';
import { runLicenseCheck } from '../license/run.ts';
import { readLicenseTexts } from '../license/texts.ts';
import type { LicensePlan, LicensingContext, PackageAncestor, PackageFinding, PackageLicense } from './types.ts';

/** A catalog entry as packaging needs it, with its verbatim texts (checked against their recorded sha256). */
async function packageLicense(entry: LicenseEntry): Promise<PackageLicense> {
  const license: PackageLicense = { id: entry.id, name: entry.name, licenseRef: entry.spdx };
  const hubId = entry.hfIds[0];
  if (hubId) license.hubId = hubId;
  for (const text of await readLicenseTexts(entry)) {
    if (text.role === 'license') license.licenseText = text.bytes;
    else license.usePolicyText = text.bytes;
  }
  if (entry.notice) license.noticeSentence = entry.notice.sentence;
  const builtWith = entry.builtWith?.phrases[0];
  if (builtWith) license.builtWith = builtWith;
  if (entry.naming) license.namePrefix = entry.naming.prefix;
  return license;
}

/** Catalog ids to package licenses, in the order given; an unknown id is a bug in the caller. */
export async function packageLicenses(ids: readonly string[]): Promise<PackageLicense[]> {
  const out: PackageLicense[] = [];
  for (const id of ids) {
    const entry = getLicense(id);
    if (!entry) throw new Error(`unknown license id ${id}`);
    out.push(await packageLicense(entry));
  }
  return out;
}

/**
 * The lineage as a flat list for the manifest, card and BOM. Local checkpoints are named by their directory name,
 * never their absolute path, so the package does not depend on where the inputs lay.
 */
function lineageAncestors(lineage: Lineage): PackageAncestor[] {
  const out: PackageAncestor[] = [];
  const seen = new Set<string>();
  const visit = (node: LineageNode, depth: number) => {
    const onHub = node.kind !== 'local';
    const id = onHub ? node.location : basename(node.location);
    const revision = node.kind === 'cache' ? node.commit : undefined;
    const key = `${id}\0${depth}\0${node.edge}`;
    if (!seen.has(key)) {
      seen.add(key);
      const ancestor: PackageAncestor = { id, onHub, depth, role: node.edge === 'outputs' ? 'outputs' : 'base' };
      if (revision) ancestor.revision = revision;
      if (node.license !== null) ancestor.licenseId = node.license;
      out.push(ancestor);
    }
    for (const parent of node.parents) visit(parent, depth + 1);
  };
  for (const root of lineage.roots) visit(root, 1);
  return out;
}

/**
 * A finding in the package's terms. `relativeTo` (the configuration's directory) is cut from paths in the texts, so
 * a waived finding about a local checkpoint does not put this machine's directory layout into the manifest.
 */
function packageFinding(finding: Finding, relativeTo?: string): PackageFinding {
  const local = (text: string) => (relativeTo === undefined ? text : text.split(`${relativeTo}${sep}`).join(''));
  const out: PackageFinding = { id: finding.id, key: local(finding.key), severity: finding.severity, message: local(finding.message), hint: local(finding.fix) };
  if (finding.license !== null) out.license = finding.license;
  if (finding.section !== null) out.section = finding.citation;
  if (finding.subject !== undefined) out.subject = local(finding.subject);
  if (finding.waived) out.waived = { reason: finding.waived.reason };
  return out;
}

/**
 * What `llama license check` does, for the name and version being packaged: resolve the lineage (offline from local
 * checkpoints and the Hugging Face cache, online through the hub's cards unless HF_HUB_OFFLINE or --offline, with
 * the hub access of `license check`, so an unreachable hub or a refused token ends the same way), run
 * every check with the configured waivers, and gather the verbatim texts and the NOTICE.
 */
export async function engineLicensing(context: LicensingContext): Promise<LicensePlan> {
  const env = context.env ?? process.env;
  const loaded = context.loaded;
  const derivative = loaded.config.derivative ?? { baseModels: [], trainedOnOutputsOf: [], distribution: 'weights' as const };
  // The checks judge the name and version actually being packaged (--name / --version / --bump win over the file).
  const config: LlamaConfig = { ...loaded.config, derivative: { ...derivative, name: context.name, version: context.version } };
  // The same hub access as `llama license check`: one client, its retries, token handling and typed errors.
  const access = await hubAccess({
    offline: context.offline ?? false,
    endpoint: context.endpoint ?? config.pull?.endpoint,
    token: context.token,
    // pull.cacheDir is relative to the configuration file, like every path in it.
    'cache-dir': context.cacheDir ?? (config.pull?.cacheDir !== undefined ? resolve(loaded.baseDir, config.pull.cacheDir) : undefined),
  }, context.onProgress, { env, ...(context.signal !== undefined ? { signal: context.signal } : {}) });
  const { lineage, report } = await runLicenseCheck({
    config,
    baseDir: loaded.baseDir,
    ...(context.derivativeDir !== undefined ? { dir: context.derivativeDir } : {}),
    offline: access.offline,
    ...(access.hub !== undefined ? { hub: access.hub } : {}),
    cacheDir: resolve(loaded.baseDir, access.cacheDir),
    onProgress: context.onProgress,
  });
  const licenses: PackageLicense[] = [];
  for (const { entry } of lineageLicenses(lineage)) licenses.push(await packageLicense(entry));
  const notice = renderNotice(lineage, {
    distribution: derivative.distribution,
    ...(derivative.attribution !== undefined ? { attribution: derivative.attribution } : {}),
  });
  return {
    licenses,
    ancestors: lineageAncestors(lineage),
    findings: report.findings.map((f) => packageFinding(f, loaded.baseDir)),
    notice,
    // The engine's summary, without the lineage tree (it holds absolute paths of local checkpoints).
    lineage: { licenses: report.licenses, obligations: report.obligations },
  };
}
