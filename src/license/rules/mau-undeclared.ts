import { defineRule } from './rule.ts';
import { measureUsers, scopeText } from './users.ts';

export const mauUndeclared = defineRule({
  id: 'mau-undeclared',
  title: 'Monthly active users not declared for a month the clause needs',
  description: 'licensee.monthlyActiveUsers lacks the figure a user-threshold clause is measured on.',
  level: 'error',
  license(ctx, { entry, subject }) {
    const measured = measureUsers(entry, ctx.licensee, ctx.now);
    if (!measured || measured.figure !== undefined) return [];
    const { rule, month } = measured;
    return [{
      id: 'mau-undeclared', severity: 'blocking', license: entry.id, section: rule.section, subject,
      message: `licensee.monthlyActiveUsers has no figure for ${month}, which ${entry.short} ${rule.section} is measured on.`,
      why: `“${rule.quote}” The figure counts ${scopeText(rule)}.`,
      fix: `Declare licensee.monthlyActiveUsers (a number, or { "${month}": N }) for ${scopeText(rule)}.`,
    }];
  },
});
