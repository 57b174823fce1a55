import { CATALOG } from '../catalog.ts';
import { defineRule, listOf } from './rule.ts';

const restrictions = CATALOG.filter((e) => e.flowDown.useRestrictions).map((e) => e.short);
const modified = CATALOG.filter((e) => e.flowDown.modifiedFiles).map((e) => e.short);

export const flowDown = defineRule({
  id: 'flow-down',
  title: 'Use restrictions and modification notices must flow down',
  description: `Advisory: pass the use restrictions on as an enforceable provision (${listOf(restrictions)}) and mark modified files (${listOf(modified)}).`,
  level: 'note',
  license(_ctx, { entry, via, subject }) {
    const rule = entry.flowDown;
    const reaches = via === 'materials' || rule.throughOutputs;
    if (!reaches || (!rule.useRestrictions && !rule.modifiedFiles)) return [];
    const duties: string[] = [];
    if (rule.useRestrictions) duties.push(`include the use restrictions as an enforceable provision in the terms you distribute under and tell recipients they apply (${rule.useRestrictions})`);
    if (rule.modifiedFiles) duties.push(`make modified files carry prominent notices that you changed them (${rule.modifiedFiles})`);
    return [{
      id: 'flow-down', severity: 'advisory', license: entry.id, section: rule.useRestrictions ?? rule.modifiedFiles ?? null, subject,
      message: `${entry.short}: ${duties.join('; ')}.`,
      why: via === 'outputs' ? `${entry.short} counts models trained on its outputs as derivatives, so its duties reach this model.` : `${entry.short} requires it of every distribution of the model or its derivatives.`,
      fix: 'Add the provisions to the terms shipped with the model and keep change notices in modified files; waive this advisory once done.',
    }];
  },
});
