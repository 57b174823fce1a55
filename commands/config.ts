import { stringify } from 'yaml';
import { LlamaCommand } from '../src/cli/base-command.ts';
import { describeConfig, type ConfigReport } from '../src/config/show.ts';

export default class Config extends LlamaCommand {
  static override summary = 'Print the resolved configuration and the file it came from.';
  static override description =
    'Searches the working directory and its parents (up to the nearest package.json) for .llamarc, .llamarc.{json,yaml,yml,js,mjs,cjs}, llama.config.{js,mjs,cjs,ts} or a "llama" key in package.json, validates it, and prints the result with defaults filled in. --config FILE skips the search.';
  static override examples = ['<%= config.bin %> config', '<%= config.bin %> config --config ./release/llama.yaml --json'];

  async run(): Promise<ConfigReport> {
    const { flags } = await this.parseInput(Config);
    const report = await describeConfig({ configFile: flags.config });
    const origin =
      report.source === 'defaults'
        ? `no configuration file found (searched ${report.searchPlaces.join(', ')}); defaults apply`
        : `${report.file}${report.source === 'flag' ? ' (from --config)' : ''}`;
    this.say(`# source: ${origin}`);
    this.say(stringify(report.config).trimEnd());
    return report;
  }
}
