/**
 * The lineage resolver: from a derivative's direct bases (and the models whose outputs trained it) up through every
 * `base_model`, determining each ancestor's license from its model card, from the LICENSE / USE_POLICY files in the
 * checkpoint (identified by normalised text), or from the hub's cardData.
 *
 * Entries are local checkpoint directories (absolute or relative to `baseDir`) or hub repo ids. Offline, a repo id is
 * looked up in the Hugging Face cache layout (models--org--name/snapshots/<commit>/, the same one `llama pull`
 * writes); online, through a ModelCardSource (hubCardSource in hub-cards.ts wraps @huggingface/hub). Nothing here decides
 * compliance: checks.ts reads the tree.
 */
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { isLlamaError, UsageError } from '../errors.ts';
import { cachedSnapshot } from '../hub/cache.ts';
import { isRepoId } from '../hub/ids.ts';
import type { ProgressSink } from '../progress/events.ts';
import { getLicense, licenseFromHfMetadata, type LicenseEntry, type Via } from './catalog.ts';
import { cardSaysMultimodal, configSaysMultimodal, parseModelCard, type CardMetadata } from './card.ts';
import { identifyText, type Identification } from './identify.ts';

/** A LICENSE / USE_POLICY file found in a checkpoint and what it was identified as. */
export interface TextCheck {
  file: string;
  identification: Identification;
  /** The license the node is under (what the file should be), or null when undetermined. */
  expected: string | null;
  /** `ok`; `tampered`: near the expected text but not equal; `other-license`: another catalog text; `unrecognised`. */
  status: 'ok' | 'tampered' | 'other-license' | 'unrecognised';
}

export interface LicenseEvidence {
  source: 'card' | 'license-file' | 'hub-card' | 'config';
  detail: string;
}

/** Why an ancestor's license could not be determined, or what went wrong reaching it. */
export interface LineageProblem {
  kind:
    | 'directory-missing'
    | 'offline-not-cached'
    | 'no-hub-access'
    | 'hub-unreadable'
    | 'repo-missing'
    | 'unknown-license-name'
    | 'no-license-evidence'
    | 'loop'
    | 'too-deep';
  message: string;
}

export interface LineageNode {
  /** As written in the config or the card (repo id or path). */
  ref: string;
  kind: 'local' | 'hub' | 'cache';
  /** Absolute directory, or the repo id. */
  location: string;
  /** The commit the node was read at: the snapshot folder of a cached checkpoint, or the hub's revision. */
  commit?: string;
  /** How the derivative reached this ancestor: through its weights, or only through its outputs. */
  via: Via;
  /** The edge to the child: a base model, or a model whose outputs were used. */
  edge: 'base' | 'outputs';
  license: string | null;
  /** What the card declared, verbatim, for the report. */
  declared: { license?: string; licenseName?: string; licenseLink?: string };
  evidence: LicenseEvidence[];
  texts: TextCheck[];
  multimodal: boolean | null;
  parents: LineageNode[];
  /** Why the license could not be determined, or what went wrong reaching the ancestor. */
  problems: LineageProblem[];
}

export interface Lineage {
  /** The derivative's own checkpoint directory, when checked (its LICENSE files are checked against the lineage). */
  derivative: {
    dir: string;
    card: CardMetadata | undefined;
    texts: Array<{ file: string; identification: Identification }>;
    /** The checkpoint's NOTICE file, when it has one. */
    notice: { file: string; text: string } | null;
  } | null;
  roots: LineageNode[];
}

/** Hub access for lineage, kept small so tests and other hubs can provide it. */
export interface ModelCardSource {
  /** The card metadata of a hub repo (cardData, or README front matter); undefined when the repo does not exist. */
  fetchCard(repo: string): Promise<RemoteCard | undefined>;
  /** The text of one file of the repo, undefined when absent. */
  fetchText(repo: string, path: string): Promise<string | undefined>;
}

export interface RemoteCard {
  card: CardMetadata;
  multimodal?: boolean;
  /** The commit the card was read at, when the source knows it. */
  commit?: string;
}

export interface ResolveLineageOptions {
  baseModels: readonly string[];
  trainedOnOutputsOf?: readonly string[];
  /** Where relative paths are resolved (the config file's directory). */
  baseDir: string;
  /** The derivative's own checkpoint directory (its card's base_model is used when baseModels is empty). */
  derivativeDir?: string;
  /** No network: repo ids come from the Hugging Face cache only. */
  offline?: boolean;
  hub?: ModelCardSource;
  /** The Hugging Face cache (models--org--name/…) to look repo ids up in. */
  cacheDir?: string;
  maxDepth?: number;
  onProgress?: ProgressSink;
}

const LICENSE_NAME = /^(?:licen[cs]e|use_policy)(?:[-_](.+?))?(?:\.(?:txt|md))?$/i;

/**
 * LICENSE, LICENSE.txt, LICENSE-MODEL, LICENSE_AGREEMENT, USE_POLICY.md, and the per-license copies a package with
 * several licenses holds (LICENSE-<id>.txt, USE_POLICY-<id>.md, as src/package/emit.ts names them). A suffix that is
 * no catalog id (license_plate.onnx) is not a license text.
 */
function isLicenseFileName(name: string): boolean {
  const match = LICENSE_NAME.exec(name);
  if (!match) return false;
  const tag = match[1];
  return tag === undefined || /^(model|agreement)$/i.test(tag) || getLicense(tag.toLowerCase()) !== undefined;
}
const NOTICE_FILE = /^notice(\.(txt|md))?$/i;
const DEFAULT_DEPTH = 12;

export async function resolveLineage(options: ResolveLineageOptions): Promise<Lineage> {
  const ctx: Ctx = { options, maxDepth: options.maxDepth ?? DEFAULT_DEPTH };
  let derivative: Lineage['derivative'] = null;
  let bases = [...options.baseModels];
  if (options.derivativeDir !== undefined) {
    const dir = resolve(options.baseDir, options.derivativeDir);
    if (!isDirectory(dir)) {
      throw new UsageError('LINEAGE_DIR_NOT_FOUND', `The checkpoint directory ${dir} does not exist.`, {
        hint: 'Pass the directory of the derivative checkpoint, or leave the argument out to check the configuration only.',
        details: { dir },
      });
    }
    const card = await readCard(dir);
    const texts = [];
    for (const file of await licenseFiles(dir)) texts.push({ file, identification: await identifyText(await readFile(file, 'utf8')) });
    const noticeName = (await readdir(dir)).filter((n) => NOTICE_FILE.test(n)).sort()[0];
    const notice = noticeName === undefined ? null : { file: join(dir, noticeName), text: await readFile(join(dir, noticeName), 'utf8') };
    derivative = { dir, card, texts, notice };
    if (bases.length === 0 && card) bases = card.baseModels;
  }
  const roots: LineageNode[] = [];
  for (const ref of bases) roots.push(await resolveNode(ctx, ref, options.baseDir, 'materials', 'base', 0, new Set()));
  for (const ref of options.trainedOnOutputsOf ?? []) roots.push(await resolveNode(ctx, ref, options.baseDir, 'outputs', 'outputs', 0, new Set()));
  return { derivative, roots };
}

interface Ctx {
  options: ResolveLineageOptions;
  maxDepth: number;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

async function readCard(dir: string): Promise<CardMetadata | undefined> {
  const path = join(dir, 'README.md');
  if (!existsSync(path)) return undefined;
  return parseModelCard(await readFile(path, 'utf8'));
}

async function readConfigMultimodal(dir: string): Promise<boolean | undefined> {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return undefined;
  try {
    return configSaysMultimodal(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    return undefined;
  }
}

async function licenseFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter(isLicenseFileName).sort();
  return names.map((n) => join(dir, n)).filter((p) => statSync(p).isFile());
}

function newNode(ref: string, kind: LineageNode['kind'], location: string, via: Via, edge: LineageNode['edge']): LineageNode {
  return { ref, kind, location, via, edge, license: null, declared: {}, evidence: [], texts: [], multimodal: null, parents: [], problems: [] };
}

function addProblem(node: LineageNode, kind: LineageProblem['kind'], message: string): void {
  node.problems.push({ kind, message });
}

async function resolveNode(ctx: Ctx, ref: string, baseDir: string, via: Via, edge: LineageNode['edge'], depth: number, seen: Set<string>): Promise<LineageNode> {
  const localPath = resolve(baseDir, ref);
  // A repo id that also exists as a directory here is taken as the local checkpoint.
  const looksLocal = isAbsolute(ref) || ref.startsWith('./') || ref.startsWith('../') || !(ref.includes('/') && isRepoId(ref)) || isDirectory(localPath);
  let node: LineageNode;
  let card: CardMetadata | undefined;
  if (looksLocal) {
    node = newNode(ref, 'local', localPath, via, edge);
    if (!isDirectory(localPath)) {
      addProblem(node, 'directory-missing', `the directory ${localPath} does not exist`);
      return node;
    }
    card = await describeLocal(node, localPath);
  } else {
    const cached = ctx.options.cacheDir === undefined ? undefined : cachedSnapshot(ctx.options.cacheDir, ref);
    if (cached !== undefined) {
      node = newNode(ref, 'cache', ref, via, edge);
      node.commit = cached.commit;
      card = await describeLocal(node, cached.dir);
    } else if (ctx.options.offline || ctx.options.hub === undefined) {
      node = newNode(ref, 'hub', ref, via, edge);
      if (ctx.options.offline) addProblem(node, 'offline-not-cached', 'offline, and the repo is not in the local Hugging Face cache');
      else addProblem(node, 'no-hub-access', 'no hub access was configured');
      return node;
    } else {
      node = newNode(ref, 'hub', ref, via, edge);
      ctx.options.onProgress?.({ type: 'message', level: 'info', text: `lineage: reading the card of ${ref}` });
      card = await describeRemote(node, ref, ctx.options.hub);
    }
  }
  const key = `${node.kind === 'local' ? node.location : ref.toLowerCase()}`;
  if (seen.has(key)) {
    addProblem(node, 'loop', 'the base_model chain loops back to this model; not followed again');
    return node;
  }
  const parents = card?.baseModels ?? [];
  if (parents.length > 0 && depth + 1 >= ctx.maxDepth) {
    addProblem(node, 'too-deep', `the base_model chain is deeper than ${ctx.maxDepth} levels; not followed further`);
    return node;
  }
  const nextSeen = new Set(seen).add(key);
  const parentBase = node.kind === 'local' ? node.location : baseDir;
  for (const parent of parents) {
    // A card's base_model names a hub repo; a relative path in it is relative to that checkpoint.
    node.parents.push(await resolveNode(ctx, parent, parentBase, via, 'base', depth + 1, nextSeen));
  }
  return node;
}

function applyCard(node: LineageNode, card: CardMetadata | undefined, source: 'card' | 'hub-card'): LicenseEntry | undefined {
  if (!card) return undefined;
  if (card.license !== undefined) node.declared.license = card.license;
  if (card.licenseName !== undefined) node.declared.licenseName = card.licenseName;
  if (card.licenseLink !== undefined) node.declared.licenseLink = card.licenseLink;
  const entry = licenseFromHfMetadata(card.license, card.licenseName);
  if (entry) {
    node.license = entry.id;
    node.evidence.push({ source, detail: `model card: license: ${card.license ?? ''}${card.licenseName ? `, license_name: ${card.licenseName}` : ''}` });
  } else if (card.license !== undefined || card.licenseName !== undefined) {
    addProblem(node, 'unknown-license-name', `the card names a license the catalog does not know (license: ${card.license ?? '—'}${card.licenseName ? `, license_name: ${card.licenseName}` : ''})`);
  }
  return entry;
}

function judgeText(node: LineageNode, file: string, identification: Identification): TextCheck {
  const expected = node.license;
  let status: TextCheck['status'];
  if (identification.license === null) status = 'unrecognised';
  else if (expected !== null && identification.license !== expected) status = 'other-license';
  else if (identification.match === 'similar') status = 'tampered';
  else status = 'ok';
  return { file, identification, expected, status };
}

/** Reads a checkpoint directory into the node; returns its card (whose base_model names the parents). */
async function describeLocal(node: LineageNode, dir: string): Promise<CardMetadata | undefined> {
  const card = await readCard(dir);
  applyCard(node, card, 'card');
  const identified: Array<{ file: string; identification: Identification }> = [];
  for (const file of await licenseFiles(dir)) identified.push({ file, identification: await identifyText(await readFile(file, 'utf8')) });
  // The LICENSE file decides only when the card names no license or `other`/`unknown`; a card that names a license
  // outside the catalog keeps the ancestor undetermined (the claim cannot be judged), whatever file lies beside it.
  const cardClaims = card?.license !== undefined && !['other', 'unknown'].includes(card.license.toLowerCase());
  if (node.license === null && !cardClaims) {
    const decisive = identified.find((t) => t.identification.role === 'license' && t.identification.license !== null && t.identification.match !== 'similar')
      ?? identified.find((t) => t.identification.role === 'license' && t.identification.license !== null);
    if (decisive) {
      node.license = decisive.identification.license;
      node.problems = node.problems.filter((p) => p.kind !== 'unknown-license-name');
      node.evidence.push({ source: 'license-file', detail: `${decisive.file} is the ${decisive.identification.licenseName} (${decisive.identification.match}, similarity ${decisive.identification.similarity.toFixed(3)})` });
    }
  }
  node.texts = identified.map((t) => judgeText(node, t.file, t.identification));
  if (node.license === null && node.problems.length === 0) {
    addProblem(node, 'no-license-evidence', card ? 'the model card has no license metadata and no LICENSE file in the checkpoint matches a catalog text' : 'no model card (README.md) and no LICENSE file matching a catalog text');
  }
  const fromConfig = await readConfigMultimodal(dir);
  const fromCard = cardSaysMultimodal(card);
  node.multimodal = fromConfig ?? fromCard ?? null;
  return card;
}

/** Reads a hub repo's card (and LICENSE, for `license: other`) into the node; returns the card. */
async function describeRemote(node: LineageNode, repo: string, hub: ModelCardSource): Promise<CardMetadata | undefined> {
  let remote: RemoteCard | undefined;
  try {
    remote = await hub.fetchCard(repo);
  } catch (error) {
    // An unreachable hub (exit 6) or a token the hub refuses (exit 5) is the run's failure, the same in every
    // command, not a finding about this ancestor.
    if (isLlamaError(error) && (error.exitClass === 'network' || error.code === 'HUB_INVALID_TOKEN')) throw error;
    addProblem(node, 'hub-unreadable', `the hub could not be read: ${isLlamaError(error) ? error.message : (error as Error).message}`);
    return undefined;
  }
  if (!remote) {
    addProblem(node, 'repo-missing', 'the repo does not exist on the hub');
    return undefined;
  }
  if (remote.commit !== undefined) node.commit = remote.commit;
  applyCard(node, remote.card, 'hub-card');
  // `license: other` with a LICENSE link inside the repo: identify that file's text.
  const link = remote.card.licenseLink;
  const candidates = node.license === null ? [link && !/^https?:/i.test(link) ? link : undefined, 'LICENSE', 'LICENSE.txt', 'LICENSE.md'].filter((p): p is string => p !== undefined) : [];
  for (const path of candidates) {
    const text = await hub.fetchText(repo, path).catch(() => undefined);
    if (text === undefined) continue;
    const identification = await identifyText(text);
    if (identification.license !== null) {
      node.license = identification.license;
      node.evidence.push({ source: 'license-file', detail: `${repo}/${path} is the ${identification.licenseName} (${identification.match})` });
    }
    node.texts.push(judgeText(node, `${repo}/${path}`, identification));
    break;
  }
  if (node.license !== null) node.problems = node.problems.filter((p) => p.kind !== 'unknown-license-name');
  if (node.license === null && node.problems.length === 0) addProblem(node, 'no-license-evidence', 'the hub card has no license metadata and no LICENSE file matching a catalog text');
  node.multimodal = remote.multimodal ?? cardSaysMultimodal(remote.card) ?? null;
  return remote.card;
}

/** Every node of the tree, depth first, in lineage order (bases in config order, then their bases). */
export function walkLineage(lineage: Lineage): LineageNode[] {
  const out: LineageNode[] = [];
  const visit = (node: LineageNode) => {
    out.push(node);
    for (const parent of node.parents) visit(parent);
  };
  for (const root of lineage.roots) visit(root);
  return out;
}
