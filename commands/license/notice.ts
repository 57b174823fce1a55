import { resolve } from 'node:path';
import { Args } from '@oclif/core';
import { LlamaCommand } from '../../src/cli/base-command.ts';
import { ComplianceError } from '../../src/errors.ts';
import { resolveLineage, walkLineage } from '../../src/license/lineage.ts';
import { noticeLines, lineageLicenses, renderNotice } from '../../src/license/notice.ts';
import { hubAccess, hubFlagValues } from '../../src/license/hub-access.ts';
import { hubFlags } from '../../src/cli/hub-flags.ts';

export interface NoticeResult {
  notice: string;
  lines: Array<{ license: string; section: string; sentence: string }>;
}

export default class LicenseNotice extends LlamaCommand {
  static override summary = 'Print the NOTICE file the lineage requires.';
  static override description =
    'One exact upstream sentence per license version in the lineage (in lineage order: bases as configured, each followed by its own bases), then derivative.attribution. Exits 3 when an ancestor\'s license cannot be determined, since the NOTICE would be incomplete.';
  static override examples = ['<%= config.bin %> license notice > NOTICE', '<%= config.bin %> license notice ./out/Llama-3.1-8B-Acme --offline'];

  static override args = {
    dir: Args.string({ description: 'The derivative checkpoint directory (its card\'s base_model is used when the configuration names no bases).', required: false }),
  };

  static override flags = { ...hubFlags };

  async run(): Promise<NoticeResult> {
    const { args, flags } = await this.parseInput(LicenseNotice);
    const { config, baseDir } = await this.loadConfig();
    const access = await hubAccess(hubFlagValues(flags), this.progress);
    const lineage = await resolveLineage({
      baseModels: config.derivative?.baseModels ?? [],
      trainedOnOutputsOf: config.derivative?.trainedOnOutputsOf ?? [],
      baseDir,
      ...(args.dir !== undefined ? { derivativeDir: resolve(args.dir) } : {}),
      offline: access.offline,
      ...(access.hub ? { hub: access.hub } : {}),
      cacheDir: access.cacheDir,
      onProgress: this.progress,
    });
    const unknown = walkLineage(lineage).filter((n) => n.license === null);
    if (unknown.length > 0) {
      throw new ComplianceError('LICENSE_UNKNOWN', `The license of ${unknown.map((n) => n.ref).join(', ')} cannot be determined, so the NOTICE would be incomplete.`, {
        hint: 'Run `llama license check` for the reason and the fix for each ancestor.',
        details: { ancestors: unknown.map((n) => ({ ref: n.ref, problems: n.problems })) },
      });
    }
    const options = { distribution: config.derivative?.distribution ?? 'weights', ...(config.derivative?.attribution !== undefined ? { attribution: config.derivative.attribution } : {}) } as const;
    const notice = renderNotice(lineage, options);
    if (!this.jsonEnabled()) process.stdout.write(notice);
    return { notice, lines: noticeLines(lineageLicenses(lineage), options) };
  }
}
