import { CATALOG } from '../catalog.ts';
import { defineRule, listOf } from './rule.ts';

export const researchOnly = defineRule({
  id: 'research-only',
  title: 'Research-only license with commercial use',
  description: `A non-commercial / research license in the lineage (${listOf(CATALOG.filter((e) => !e.commercialUse).map((e) => e.short))}) while licensee.commercial is true.`,
  level: 'error',
  license(ctx, { entry, subject }) {
    if (entry.commercialUse) return [];
    const section = entry.commercialSection ?? null;
    if (ctx.licensee.commercial === true) {
      return [{
        id: 'research-only', severity: 'blocking', license: entry.id, section, subject,
        message: `${entry.name} allows non-commercial use only, and licensee.commercial is true.`,
        why: `${entry.short} grants rights for research or evaluation purposes only; commercial use needs a separate license from ${entry.licensor}.`,
        fix: `Obtain a commercial license from ${entry.licensor}, or replace ${subject ?? 'the base'} with a commercially licensed model.`,
      }];
    }
    if (ctx.licensee.commercial === undefined) {
      return [{
        id: 'research-only', severity: 'advisory', license: entry.id, section, subject,
        message: `${entry.name} allows non-commercial use only; licensee.commercial is not declared.`,
        why: `${entry.short} grants rights for research or evaluation purposes only.`,
        fix: 'Set licensee.commercial: false to confirm non-commercial use (or obtain a commercial license).',
      }];
    }
    return [];
  },
});
