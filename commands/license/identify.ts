import { Args } from '@oclif/core';
import { LlamaCommand } from '../../src/cli/base-command.ts';
import { identifyFile, type Identification } from '../../src/license/identify.ts';

export default class LicenseIdentify extends LlamaCommand {
  static override summary = 'Name the catalog license a text is, or say it matches none.';
  static override description =
    'Compares the normalised words of FILE (Markdown, whitespace, quotes and known URL spellings do not matter; every word does) with each catalog text. An exact or known-variant match names the license; otherwise the nearest text is given with its similarity and the first words that differ.';
  static override examples = ['<%= config.bin %> license identify ./Llama-3.2-1B/LICENSE.txt', '<%= config.bin %> license identify LICENSE --json'];

  static override args = {
    file: Args.string({ description: 'The license text to identify.', required: true }),
  };

  async run(): Promise<Identification & { file: string }> {
    const { args } = await this.parseInput(LicenseIdentify);
    const result = await identifyFile(args.file);
    const pct = `${(result.similarity * 100).toFixed(1)}%`;
    if (result.match === 'exact') this.say(`${args.file}: ${result.licenseName} [${result.license}] — exact match (${result.role}), similarity 100%`);
    else if (result.match === 'variant') this.say(`${args.file}: ${result.licenseName} [${result.license}] — known variant (${result.variantNote ?? ''}), similarity 100%`);
    else if (result.match === 'marker') this.say(`${args.file}: ${result.licenseName} [${result.license}] — recognised by its key phrases`);
    else if (result.match === 'similar') {
      this.say(`${args.file}: NOT an exact catalog text; nearest is ${result.licenseName} [${result.license}] (${result.role}), similarity ${pct}`);
      if (result.difference) this.say(`  first difference at word ${result.difference.index + 1}: expected “${result.difference.expected}”, found “${result.difference.actual}”`);
    } else this.say(`${args.file}: matches no catalog license (best similarity ${pct})`);
    return { file: args.file, ...result };
  }
}
