/**
 * What packaging needs to know about licenses and lineage, in the package's own terms. `./licensing.ts` fills these
 * from the license engine (src/license/); the emitters (card, NOTICE, BOM, manifest) only read them, so they can
 * be tested with any license data.
 */
import type { LoadedConfig } from '../config/load.ts';
import type { ProgressSink } from '../progress/events.ts';

/** One license version that applies to the derivative (through at least one ancestor). */
export interface PackageLicense {
  /** Catalog id, e.g. `llama3.2`. */
  id: string;
  /** Full name, e.g. "Llama 3.2 Community License Agreement". */
  name: string;
  /** The Hugging Face `license:` id when the Hub has one (`llama3.2`); otherwise the card says `other`. */
  hubId?: string;
  /** SPDX-style `LicenseRef-…` id. */
  licenseRef?: string;
  /** Where the license is published. */
  url?: string;
  /** The verbatim license text (bytes as upstream ships them); absent when the tool has no byte-exact copy. */
  licenseText?: Uint8Array;
  /** The verbatim acceptable use policy, when the license has one. */
  usePolicyText?: Uint8Array;
  /** The exact NOTICE sentence the license requires, when it requires one. */
  noticeSentence?: string;
  /** The "Built with …" line the license requires to be displayed, when it requires one. */
  builtWith?: string;
  /** A prefix the distributed model's name must begin with (the engine checks it; the card mentions it). */
  namePrefix?: string;
}

/** One model in the lineage. */
export interface PackageAncestor {
  /** Hub repo id (`meta-llama/Llama-3.2-1B`) or, for a local checkpoint, its directory name. */
  id: string;
  /** Whether `id` is a Hub repo id (usable as `base_model` and in a purl). */
  onHub: boolean;
  /** Hub commit when known. */
  revision?: string;
  /** Catalog id of its license, when determined. */
  licenseId?: string;
  /** Direct base of the derivative (depth 1), or further up. */
  depth: number;
  /** How it contributed: a base model, or a model whose outputs were used. */
  role: 'base' | 'outputs';
}

export type FindingSeverity = 'blocking' | 'advisory';

export interface PackageFinding {
  /** Stable finding id (`naming-prefix`, `built-with`, …). */
  id: string;
  /** Unique within one run (the id plus license and subject when an id occurs several times). */
  key?: string;
  severity: FindingSeverity;
  message: string;
  hint?: string;
  /** License version (catalog id) and the clause cited ("Llama 3.1 Community License Agreement §1.b.i"). */
  license?: string;
  section?: string;
  /** The lineage entry the finding is about, when it is about one. */
  subject?: string;
  /** Present when a configured waiver covers the finding. */
  waived?: { reason: string };
}

export interface LicensePlan {
  /** In lineage order; one per license version. */
  licenses: PackageLicense[];
  ancestors: PackageAncestor[];
  findings: PackageFinding[];
  /** The NOTICE file's full text (upstream sentences, then the user's attribution); empty when nothing requires one. */
  notice: string;
  /** The engine's own lineage record, copied into manifest.json as it is (JSON, no absolute paths). */
  lineage?: unknown;
}

export type Relation = 'quantized' | 'finetune' | 'adapter' | 'merge' | 'distillation';

export interface LicensingContext {
  loaded: LoadedConfig;
  /** The derivative's name as it will be distributed (the naming rules check it). */
  name: string;
  version: string;
  /** The staged input directory that looks like the derivative's checkpoint (its card and LICENSE files), if any. */
  derivativeDir?: string;
  offline?: boolean;
  /** Hub access as `llama license check` takes it (flags first); unset: the configuration's pull section, then the environment. */
  endpoint?: string;
  token?: string;
  /** Absolute. */
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
  onProgress: ProgressSink;
  signal?: AbortSignal;
}

/** Resolves lineage, runs the checks and gathers the texts; the default is the license engine (./licensing.ts). */
export type Licensing = (context: LicensingContext) => Promise<LicensePlan>;

