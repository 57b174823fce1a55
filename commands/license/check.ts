import { Args, Flags } from '@oclif/core';
import { LlamaCommand } from '../../src/cli/base-command.ts';
import { renderReport, type ReportFormat } from '../../src/license/report.ts';
import { checkLicenses } from '../../src/license/run.ts';
import type { LicenseReport } from '../../src/license/checks.ts';
import { hubFlagValues } from '../../src/license/hub-access.ts';
import { hubFlags } from '../../src/cli/hub-flags.ts';

export default class LicenseCheck extends LlamaCommand {
  static override summary = 'Check a derivative against the licenses of every model in its lineage.';
  static override description =
    'Resolves the lineage of the configured derivative (derivative.baseModels and trainedOnOutputsOf: hub repo ids or local checkpoint directories, followed through each card\'s base_model), determines each ancestor\'s license, and prints the lineage tree, the obligations that apply and the findings, each citing the license version and section. Exits 3 when a blocking finding is not waived (with --json the report is then under error.details.report). DIR is the derivative\'s own checkpoint: its LICENSE files are checked, and its card\'s base_model is used when the configuration names no bases.';
  static override examples = [
    '<%= config.bin %> license check',
    '<%= config.bin %> license check ./out/Llama-3.1-8B-Acme --format sarif > license.sarif',
    '<%= config.bin %> license check --offline --config release/llama.yaml',
  ];

  static override args = {
    dir: Args.string({ description: 'The derivative checkpoint directory (optional).', required: false }),
  };

  static override flags = {
    format: Flags.string({ description: 'Report format.', options: ['text', 'json', 'sarif'], default: 'text' }),
    'require-files': Flags.boolean({ description: 'DIR is what will be shipped: it must hold a copy of every agreement and a NOTICE file with every required sentence.', default: false }),
    ...hubFlags,
  };

  async run(): Promise<LicenseReport> {
    const { args, flags } = await this.parseInput(LicenseCheck);
    const { report, sarif, failure } = await checkLicenses({
      loaded: await this.loadConfig(),
      dir: args.dir,
      hub: hubFlagValues(flags),
      requireFiles: flags['require-files'] === true,
      onProgress: this.progress,
    });
    if (!this.jsonEnabled()) process.stdout.write(renderReport(report, flags.format as ReportFormat, sarif));
    if (failure) throw failure;
    return report;
  }
}
