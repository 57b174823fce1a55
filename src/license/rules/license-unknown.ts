import { defineRule } from './rule.ts';

export const licenseUnknown = defineRule({
  id: 'license-unknown',
  title: 'License of an ancestor cannot be determined',
  description: 'No model card metadata, LICENSE text or hub card determines a catalog license for an ancestor.',
  level: 'error',
  lineage(ctx) {
    return ctx.nodes.filter((node) => node.license === null).map((node) => ({
      id: 'license-unknown' as const, severity: 'blocking' as const, license: null, section: null, subject: node.ref,
      message: `The license of ${node.ref} cannot be determined: ${node.problems.map((p) => p.message).join('; ') || 'no evidence'}.`,
      why: 'Every ancestor\'s license decides what the derivative owes; an unknown one may forbid the release outright.',
      fix: node.kind === 'hub'
        ? 'Run without --offline (hub access), pull the base model so it is in the cache, or point baseModels at the local checkpoint directory.'
        : 'Add `license:` (and `license_name:` for `other`) to the checkpoint\'s README.md front matter, or put the upstream LICENSE file in the checkpoint.',
    }));
  },
});
