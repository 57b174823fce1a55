import { hasEmittableText } from '../texts.ts';
import { defineRule, type Draft } from './rule.ts';

export const licenseCopy = defineRule({
  id: 'license-copy',
  title: 'A copy of the agreement is missing',
  description: 'The license requires a copy of the agreement for recipients. Advisory when llama-dist has no byte-exact text to emit (take the LICENSE file from the base model repository); blocking with --require-files when the checkpoint carries no copy.',
  level: 'note',
  license(_ctx, { entry, via, subject }) {
    const reaches = via === 'materials' || entry.flowDown.throughOutputs;
    if (!reaches || hasEmittableText(entry) || !entry.flowDown.remindCopyFromBase) return [];
    return [{
      id: 'license-copy', severity: 'advisory', license: entry.id, section: entry.flowDown.copyOfAgreement, subject,
      message: `A copy of the ${entry.name} must go to recipients, and llama-dist has no byte-exact copy of it to emit.`,
      why: 'Only third-party transcriptions of this text exist here; emitting one could misstate the terms.',
      fix: 'Copy the LICENSE file from the base model repository into the package (it is identified against the catalog).',
    }];
  },
  shipped(ctx, shipped) {
    const drafts: Array<Draft<'license-copy'>> = [];
    for (const { entry, via } of ctx.licenses) {
      if (via !== 'materials' && !entry.flowDown.throughOutputs) continue;
      const copy = shipped.texts.some((t) => t.identification.license === entry.id && t.identification.role === 'license' && t.identification.match !== 'similar' && t.identification.match !== 'none');
      if (copy) continue;
      drafts.push({
        id: 'license-copy', severity: 'blocking', license: entry.id, section: entry.flowDown.copyOfAgreement, subject: shipped.dir,
        message: `${shipped.dir} holds no copy of the ${entry.name}.`,
        why: `${entry.short} ${entry.flowDown.copyOfAgreement} requires a copy of the agreement with every distribution.`,
        fix: hasEmittableText(entry) ? `Add the verbatim text (llama package emits templates/licenses/${entry.id}/LICENSE.txt).` : 'Copy the LICENSE file from the base model repository into the directory.',
      });
    }
    return drafts;
  },
});
