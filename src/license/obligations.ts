/** The obligations a license version puts on the derivative, each with its clause, for the report and the card. */
import type { LicenseEntry, Via } from './catalog.ts';
import { anchorOf, previousMonth } from './rules/users.ts';

export interface Obligation {
  license: string;
  section: string;
  citation: string;
  text: string;
}

export function obligationsOf(entry: LicenseEntry, via: Via): Obligation[] {
  const out: Obligation[] = [];
  const add = (section: string, text: string) => out.push({ license: entry.id, section, citation: `${entry.name} ${section}`, text });
  const reaches = via === 'materials' || entry.flowDown.throughOutputs;
  if (reaches) add(entry.flowDown.copyOfAgreement, `Give every recipient a copy of the ${entry.name}.`);
  if (entry.notice && entry.notice.via.includes(via)) add(entry.notice.section, `Ship a NOTICE file containing: “${entry.notice.sentence}”${entry.notice.notForHostedOnly ? ' (not required for hosted-only offerings)' : ''}.`);
  if (entry.builtWith && entry.builtWith.via.includes(via)) add(entry.builtWith.section, `Display ${entry.builtWith.phrases.map((p) => `“${p}”`).join(' or ')} on ${entry.builtWith.where}.`);
  if (entry.naming && entry.naming.via.includes(via)) add(entry.naming.section, `Begin the model's name with “${entry.naming.prefix}”.`);
  if (entry.usePolicy && reaches) add(entry.usePolicy.incorporatedBy, `Comply with the ${entry.usePolicy.name} (${entry.usePolicy.url}).`);
  if (entry.flowDown.useRestrictions && reaches) add(entry.flowDown.useRestrictions, 'Include the use restrictions as an enforceable provision in your terms and tell recipients they apply.');
  if (entry.flowDown.modifiedFiles && reaches) add(entry.flowDown.modifiedFiles, 'Make modified files carry prominent notices that you changed them.');
  if (entry.users) add(entry.users.section, `Request a license from ${entry.licensor} if monthly active users exceed ${entry.users.threshold.toLocaleString('en-US')}${entry.users.measure === 'release-month' ? ` in ${previousMonth(anchorOf(entry, entry.users))}` : ''}.`);
  return out;
}
