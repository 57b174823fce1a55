import { defineRule } from './rule.ts';
import { measureUsers, scopeText, thresholdsText } from './users.ts';

export const mauThreshold = defineRule({
  id: 'mau-threshold',
  title: 'Monthly active users above the license threshold',
  description: `${thresholdsText()}.`,
  level: 'error',
  license(ctx, { entry, subject }) {
    const measured = measureUsers(entry, ctx.licensee, ctx.now);
    if (!measured || measured.figure === undefined || measured.figure <= measured.rule.threshold) return [];
    const { rule, figure, when } = measured;
    return [{
      id: 'mau-threshold', severity: 'blocking', license: entry.id, section: rule.section, subject,
      message: `${figure.toLocaleString('en-US')} monthly active users ${when} is more than ${rule.threshold.toLocaleString('en-US')}: ${entry.short} grants no rights without a separate license.`,
      why: `“${rule.quote}” The figure counts ${scopeText(rule)}${rule.commercialOnly ? ' in commercial use' : ''}.`,
      fix: `Request a license from ${entry.licensor} and, once granted, waive this finding with its reference.`,
    }];
  },
});
