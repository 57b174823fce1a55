import { CATALOG, type LicenseEntry } from '../catalog.ts';
import { defineRule, listOf } from './rule.ts';

function prefixPattern(prefix: string): RegExp {
  const words = prefix.split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const tail = /\d$/.test(prefix) ? '(?![0-9])' : '';
  return new RegExp(`^${words.join('[\\s_.-]*')}${tail}`, 'i');
}

/** Whether a model name begins with a license's required prefix (separators between words are free). */
export function nameHasPrefix(name: string, prefix: string): boolean {
  return prefixPattern(prefix).test(name.trim());
}

function describe(): string {
  const groups = new Map<string, string[]>();
  for (const entry of CATALOG) {
    if (!entry.naming) continue;
    const key = `“${entry.naming.prefix}”${entry.naming.via.includes('outputs') ? ' (also when only outputs were used)' : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), entry.short]);
  }
  const without = CATALOG.filter((e) => !e.naming && CATALOG.some((o) => o.naming && o.family === e.family)).map((e: LicenseEntry) => e.short);
  const rules = [...groups].map(([rule, names]) => `${listOf(names)}: ${rule}`).join('; ');
  return `${rules}.${without.length > 0 ? ` ${listOf(without)} ${without.length === 1 ? 'has' : 'have'} no naming rule.` : ''}`;
}

export const namingPrefix = defineRule({
  id: 'naming-prefix',
  title: 'Model name does not begin with the required prefix',
  description: describe(),
  level: 'error',
  license(ctx, { entry, via, subject }) {
    const rule = entry.naming;
    if (!rule || !rule.via.includes(via)) return [];
    const name = ctx.derivative?.name;
    if (name === undefined) {
      return [{
        id: 'naming-prefix', severity: 'blocking', license: entry.id, section: rule.section, subject,
        message: `derivative.name is not configured, so the ${entry.short} naming rule cannot be checked.`,
        why: `“${rule.quote}”`,
        fix: `Set derivative.name to the distributed name, beginning with “${rule.prefix}”.`,
      }];
    }
    if (nameHasPrefix(name, rule.prefix)) return [];
    return [{
      id: 'naming-prefix', severity: 'blocking', license: entry.id, section: rule.section, subject,
      message: `“${name}” does not begin with “${rule.prefix}”, which ${entry.short} requires${via === 'outputs' ? ' even though only its outputs were used' : ''}.`,
      why: `“${rule.quote}”`,
      fix: `Rename the model to begin with “${rule.prefix}” (for example “${rule.prefix}-${name.replace(/^[^A-Za-z0-9]+/, '')}”).`,
    }];
  },
});
