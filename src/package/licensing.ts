/**
 * The bridge from the license engine (src/license/) to packaging: the lineage, the findings of `llama license check`
 * with the configured waivers, the verbatim texts and the NOTICE text, turned into a LicensePlan.
 */
import { basename } from 'node:path';
import { getLicense, type LicenseEntry } from '../license/catalog.ts';
import { walkLineage, type Lineage, type LineageNode } from '../license/lineage.ts';
import { readLicenseTexts } from '../license/texts.ts';
import type { LicensingContext } from './package.ts';
import type { LicensePlan, PackageAncestor, PackageLicense } from './types.ts';

/** A catalog entry as packaging needs it, with its verbatim texts (checked against their recorded sha256). */
export async function packageLicense(entry: LicenseEntry): Promise<PackageLicense> {
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
export function lineageAncestors(lineage: Lineage): PackageAncestor[] {
  const out: PackageAncestor[] = [];
  const seen = new Set<string>();
  const visit = (node: LineageNode, depth: number) => {
    const onHub = node.kind !== 'local';
    const id = onHub ? node.location : basename(node.location);
    const revision = node.kind === 'cache' ? cacheRevision(node) : undefined;
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

/** A node found in the Hugging Face cache carries its commit in the snapshot path's evidence, when shown. */
function cacheRevision(node: LineageNode): string | undefined {
  for (const evidence of node.evidence) {
    const match = /snapshots\/([0-9a-f]{40})/.exec(evidence.detail);
    if (match) return match[1];
  }
  return undefined;
}

/** License ids in lineage order (each once). */
export function lineageLicenseIds(lineage: Lineage): string[] {
  const ids: string[] = [];
  for (const node of walkLineage(lineage)) {
    if (node.license !== null && !ids.includes(node.license)) ids.push(node.license);
  }
  return ids;
}

export async function engineLicensing(_context: LicensingContext): Promise<LicensePlan> {
  throw new Error('license engine checks are not wired yet');
}
