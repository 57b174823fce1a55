/**
 * bom.cdx.json: a CycloneDX 1.6 ML-BOM (schema: CycloneDX/specification schema/bom-1.6.schema.json; design from
 * ../shared/research/distribution.md §A2.1). The derivative is `metadata.component`, a `machine-learning-model`
 * with its hashes, its licenses and `pedigree.ancestors` for the lineage; every file of the package is a `file`
 * component with its SHA-256.
 *
 * Llama licenses are not on the SPDX list, so a license is `{name, url}` (an `id` would fail the schema's SPDX
 * enum), with its `LicenseRef-…` id as a property. The BOM is reproducible: its timestamp is the package epoch and
 * its serial number a name-based UUID (RFC 4122 version 5) of the package's name, version and file digests, so the
 * same package always gets the same BOM and a changed one a new serial number.
 */
import { isCommit } from '../hub/ids.ts';
import { createHash } from 'node:crypto';
import type { EntryDigest } from './archive.ts';
import type { LicensePlan, PackageAncestor, PackageLicense, Relation } from './types.ts';

const CYCLONEDX_SPEC_VERSION = '1.6';

/** RFC 4122 §4.3 name-based UUID with SHA-1 (version 5). */
function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** RFC 4122 Appendix C: the URL namespace. */
const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

const WEIGHT_EXTENSIONS = ['.gguf', '.safetensors', '.bin', '.pt', '.pth', '.onnx', '.ckpt'];

export function isWeightFile(path: string): boolean {
  const lower = path.toLowerCase();
  return WEIGHT_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

type Json = Record<string, unknown>;

function licenseChoice(license: PackageLicense): Json {
  const entry: Json = { name: license.name };
  if (license.url) entry.url = license.url;
  entry.acknowledgement = 'declared';
  if (license.licenseRef) entry.properties = [{ name: 'llama-dist:licenseRef', value: license.licenseRef }];
  return { license: entry };
}

function splitRepo(id: string): { group?: string; name: string } {
  const at = id.indexOf('/');
  return at > 0 ? { group: id.slice(0, at), name: id.slice(at + 1) } : { name: id };
}

function ancestorComponent(ancestor: PackageAncestor, licenses: ReadonlyMap<string, PackageLicense>): Json {
  const { group, name } = ancestor.onHub ? splitRepo(ancestor.id) : { group: undefined, name: ancestor.id };
  const component: Json = { type: 'machine-learning-model', 'bom-ref': `ancestor:${ancestor.id}${ancestor.revision ? `@${ancestor.revision}` : ''}` };
  if (group) component.group = group;
  component.name = name;
  if (ancestor.revision) component.version = ancestor.revision;
  // purl type huggingface: pkg:huggingface/<namespace>/<name>@<lower-case commit> (package-url/purl-spec).
  if (ancestor.onHub && ancestor.revision && isCommit(ancestor.revision)) {
    component.purl = `pkg:huggingface/${ancestor.id}@${ancestor.revision.toLowerCase()}`;
  }
  const license = ancestor.licenseId ? licenses.get(ancestor.licenseId) : undefined;
  if (license) component.licenses = [licenseChoice(license)];
  const properties = [
    { name: 'llama-dist:lineageDepth', value: String(ancestor.depth) },
    { name: 'llama-dist:contribution', value: ancestor.role === 'outputs' ? 'outputs used for training' : 'base model' },
  ];
  component.properties = properties;
  if (ancestor.onHub) component.externalReferences = [{ type: 'website', url: `https://huggingface.co/${ancestor.id}` }];
  return component;
}

export interface BomInput {
  name: string;
  version: string;
  relation?: Relation;
  toolVersion: string;
  epochSeconds: number;
  plan: LicensePlan;
  /** Every file of the package so far (everything but the BOM and the manifest), in package order. */
  files: readonly EntryDigest[];
}

export function buildBom(input: BomInput): Json {
  const { plan } = input;
  const licenses = new Map(plan.licenses.map((l) => [l.id, l] as const));
  const digestList = input.files.map((f) => `${f.path}\0${f.size}\0${f.sha256}`).join('\n');
  const serial = uuidV5(`llama-dist:package:${input.name}@${input.version}:${createHash('sha256').update(digestList).digest('hex')}`, URL_NAMESPACE);
  const { group, name } = splitRepo(input.name);
  const modelRef = `model:${input.name}@${input.version}`;

  const model: Json = { 'bom-ref': modelRef, type: 'machine-learning-model' };
  if (group) model.group = group;
  model.name = name;
  model.version = input.version;
  const bases = plan.ancestors.filter((a) => a.depth === 1 && a.role === 'base').map((a) => a.id);
  model.description = `${input.relation ? `${input.relation} derivative` : 'derivative'}${bases.length > 0 ? ` of ${bases.join(', ')}` : ''}`;
  const weights = input.files.filter((f) => isWeightFile(f.path));
  // One weight file is the model; several (shards, adapter + base) are described by the file components.
  if (weights.length === 1) model.hashes = [{ alg: 'SHA-256', content: weights[0]!.sha256 }];
  if (plan.licenses.length > 0) model.licenses = plan.licenses.map(licenseChoice);
  if (plan.ancestors.length > 0) {
    model.pedigree = {
      ancestors: plan.ancestors.map((a) => ancestorComponent(a, licenses)),
      ...(input.relation ? { notes: `Relation to the base models: ${input.relation}.` } : {}),
    };
  }
  model.modelCard = { modelParameters: { task: 'text-generation', ...(plan.licenses.some((l) => l.id.startsWith('llama')) ? { architectureFamily: 'llama' } : {}) } };
  const properties = [{ name: 'llama-dist:fileCount', value: String(input.files.length) }];
  if (input.relation) properties.unshift({ name: 'llama-dist:relation', value: input.relation });
  model.properties = properties;
  const urls = [...new Set(plan.licenses.map((l) => l.url).filter((u): u is string => Boolean(u)))];
  if (urls.length > 0) model.externalReferences = urls.map((url) => ({ type: 'license', url }));

  const components = input.files.map((file) => ({
    type: 'file',
    'bom-ref': `file:${file.path}`,
    name: file.path,
    hashes: [{ alg: 'SHA-256', content: file.sha256 }],
    properties: [{ name: 'llama-dist:size', value: String(file.size) }],
  }));

  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: CYCLONEDX_SPEC_VERSION,
    serialNumber: `urn:uuid:${serial}`,
    version: 1,
    metadata: {
      timestamp: new Date(input.epochSeconds * 1000).toISOString().replace(/\.000Z$/, 'Z'),
      tools: { components: [{ type: 'application', name: 'llama-dist', version: input.toolVersion }] },
      component: model,
    },
    components,
    dependencies: [{ ref: modelRef, dependsOn: components.map((c) => c['bom-ref']) }],
  };
}
