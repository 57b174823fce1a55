/**
 * What a license rule is: one finding id with its title and description (the SARIF rule, the README table) and the
 * checks that raise it. A rule checks the lineage as a whole, each license version in it, or (with --require-files)
 * the directory that will be shipped; checks.ts runs them in the registry's order (rules/index.ts).
 */
import type { LlamaConfig } from '../../config/schema.ts';
import type { LicenseEntry, Via } from '../catalog.ts';
import type { Lineage, LineageNode } from '../lineage.ts';

export type Severity = 'blocking' | 'advisory';

export interface CheckOptions {
  /** The product documentation (`docs` in the config), read by the caller; undefined when not configured. */
  docs?: { path: string; text: string };
  /** "Now" for ongoing user-threshold tests (Qwen); default: the current date. */
  now?: Date;
  /**
   * The derivative directory is what will be shipped: it must hold a copy of every agreement and a NOTICE file with
   * every required sentence (`llama license check DIR --require-files`). Off for a package's input checkpoint, whose
   * files `llama package` produces.
   */
  requireFiles?: boolean;
}

export type CheckConfig = Pick<LlamaConfig, 'derivative' | 'licensee' | 'intendedUses' | 'waivers'>;
export type Licensee = NonNullable<CheckConfig['licensee']>;

/** A finding before waivers and keys: what a rule raises. */
export interface Draft<Id extends string = string> {
  id: Id;
  severity: Severity;
  license: string | null;
  section: string | null;
  /** The lineage entry (repo id or path) the finding is about, when it is about one. */
  subject?: string;
  /** The file the finding is about (a LICENSE, NOTICE or docs file), when it is about one. */
  file?: string;
  message: string;
  why: string;
  fix: string;
  /** Tells apart findings of one id, license and subject (an intended use and its category). */
  subjectKey?: string;
}

/** What every rule sees. */
export interface RuleContext {
  derivative: CheckConfig['derivative'];
  licensee: Licensee;
  intendedUses: readonly string[];
  lineage: Lineage;
  /** Every node, depth first (walkLineage). */
  nodes: readonly LineageNode[];
  /** The license versions in lineage order, each with how it was reached (materials wins over outputs). */
  licenses: ReadonlyArray<{ entry: LicenseEntry; via: Via }>;
  docs: CheckOptions['docs'];
  now: Date;
}

/** One license version of the lineage, as a per-license check sees it. */
export interface LicenseInLineage {
  entry: LicenseEntry;
  via: Via;
  /** The nodes under this license. */
  nodes: readonly LineageNode[];
  /** The first of them (the finding's subject). */
  subject: string | undefined;
}

export type ShippedDir = NonNullable<Lineage['derivative']>;

export interface Rule<Id extends string = string> {
  id: Id;
  title: string;
  description: string;
  /** SARIF `defaultConfiguration.level`: `note` for rules that are advisory by nature. */
  level: 'error' | 'note';
  lineage?(ctx: RuleContext): Array<Draft<Id>>;
  license?(ctx: RuleContext, license: LicenseInLineage): Array<Draft<Id>>;
  shipped?(ctx: RuleContext, shipped: ShippedDir): Array<Draft<Id>>;
}

/** Keeps a rule's id literal (`'naming-prefix'`, not `string`), so the registry's ids form a union type. */
export function defineRule<const Id extends string>(rule: Rule<Id>): Rule<Id> {
  return rule;
}

/** "A, B and C". */
export function listOf(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
