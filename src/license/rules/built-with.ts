import { CATALOG } from '../catalog.ts';
import { defineRule, listOf } from './rule.ts';

function squash(text: string): string {
  return text.replace(/[“”„]/g, '"').replace(/[‘’]/g, "'").replace(/[*_`]/g, '').replace(/\s+/g, ' ').toLowerCase();
}

function describe(): string {
  const groups = new Map<string, string[]>();
  for (const entry of CATALOG) {
    if (!entry.builtWith) continue;
    const key = entry.builtWith.phrases.map((p) => `“${p}”`).join(' or ');
    groups.set(key, [...(groups.get(key) ?? []), entry.short]);
  }
  return `${[...groups].map(([phrases, names]) => `${phrases} (${listOf(names)})`).join(', ')}.`;
}

export const builtWith = defineRule({
  id: 'built-with',
  title: 'Attribution line missing from the product documentation',
  description: describe(),
  level: 'error',
  license(ctx, { entry, via, subject }) {
    const rule = entry.builtWith;
    if (!rule || !rule.via.includes(via)) return [];
    const phrases = rule.phrases.map((p) => `“${p}”`).join(' or ');
    const docs = ctx.docs;
    if (docs === undefined) {
      return [{
        id: 'built-with', severity: 'advisory', license: entry.id, section: rule.section, subject,
        message: `No product documentation configured (docs): ${phrases} must be displayed on ${rule.where}.`,
        why: `${entry.short} ${rule.section} requires ${phrases}; the package's own model card will carry it.`,
        fix: `Set docs to the product documentation that shows ${phrases}, or make sure the published model card keeps it.`,
      }];
    }
    const text = squash(docs.text);
    if (rule.phrases.some((p) => text.includes(squash(p)))) return [];
    return [{
      id: 'built-with', severity: 'blocking', license: entry.id, section: rule.section, subject,
      message: `${docs.path} does not contain ${phrases}.`,
      why: `${entry.short} ${rule.section} requires ${phrases} to be displayed prominently on ${rule.where}.`,
      fix: `Add ${phrases} to ${docs.path} (or waive with the place it is shown).`,
    }];
  },
});
