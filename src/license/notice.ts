/**
 * The NOTICE file a lineage requires: one exact upstream sentence per license version, in lineage order (bases in
 * the order configured, each followed by its own bases), then the derivative's own attribution lines.
 */
import { getLicense, type LicenseEntry, type Via } from './catalog.ts';
import { walkLineage, type Lineage } from './lineage.ts';

export interface NoticeOptions {
  /** `service` only: Gemma's Notice duty does not reach hosted-only offerings (ToU §3.1 item 4). */
  distribution?: 'weights' | 'service' | 'both';
  /** The derivative's own attribution lines, appended after the upstream sentences. */
  attribution?: string;
}

export interface NoticeLine {
  license: string;
  section: string;
  sentence: string;
}

/** The licenses in lineage order with how each was reached (materials wins over outputs). */
export function lineageLicenses(lineage: Lineage): Array<{ entry: LicenseEntry; via: Via }> {
  const order: Array<{ entry: LicenseEntry; via: Via }> = [];
  for (const node of walkLineage(lineage)) {
    const entry = node.license === null ? undefined : getLicense(node.license);
    if (!entry) continue;
    const existing = order.find((o) => o.entry.id === entry.id);
    if (!existing) order.push({ entry, via: node.via });
    else if (node.via === 'materials') existing.via = 'materials';
  }
  return order;
}

/** The upstream sentences the NOTICE must carry, for licenses reached as given. */
export function noticeLines(licenses: ReadonlyArray<{ entry: LicenseEntry; via: Via }>, options: NoticeOptions = {}): NoticeLine[] {
  const lines: NoticeLine[] = [];
  for (const { entry, via } of licenses) {
    const rule = entry.notice;
    if (!rule || !rule.via.includes(via)) continue;
    if (rule.notForHostedOnly && options.distribution === 'service') continue;
    lines.push({ license: entry.id, section: rule.section, sentence: rule.sentence });
  }
  return lines;
}

/** The NOTICE file text for a lineage (empty string when no license in it prescribes a sentence and no attribution). */
export function renderNotice(lineage: Lineage, options: NoticeOptions = {}): string {
  return renderNoticeFor(lineageLicenses(lineage), options);
}

function renderNoticeFor(licenses: ReadonlyArray<{ entry: LicenseEntry; via: Via }>, options: NoticeOptions): string {
  const parts = noticeLines(licenses, options).map((l) => l.sentence);
  const attribution = options.attribution?.trim();
  if (attribution) parts.push(...(parts.length > 0 ? ['', attribution] : [attribution]));
  return parts.length === 0 ? '' : `${parts.join('\n')}\n`;
}
