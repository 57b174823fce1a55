import { getLicense, licenseFromHfMetadata, type LicenseEntry } from '../catalog.ts';
import type { TextCheck } from '../lineage.ts';
import { defineRule, type Draft } from './rule.ts';

export const licenseText = defineRule({
  id: 'license-text',
  title: 'License text differs from the catalog text',
  description: 'A LICENSE / USE_POLICY file does not match the catalog text of the license it claims (edited, tampered, or another license).',
  level: 'error',
  lineage(ctx) {
    const drafts: Array<Draft<'license-text'>> = [];
    for (const node of ctx.nodes) {
      for (const text of node.texts) {
        if (text.status === 'ok') continue;
        const entry = text.expected ? getLicense(text.expected) : undefined;
        drafts.push(textFinding(entry, node.ref, text.file, text.status, text.identification));
      }
    }
    const derivative = ctx.lineage.derivative;
    if (derivative) {
      // What the derivative's own texts may be: a license of the lineage, or the one its card names (a pulled base
      // snapshot has no lineage above it, only its card). An exact copy of one of those is never a finding.
      const card = derivative.card;
      const declared = card ? licenseFromHfMetadata(card.license, card.licenseName) : undefined;
      const expected = [...ctx.licenses.map((l) => l.entry), ...(declared && !ctx.licenses.some((l) => l.entry.id === declared.id) ? [declared] : [])];
      for (const text of derivative.texts) {
        const id = text.identification;
        const verbatim = id.match === 'exact' || id.match === 'variant' || id.match === 'marker';
        if (verbatim && (expected.length === 0 || expected.some((e) => e.id === id.license))) continue;
        const status = id.license === null ? 'unrecognised' : !verbatim ? 'tampered' : 'other-license';
        const entry = status === 'other-license' ? expected[0] : id.license ? getLicense(id.license) : undefined;
        drafts.push(textFinding(entry, derivative.dir, text.file, status, id, status === 'other-license' ? expected : undefined));
      }
    }
    return drafts;
  },
});

/**
 * `entry`: the license the file should be. `allowed`: for a derivative's own file, every license it may be (the
 * lineage's and its card's), named in the message.
 */
function textFinding(entry: LicenseEntry | undefined, subject: string, file: string, status: TextCheck['status'], id: TextCheck['identification'], allowed?: readonly LicenseEntry[]): Draft<'license-text'> {
  const diff = id.difference ? ` First difference at word ${id.difference.index + 1}: expected “${id.difference.expected}”, found “${id.difference.actual}”.` : '';
  const expectedNames = allowed && allowed.length > 0 ? allowed.map((e) => e.name).join(' or the ') : entry?.name ?? 'license the lineage names';
  const what = status === 'tampered'
    ? `${file} is not the ${id.licenseName} text: it is ${(id.similarity * 100).toFixed(1)}% similar but its words differ.${diff}`
    : status === 'other-license'
      ? `${file} is the ${id.licenseName}, not the ${expectedNames}.`
      : `${file} matches no catalog license text (best similarity ${(id.similarity * 100).toFixed(1)}%).`;
  return {
    id: 'license-text', severity: 'blocking', license: entry?.id ?? id.license, section: null, subject, file,
    message: what,
    why: 'The license requires a copy of the agreement itself; an edited or different text misstates the terms recipients get.',
    fix: 'Replace the file with the unmodified upstream text (`llama package` emits the verbatim copy), or correct the model card if it names the wrong license.',
  };
}
