import { defineRule } from './rule.ts';

export const lineageEmpty = defineRule({
  id: 'lineage-empty',
  title: 'No base model to check against',
  description: 'derivative.baseModels and trainedOnOutputsOf are empty and the checkpoint card names no base_model, so no license could be checked.',
  level: 'error',
  lineage(ctx) {
    if (ctx.lineage.roots.length > 0) return [];
    return [{
      id: 'lineage-empty', severity: 'blocking', license: null, section: null,
      message: 'No base model is configured, so no license was checked.',
      why: 'An empty lineage would pass every check without checking anything.',
      fix: 'List the direct bases in derivative.baseModels (hub repo ids or checkpoint directories), or give the checkpoint directory whose card names base_model.',
    }];
  },
});
