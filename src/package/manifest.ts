/**
 * manifest.json, the package's own record. Format, version 1 (JSON, two-space indent, keys in the order built
 * here, trailing newline):
 *
 * ```json
 * {
 *   "manifestVersion": 1,
 *   "name": "Llama-3.2-1B-Acme-Q4_K_M", "version": "1.2.0", "relation": "quantized",
 *   "tool": { "name": "llama-dist", "version": "0.1.0" },
 *   "sourceDateEpoch": 499162500,
 *   "files": [ { "path": "model.gguf", "size": 123, "sha256": "<64 hex>", "mode": "0644", "role": "weights" } ],
 *   "licenses": [ { "id": "llama3.2", "name": "…", "url": "…", "files": ["LICENSE", "USE_POLICY.md"] } ],
 *   "lineage": { "ancestors": [ … ], "engine": <the license engine's lineage record> },
 *   "findings": [ { "id": "built-with", "severity": "advisory", "message": "…", "waived": { "reason": "…" } } ],
 *   "waivers": [ { "finding": "built-with", "reason": "…", "applied": true } ]
 * }
 * ```
 *
 * `files` lists every file in the package except manifest.json itself (it cannot hold its own digest), sorted by
 * path; digests were computed while the bytes were archived. No timestamps, host names, absolute paths or tokens,
 * so identical inputs give an identical manifest.
 */
import type { Waiver } from '../config/schema.ts';
import type { EntryDigest } from './archive.ts';
import { isWeightFile } from './bom.ts';
import type { EmittedFile } from './emit.ts';
import { BOM, licenseFileNames, NOTICE, README } from './emit.ts';
import { compareBytes } from './stage.ts';
import type { LicensePlan, Relation } from './types.ts';

const MANIFEST_VERSION = 1;

export type FileRole = 'weights' | 'license' | 'use-policy' | 'notice' | 'card' | 'bom' | 'file';

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
  mode: string;
  role: FileRole;
}

export interface PackageManifest {
  manifestVersion: number;
  name: string;
  version: string;
  relation?: Relation;
  tool: { name: string; version: string };
  sourceDateEpoch: number;
  files: ManifestFile[];
  licenses: { id: string; name: string; url?: string; files: string[] }[];
  lineage: { ancestors: LicensePlan['ancestors']; engine?: unknown };
  findings: LicensePlan['findings'];
  waivers: (Waiver & { applied: boolean })[];
}

export interface ManifestInput {
  name: string;
  version: string;
  relation?: Relation;
  toolVersion: string;
  epochSeconds: number;
  plan: LicensePlan;
  waivers: readonly Waiver[];
  digests: readonly EntryDigest[];
  emitted: readonly EmittedFile[];
}

function roleOf(path: string, emitted: ReadonlyMap<string, EmittedFile>): FileRole {
  const generated = emitted.get(path);
  if (generated) return generated.role;
  if (path === BOM) return 'bom';
  if (path === README) return 'card';
  if (path === NOTICE) return 'notice';
  return isWeightFile(path) ? 'weights' : 'file';
}

export function buildManifest(input: ManifestInput): PackageManifest {
  const emitted = new Map(input.emitted.map((e) => [e.path, e] as const));
  const names = licenseFileNames(input.plan.licenses);
  const files = [...input.digests]
    .sort((a, b) => compareBytes(a.path, b.path))
    .map((d) => ({ path: d.path, size: d.size, sha256: d.sha256, mode: `0${d.mode.toString(8)}`, role: roleOf(d.path, emitted) }));
  const waived = new Set(input.plan.findings.filter((f) => f.waived).map((f) => f.id));
  const manifest: PackageManifest = {
    manifestVersion: MANIFEST_VERSION,
    name: input.name,
    version: input.version,
    ...(input.relation ? { relation: input.relation } : {}),
    tool: { name: 'llama-dist', version: input.toolVersion },
    sourceDateEpoch: input.epochSeconds,
    files,
    licenses: input.plan.licenses.map((l) => {
      const own = names.get(l.id);
      return {
        id: l.id,
        name: l.name,
        ...(l.url ? { url: l.url } : {}),
        files: [own?.license, own?.usePolicy].filter((f): f is string => Boolean(f)),
      };
    }),
    lineage: { ancestors: input.plan.ancestors, ...(input.plan.lineage === undefined ? {} : { engine: input.plan.lineage }) },
    findings: input.plan.findings,
    waivers: input.waivers.map((w) => ({ finding: w.finding, reason: w.reason, applied: waived.has(w.finding) })),
  };
  return manifest;
}

export function serializeManifest(manifest: PackageManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
