import { Args, Flags } from '@oclif/core';
import { LlamaCommand } from '../src/cli/base-command.ts';
import { describeVerify, verify, verifyFailure, type VerifyReport } from '../src/integrity/verify.ts';
import { registerSecret } from '../src/redact.ts';
import { verifySignatureForCli } from '../src/sign/cli.ts';
import type { SignatureVerifyReport } from '../src/sign/verify.ts';

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
    // Model signatures (OpenSSF Model Signing v1.0): src/sign/.
    signature: Flags.string({ description: 'Check DIR against this model signature (model.sig, OpenSSF Model Signing v1.0) instead of a lockfile.' }),
    key: Flags.string({ description: 'With --signature: the signer\'s EC public key, PEM.', exclusive: ['cert-chain'], dependsOn: ['signature'] }),
    'cert-chain': Flags.string({ description: 'With --signature: the CA certificates you trust, PEM.', exclusive: ['key'], dependsOn: ['signature'] }),
    ignore: Flags.string({ description: 'With --signature: a path in DIR to leave out, besides those the signature records. Repeatable.', multiple: true, dependsOn: ['signature'] }),
    'ignore-unsigned-files': Flags.boolean({ description: 'With --signature: check only the files the signature lists.', dependsOn: ['signature'] }),
  };

  async run(): Promise<VerifyReport | SignatureVerifyReport> {
    const { args, flags } = await this.parseInput(Verify);
    if (flags.signature !== undefined) {
      return verifySignatureForCli(
        { dir: args.dir, signature: flags.signature, key: flags.key, certChain: flags['cert-chain'], ignore: flags.ignore, ignoreUnsignedFiles: flags['ignore-unsigned-files'], onProgress: this.progress },
        (line) => this.say(line),
      );
    }
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
      signal: this.abortSignal,
    });
    for (const line of describeVerify(report)) this.say(line);
    const failure = verifyFailure(report);
    if (failure) throw failure;
    return report;
  }
}
