import { CATALOG, getLicense } from '../catalog.ts';
import { noticeLines } from '../notice.ts';
import { defineRule, listOf, type Draft } from './rule.ts';

function describeSections(): string {
  const groups = new Map<string, string[]>();
  for (const entry of CATALOG) {
    if (!entry.notice) continue;
    groups.set(entry.notice.section, [...(groups.get(entry.notice.section) ?? []), entry.short]);
  }
  return [...groups].map(([section, names]) => `${listOf(names)} ${section}`).join('; ');
}

export const noticeFile = defineRule({
  id: 'notice-file',
  title: 'NOTICE file lacks a required sentence',
  description: `With --require-files: the checkpoint's "Notice" text file must carry each upstream attribution sentence exactly (${describeSections()}).`,
  level: 'error',
  shipped(ctx, shipped) {
    const required = noticeLines(ctx.licenses, { distribution: ctx.derivative?.distribution ?? 'weights' });
    const have = shipped.notice ? shipped.notice.text.replace(/\s+/g, ' ') : '';
    const drafts: Array<Draft<'notice-file'>> = [];
    for (const line of required) {
      if (have.includes(line.sentence)) continue;
      const entry = getLicense(line.license);
      drafts.push({
        id: 'notice-file', severity: 'blocking', license: line.license, section: line.section, subject: shipped.dir,
        ...(shipped.notice ? { file: shipped.notice.file } : {}),
        message: shipped.notice ? `${shipped.notice.file} does not contain the exact sentence “${line.sentence}”.` : `${shipped.dir} has no NOTICE file; it must contain “${line.sentence}”.`,
        why: `${entry?.short ?? line.license} ${line.section} prescribes this attribution notice, word for word, in a “Notice” text file distributed with the copies.`,
        fix: 'Write the NOTICE with `llama license notice > NOTICE` (or let `llama package` emit it).',
      });
    }
    return drafts;
  },
});
