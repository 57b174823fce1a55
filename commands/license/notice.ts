import { Args } from '@oclif/core';
import { LlamaCommand } from '../../src/cli/base-command.ts';
import { licenseNotice, type LicenseNoticeResult } from '../../src/license/run.ts';
import { hubFlagValues } from '../../src/license/hub-access.ts';
import { hubFlags } from '../../src/cli/hub-flags.ts';

export default class LicenseNotice extends LlamaCommand {
  static override summary = 'Print the NOTICE file the lineage requires.';
  static override description =
    'One exact upstream sentence per license version in the lineage (in lineage order: bases as configured, each followed by its own bases), then derivative.attribution. Exits 3 when an ancestor\'s license cannot be determined, since the NOTICE would be incomplete.';
  static override examples = ['<%= config.bin %> license notice > NOTICE', '<%= config.bin %> license notice ./out/Llama-3.1-8B-Acme --offline'];

  static override args = {
    dir: Args.string({ description: 'The derivative checkpoint directory (its card\'s base_model is used when the configuration names no bases).', required: false }),
  };

  static override flags = { ...hubFlags };

  async run(): Promise<LicenseNoticeResult> {
    const { args, flags } = await this.parseInput(LicenseNotice);
    const result = await licenseNotice({ loaded: await this.loadConfig(), dir: args.dir, hub: hubFlagValues(flags), onProgress: this.progress });
    if (!this.jsonEnabled()) process.stdout.write(result.notice);
    return result;
  }
}
