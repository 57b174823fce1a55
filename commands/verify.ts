import { Args, Flags } from '@oclif/core';
import { LlamaCommand } from '../src/cli/base-command.ts';
import { IntegrityError } from '../src/errors.ts';
import { describeVerifiedFile, verify, type VerifyReport } from '../src/integrity/verify.ts';
import { registerSecret } from '../src/redact.ts';

export default class Verify extends LlamaCommand {
  static override summary = 'Re-hash pulled files against the lockfile (or the hub\'s tree) and report ok / mismatch / missing / extra.';
  static override description =
    'Checks DIR (a --local-dir folder or a cache snapshot; default the cache snapshot of the locked commit) file by file: sha256 against the lockfile, or, when the lockfile has no entry for the repo, sha256 / git sha1 against the hub\'s tree for the pinned commit. Exits 4 when any file is mismatched, missing or extra.';
  static override examples = ['<%= config.bin %> verify', '<%= config.bin %> verify ./model --lock llama.lock.json --json', '<%= config.bin %> verify ./model --repo meta-llama/Llama-3.2-1B'];
  static override args = {
    dir: Args.string({ description: 'Folder to check. Default: the cache snapshot of the locked commit.' }),
  };
  static override flags = {
    lock: Flags.string({ description: 'Lockfile. Default llama.lock.json when it exists.' }),
    repo: Flags.string({ description: 'Repo id, when the lockfile names several or none (then the hub\'s tree is used).' }),
    'cache-dir': Flags.string({ description: 'Hub cache folder. Default HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub.' }),
    token: Flags.string({ description: 'Hub token for the online check. Default HF_TOKEN, then the token file.' }),
    endpoint: Flags.string({ description: 'Hub URL for the online check. Default HF_ENDPOINT, then https://huggingface.co.' }),
    hub: Flags.boolean({ description: 'Also compare the lockfile with the hub\'s listing of the locked commit, as pull --frozen does (entries the hub lacks, hub files the lockfile lacks, a commit that is gone).' }),
  };

  async run(): Promise<VerifyReport> {
    const { args, flags } = await this.parseInput(Verify);
    registerSecret(flags.token);
    const report = await verify({
      ...(args.dir ? { dir: args.dir } : {}),
      ...(flags.lock ? { lockfile: flags.lock } : {}),
      ...(flags.repo ? { repo: flags.repo } : {}),
      ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}),
      ...(flags.token ? { token: flags.token } : {}),
      ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
      ...(flags.hub ? { hub: true } : {}),
      onProgress: this.progress,
    });
    for (const f of report.files) this.say(describeVerifiedFile(f));
    for (const problem of report.hubProblems ?? []) this.say(`lockfile ${problem}`);
    const c = report.counts;
    const hubPart = report.hubProblems ? `; lockfile vs hub: ${report.hubProblems.length} difference(s)` : '';
    this.say(`${report.repo}@${report.commit} against the ${report.against}: ${c.ok} ok, ${c.mismatch} mismatch, ${c.missing} missing, ${c.extra} extra${hubPart} (${report.dir})`);
    if (!report.ok) {
      const hubText = report.hubProblems?.length ? `; the lockfile differs from the hub in ${report.hubProblems.length} place(s)` : '';
      throw new IntegrityError('VERIFY_FAILED', `${report.repo}: ${c.mismatch} mismatched, ${c.missing} missing, ${c.extra} extra file(s) in ${report.dir}${hubText}.`, {
        hint: 'Run `llama pull` again to replace mismatched and missing files; remove extra files or pull them so the lockfile names them.',
        details: { report },
      });
    }
    return report;
  }
}
