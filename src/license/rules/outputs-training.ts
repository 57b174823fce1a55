import { CATALOG, type LicenseEntry } from '../catalog.ts';
import { defineRule, listOf } from './rule.ts';

/** Later versions of the same family, with a known text, that have no such ban (Llama 3.1+, Qwen 2024). */
function laterWithoutBan(entry: LicenseEntry): string[] {
  return CATALOG.filter((e) => e.family === entry.family && !e.outputs && e.date !== null && entry.date !== null && e.date > entry.date && e.texts.length > 0).map((e) => e.short);
}

export const outputsTraining = defineRule({
  id: 'outputs-training',
  title: 'Outputs used to improve another model',
  description: `${listOf(CATALOG.filter((e) => e.outputs).map((e) => e.short))} forbid using outputs to improve any other large language model except derivatives of the same version.`,
  level: 'error',
  license(_ctx, { entry, via, nodes, subject }) {
    // Outputs of a version that forbids improving other LLMs, while the derivative is not built on that same version.
    if (!entry.outputs || via === 'materials' || !nodes.some((n) => n.via === 'outputs')) return [];
    const later = laterWithoutBan(entry);
    return [{
      id: 'outputs-training', severity: 'blocking', license: entry.id, section: entry.outputs.section, subject,
      message: `Outputs of ${subject ?? entry.short} (${entry.short}) were used to create or train this model, which is not a derivative of ${entry.short}.`,
      why: `“${entry.outputs.quote}”${later.length > 0 ? ` Later versions (${listOf(later)}) replaced this ban with naming/attribution duties; this one did not.` : ''}`,
      fix: `Remove ${subject ?? 'that model'} from trainedOnOutputsOf (retrain without its outputs), or build on ${entry.short} itself.`,
    }];
  },
});
