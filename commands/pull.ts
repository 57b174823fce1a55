import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { UsageError } from '../src/errors.ts';
import { LlamaCommand } from '../src/cli/base-command.ts';
import { registerSecret } from '../src/redact.ts';
import { formatBytes } from '../src/util/bytes.ts';
import { describePull, resolvePullOptions } from '../src/transfer/options.ts';
import { pull, type PullResult } from '../src/transfer/pull.ts';
import { pullFromRegistry, type OciPullResult } from '../src/publish/oci-pull.ts';
import { describeMetaPull, pullMeta, type MetaPullResult } from '../src/meta/pull.ts';

export default class Pull extends LlamaCommand {
  static override summary = 'Download a model repo at one pinned commit, verifying every byte, into the HF cache or a folder.';
  static override description =
    'Resolves --revision to a commit, lists its files with their hashes, and downloads them with parallel, resumable range requests; every file is checked against the hub\'s sha256 (LFS) or git sha1 before it is placed. A copy already here counts as verified only if it is hashed now or is unchanged (device, inode, size, mtime, ctime) since it was last hashed; one that fails is removed and downloaded again. Interrupted runs resume. Files land in the Hugging Face cache layout (usable by transformers and hf) unless --local-dir is given. The lockfile records the commit and every file\'s size and sha256; --frozen reproduces it exactly. When the repo has *.safetensors weights, duplicate formats (*.bin, *.pth, *.pt, consolidated.*, original/) are skipped unless PATHS or --include ask for them.';
  static override examples = [
    '<%= config.bin %> pull meta-llama/Llama-3.2-1B',
    '<%= config.bin %> pull meta-llama/Llama-3.2-1B config.json tokenizer.json --local-dir ./model',
    '<%= config.bin %> pull meta-llama/Llama-3.2-1B --frozen --lock release/llama.lock.json',
    "<%= config.bin %> pull meta:Llama-3.2-1B --url 'https://llama3-2.llamameta.net/*?Policy=…&Signature=…&Key-Pair-Id=…' --local-dir ./Llama-3.2-1B",
  ];
  static override strict = false;
  static override args = {
    repo: Args.string({ description: 'Model repo id (org/name), oci://REGISTRY/REPO:TAG for a model artifact, or meta:MODEL for the download Meta e-mails a link for (with --url or --manifest).', required: true }),
    paths: Args.string({ description: 'Files or folders (dir/) to fetch; default the whole repo. More may follow.' }),
  };
  static override flags = {
    revision: Flags.string({ char: 'r', description: 'Branch, tag or 40-hex commit (default main); resolved to one commit first.' }),
    include: Flags.string({ description: 'Only files matching this glob (fnmatch, as hf download). Repeatable.', multiple: true }),
    exclude: Flags.string({ description: 'Skip files matching this glob. Repeatable.', multiple: true }),
    'local-dir': Flags.string({ description: 'Put plain files in this folder (bookkeeping in DIR/.cache/huggingface/).' }),
    'cache-dir': Flags.string({ description: 'Hub cache folder. Default HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub.' }),
    token: Flags.string({ description: 'Hub token. Default HF_TOKEN, then the token file of `hf auth login`.' }),
    endpoint: Flags.string({ description: 'Hub URL. Default HF_ENDPOINT, then https://huggingface.co.' }),
    lock: Flags.string({ description: 'Lockfile to create or update. Default: pull.lock in the configuration, else llama.lock.json.' }),
    frozen: Flags.boolean({ description: 'Fetch exactly what the lockfile pins and re-hash every file; exit 4 if the hub or the disk differs; never update it.' }),
    'force-download': Flags.boolean({ description: 'Download every file again even when a verified copy is here (as hf download --force-download).' }),
    concurrency: Flags.integer({ description: 'Connections in all, at most 8 to one file. Default: pull.concurrency in the configuration, else 32.', min: 1, max: 64 }),
    url: Flags.string({ description: "meta:MODEL only: the presigned link from Meta's e-mail (in single quotes). Its query string is a secret: never printed or locked." }),
    manifest: Flags.string({ description: "meta:MODEL only: llama-stack's manifest file (JSON with models[].files and expires_on) instead of --url." }),
    offline: Flags.boolean({ description: 'No network (also HF_HUB_OFFLINE=1): succeed from the cache/local dir when the locked files are there and verify.' }),
  };

  async run(): Promise<PullResult | OciPullResult | MetaPullResult> {
    const { args, argv, flags } = await this.parseInput(Pull);
    registerSecret(flags.token);
    if (args.repo.startsWith('meta:')) {
      // Meta's presigned download: every file checked against checklist.chk (md5), sha256 locked.
      const { config, baseDir } = await this.loadConfig();
      const lock = flags.lock ?? (config.pull?.lock !== undefined ? resolve(baseDir, config.pull.lock) : undefined);
      const meta = await pullMeta({
        modelId: args.repo.slice('meta:'.length),
        ...(flags.url !== undefined ? { url: flags.url } : {}),
        ...(flags.manifest !== undefined ? { manifest: flags.manifest } : {}),
        ...(flags['local-dir'] ? { localDir: flags['local-dir'] } : {}),
        ...(lock ? { lockfile: lock } : {}),
        forceDownload: flags['force-download'],
        ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : config.pull?.concurrency !== undefined ? { concurrency: config.pull.concurrency } : {}),
        onProgress: this.progress,
        signal: this.abortSignal,
      });
      for (const line of describeMetaPull(meta)) this.say(line);
      return meta;
    }
    if (flags.url !== undefined || flags.manifest !== undefined) {
      throw new UsageError('FLAG_NEEDS_META', '--url and --manifest are for Meta downloads only (llama pull meta:MODEL --url …).', {
        hint: 'Drop the flag, or name the model as meta:MODEL.',
      });
    }
    if (args.repo.startsWith('oci://')) {
      // An OCI model artifact (llama publish --to oci://…): credentials from the docker config; every digest checked.
      const oci = await pullFromRegistry({ reference: args.repo, ...(flags['local-dir'] ? { localDir: flags['local-dir'] } : {}), onProgress: this.progress, signal: this.abortSignal });
      this.say(`${oci.reference}@${oci.manifestDigest}: ${oci.files.length} file(s) verified by digest, ${formatBytes(oci.bytesDownloaded)} transferred${oci.signature ? '; signature: model.sig' : ''}`);
      this.say(`files: ${oci.dir}`);
      return oci;
    }
    const { config, baseDir } = await this.loadConfig();
    const options = resolvePullOptions(
      {
        repo: args.repo,
        paths: (argv as string[]).slice(1),
        ...(flags.revision ? { revision: flags.revision } : {}),
        ...(flags.include ? { include: flags.include } : {}),
        ...(flags.exclude ? { exclude: flags.exclude } : {}),
        ...(flags['local-dir'] ? { localDir: flags['local-dir'] } : {}),
        ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}),
        ...(flags.token ? { token: flags.token } : {}),
        ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
        ...(flags.lock ? { lock: flags.lock } : {}),
        frozen: flags.frozen,
        forceDownload: flags['force-download'],
        ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
        offline: flags.offline,
      },
      { settings: config.pull, baseDir },
    );
    const result = await pull({ ...options, onProgress: this.progress, signal: this.abortSignal });
    for (const line of describePull(result)) this.say(line);
    return result;
  }
}
