/**
 * How a user-threshold clause is measured (Meta §2: the calendar month before the version date, licensee and
 * affiliates; Qwen / Tongyi §4: ongoing, the product or service, in commercial use). Shared by mau-threshold and
 * mau-undeclared.
 */
import { CATALOG, type LicenseEntry, type UserThresholdRule } from '../catalog.ts';
import { listOf, type Licensee } from './rule.ts';

/** YYYY-MM of the calendar month before a YYYY-MM-DD date (UTC calendar arithmetic, no time zones involved). */
export function previousMonth(date: string): string {
  const [y, m] = date.split('-').map(Number) as [number, number];
  const year = m === 1 ? y - 1 : y;
  const month = m === 1 ? 12 : m - 1;
  return `${year}-${String(month).padStart(2, '0')}`;
}

function monthOf(date: Date): string {
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The date a release-month threshold is measured against (the catalog gives every such entry one). */
export function anchorOf(entry: LicenseEntry, rule: UserThresholdRule): string {
  const anchor = rule.anchorDate ?? entry.date;
  if (anchor === null) throw new Error(`catalog: ${entry.id} has a release-month user threshold but no date`);
  return anchor;
}

/** The figure for a calendar month: a single number stands for every month. */
function usersFor(mau: Licensee['monthlyActiveUsers'], month: string): number | undefined {
  if (mau === undefined) return undefined;
  if (typeof mau === 'number') return mau;
  return mau[month];
}

export function scopeText(rule: UserThresholdRule): string {
  return rule.scope === 'licensee-and-affiliates' ? 'the products and services of the licensee and its affiliates' : 'your product or service';
}

export interface Measurement {
  rule: UserThresholdRule;
  month: string;
  /** undefined: the configuration has no figure for that month. */
  figure: number | undefined;
  /** "in 2024-06, the calendar month before the Llama 3.1 release date (2024-07-23)". */
  when: string;
}

/** The month and figure a license's user threshold is measured on; undefined when the clause does not apply. */
export function measureUsers(entry: LicenseEntry, licensee: Licensee, now: Date): Measurement | undefined {
  const rule = entry.users;
  if (!rule) return undefined;
  if (rule.commercialOnly && licensee.commercial === false) return undefined;
  const mau = licensee.monthlyActiveUsers;
  let month: string;
  if (rule.measure === 'release-month') {
    month = previousMonth(anchorOf(entry, rule));
  } else {
    // An ongoing test: the current calendar month, else the last completed one.
    const current = monthOf(now);
    const last = previousMonth(`${current}-01`);
    month = typeof mau === 'object' && mau[current] === undefined ? last : current;
  }
  const dateWord = entry.dateKind === 'effective' ? 'effective date' : 'release date';
  const when = rule.measure === 'release-month'
    ? `in ${month}, the calendar month before the ${entry.short} ${dateWord} (${anchorOf(entry, rule)})`
    : `in ${month} (the test is ongoing)`;
  return { rule, month, figure: usersFor(mau, month), when };
}

/** The thresholds of the catalog, grouped by how they are measured, for the rule descriptions. */
export function thresholdsText(): string {
  const groups = new Map<string, { rule: UserThresholdRule; names: string[] }>();
  for (const entry of CATALOG) {
    const rule = entry.users;
    if (!rule) continue;
    const key = `${rule.threshold}|${rule.measure}|${rule.scope}|${rule.commercialOnly}`;
    const group = groups.get(key) ?? { rule, names: [] };
    group.names.push(entry.short);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ rule, names }) => {
    const when = rule.measure === 'release-month' ? ' in the calendar month before the version date' : '';
    return `${listOf(names)}: more than ${rule.threshold.toLocaleString('en-US')} monthly active users (${scopeText(rule)})${when}${rule.commercialOnly ? ', in commercial use' : ''}`;
  }).join('; ');
}
