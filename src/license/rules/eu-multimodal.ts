import { CATALOG } from '../catalog.ts';
import { defineRule, listOf } from './rule.ts';

const withRule = CATALOG.filter((e) => e.euMultimodal);

export const euMultimodal = defineRule({
  id: 'eu-multimodal',
  title: 'Multimodal Llama model and an EU-established licensee',
  description: `The ${listOf(withRule.map((e) => e.short))} use policies withhold ${withRule[0]?.euMultimodal?.withheld ?? 'the granted rights'} for multimodal models from individuals domiciled, or companies with their principal place of business, in the EU.`,
  level: 'error',
  license(ctx, { entry, nodes, subject }) {
    const rule = entry.euMultimodal;
    if (!rule) return [];
    const detected = nodes.some((n) => n.multimodal === true);
    const multimodal = ctx.derivative?.multimodal ?? (detected ? true : nodes.every((n) => n.multimodal === false) ? false : null);
    const eu = ctx.licensee.euEstablished;
    if (multimodal === true && eu === true) {
      return [{
        id: 'eu-multimodal', severity: 'blocking', license: entry.id, section: rule.section, subject,
        message: `${entry.short} multimodal model, and the licensee is established in the EU: ${rule.withheld} are not granted.`,
        why: `“${rule.quote}” (in the use policy, not the license text; only multimodal models, only the EU).`,
        fix: 'Distribute through an entity whose principal place of business is outside the EU, or use a text-only model; end users of a product are exempt.',
      }];
    }
    if (multimodal === true && eu === undefined) {
      return [{
        id: 'eu-multimodal', severity: 'advisory', license: entry.id, section: rule.section, subject,
        message: `${entry.short} multimodal model, and licensee.euEstablished is not declared.`,
        why: `The ${entry.short} use policy withholds ${rule.withheld} for multimodal models from EU-established licensees.`,
        fix: 'Set licensee.euEstablished (true for an individual domiciled in, or a company with its principal place of business in, the EU).',
      }];
    }
    if (multimodal === null && eu === true) {
      return [{
        id: 'eu-multimodal', severity: 'advisory', license: entry.id, section: rule.section, subject,
        message: `Could not tell whether the ${entry.short} model is multimodal, and the licensee is established in the EU.`,
        why: `The ${entry.short} use policy withholds ${rule.withheld} for multimodal models from EU-established licensees; text-only models are outside it.`,
        fix: 'Set derivative.multimodal (false for a text-only model).',
      }];
    }
    return [];
  },
});
