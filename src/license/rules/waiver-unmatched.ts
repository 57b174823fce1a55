import { defineRule, type Draft } from './rule.ts';

/** Raised by the waiver step (checks.ts), not by a check: a waiver that matched no finding. */
export const waiverUnmatched = defineRule({
  id: 'waiver-unmatched',
  title: 'A waiver matches no finding',
  description: 'Advisory: a waiver in the configuration names a finding that did not occur (misspelt id or stale waiver).',
  level: 'note',
});

export function unmatchedWaiver(waiver: { finding: string }, knownIds: readonly string[]): Draft<'waiver-unmatched'> {
  return {
    id: 'waiver-unmatched', severity: 'advisory', license: null, section: null,
    message: `The waiver for “${waiver.finding}” matches no finding.`,
    why: 'A stale or misspelt waiver would silently stop covering the finding it was meant for.',
    fix: `Remove the waiver, or name a finding id (${knownIds.slice(0, 4).join(', ')}, …) or a finding key from the report.`,
  };
}
