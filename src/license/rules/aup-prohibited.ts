import { AUP_CATEGORIES } from '../catalog.ts';
import { defineRule, type Draft } from './rule.ts';

/**
 * Words that turn a prohibited topic into work against it ("fraud detection", "spam filtering", "malware analysis"):
 * a free-text match in such a context is for a person to review, not a blocking finding.
 */
const DEFENSIVE = /\b(detect|filter|prevent|classif|moderat|analy[sz]|protect|defen[cs]|screen|report|flag|mitigat|counter|combat|fight|block|remov)\w*/;

interface UseMatch {
  category: string;
  /** `id`: the use is a catalog category id; `keyword`: free text naming the topic; `defensive`: the topic in a defensive context. */
  how: 'id' | 'keyword' | 'defensive';
}

/** The catalog categories an intended use falls in: by category id, or by the category's keywords in free text. */
function categoriesOfUse(use: string): UseMatch[] {
  const lower = use.trim().toLowerCase();
  if (AUP_CATEGORIES[lower]) return [{ category: lower, how: 'id' }];
  const how = DEFENSIVE.test(lower) ? 'defensive' : 'keyword';
  return Object.entries(AUP_CATEGORIES)
    .filter(([, category]) => category.keywords.some((k) => lower.includes(k)))
    .map(([id]) => ({ category: id, how }));
}

export const aupProhibited = defineRule({
  id: 'aup-prohibited',
  title: 'Intended use in a prohibited category',
  description: 'A declared intended use falls in a category of the version\'s acceptable / prohibited use policy.',
  level: 'error',
  license(ctx, { entry, via, subject }) {
    const policy = entry.usePolicy;
    if (!policy || (via === 'outputs' && !entry.flowDown.throughOutputs)) return [];
    const drafts: Array<Draft<'aup-prohibited'>> = [];
    for (const use of ctx.intendedUses) {
      for (const { category, how } of categoriesOfUse(use)) {
        const item = policy.items.find((i) => i.category === category);
        if (!item) continue;
        const review = item.conditional === true || how === 'defensive';
        const title = AUP_CATEGORIES[category]?.title ?? category;
        const label = /^\d/.test(item.label) ? `§${item.label}` : item.label;
        drafts.push({
          id: 'aup-prohibited', severity: review ? 'advisory' : 'blocking', license: entry.id, section: `${policy.name} ${label}`, subject,
          subjectKey: `${use}:${category}`,
          message: `Intended use “${use}” ${how === 'defensive' ? 'touches' : 'falls in'} ${policy.name} ${label} (${title}).`,
          why: `${entry.short} incorporates its use policy (${policy.url}); ${item.conditional ? 'this category is prohibited only under conditions the tool cannot see (e.g. without a license, rights or consent)' : how === 'defensive' ? 'the use reads as work against this prohibited activity, which the policy does not forbid, so a person should confirm it' : 'this category is prohibited'}.`,
          fix: review ? 'Confirm the use is allowed (licensed professionals, consent obtained, or defensive work) and waive with the reason, or drop the use.' : 'Drop this intended use; the license gives no right to it.',
        });
      }
    }
    return drafts;
  },
});
