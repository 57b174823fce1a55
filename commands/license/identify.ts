import { Args } from '@oclif/core';
import { LlamaCommand } from '../../src/cli/base-command.ts';
import { identificationLines, identifyFile, type Identification } from '../../src/license/identify.ts';

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
    for (const line of identificationLines(args.file, result)) this.say(line);
    return { file: args.file, ...result };
  }
}
