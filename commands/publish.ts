import { Args, Flags } from '@oclif/core';
import { LlamaCommand } from '../src/cli/base-command.ts';
import { UsageError } from '../src/errors.ts';
import { publish, type PublishResult } from '../src/publish/index.ts';
import { registerSecret } from '../src/redact.ts';
import { formatBytes } from '../src/util/bytes.ts';

export default class Publish extends LlamaCommand {
  static override summary = 'Upload a package to a Hugging Face Hub repo (hf://) or push it to an OCI registry (oci://) as a model artifact.';
  static override description =
    'hf://ORG/NAME[@BRANCH]: creates the repo when missing, compares the package with the branch and commits only what differs (weights through LFS, at most --files-per-commit files per commit, each guarded by its parent commit), then tags the commit v<version> (or --tag). Rerunning after an interruption sends nothing the hub already has. ' +
    'oci://REGISTRY/REPO:TAG: pushes a CNCF ModelPack artifact (or, with --oci-format docker, Docker Model Runner\'s format), streaming each file as one layer, skipping blobs the registry has; the manifest digest is reproducible. Credentials come from --username/--password-stdin or the docker config (DOCKER_CONFIG, ~/.docker/config.json, credential helpers).';
  static override examples = [
    '<%= config.bin %> publish packages/Llama-3.2-1B-Acme-Q4_K_M-1.2.0.tar --to hf://acme/Llama-3.2-1B-Acme-GGUF',
    '<%= config.bin %> publish packages/Llama-3.2-1B-Acme-Q4_K_M-1.2.0.tar --to hf://acme/Llama-3.2-1B-Acme-GGUF --dry-run',
    '<%= config.bin %> publish packages/Llama-3.2-1B-Acme-Q4_K_M-1.2.0.tar --to oci://ghcr.io/acme/llama-3.2-1b-acme:1.2.0',
  ];
  static override args = {
    package: Args.string({ description: 'The package: the .tar `llama package` wrote, or its directory (or any model folder).', required: true }),
  };
  static override flags = {
    to: Flags.string({ description: 'Destination: hf://ORG/NAME[@BRANCH] or oci://REGISTRY/REPO:TAG.', required: true }),
    private: Flags.boolean({ description: 'hf: create the repo private (an existing repo keeps its visibility).' }),
    'create-pr': Flags.boolean({ description: 'hf: open a pull request instead of committing to the branch.' }),
    tag: Flags.string({ description: 'hf: tag for the published commit. Default v<package version>.' }),
    'dry-run': Flags.boolean({ description: 'Say what would be uploaded (and the OCI manifest digest); change nothing.' }),
    token: Flags.string({ description: 'hf: hub token with write access. Default HF_TOKEN, then the token file of `hf auth login`.' }),
    endpoint: Flags.string({ description: 'hf: hub URL. Default HF_ENDPOINT, then https://huggingface.co.' }),
    'files-per-commit': Flags.integer({ description: 'hf: most files in one commit (the hub advises 50-100).', min: 1, max: 1000, default: 100 }),
    'oci-format': Flags.string({ description: 'oci: artifact format.', options: ['modelpack', 'docker'], default: 'modelpack' }),
    'plain-http': Flags.boolean({ description: 'oci: speak HTTP, not HTTPS, to the registry (loopback registries always may).' }),
    username: Flags.string({ description: 'oci: registry user name (with --password-stdin).' }),
    'password-stdin': Flags.boolean({ description: 'oci: read the registry password or token from stdin.' }),
  };

  async run(): Promise<PublishResult> {
    const { args, flags } = await this.parseInput(Publish);
    registerSecret(flags.token);
    let password: string | undefined;
    if (flags['password-stdin']) {
      if (flags.username === undefined) throw new UsageError('PUBLISH_USAGE', '--password-stdin needs --username.', { hint: 'Give --username NAME --password-stdin and pipe the password in.' });
      password = (await readStdin()).replace(/\r?\n$/, '');
      registerSecret(password);
    }
    const result = await publish({
      source: args.package,
      to: flags.to,
      ...(flags.private ? { private: true } : {}),
      ...(flags['create-pr'] ? { createPr: true } : {}),
      ...(flags.tag !== undefined ? { tag: flags.tag } : {}),
      ...(flags['dry-run'] ? { dryRun: true } : {}),
      ...(flags.token !== undefined ? { token: flags.token } : {}),
      ...(flags.endpoint !== undefined ? { endpoint: flags.endpoint } : {}),
      filesPerCommit: flags['files-per-commit'],
      ociFormat: flags['oci-format'] as 'modelpack' | 'docker',
      ...(flags['plain-http'] ? { plainHttp: true } : {}),
      ...(flags.username !== undefined ? { username: flags.username } : {}),
      ...(password !== undefined ? { password } : {}),
      onProgress: this.progress,
    });
    if (result.kind === 'hf') {
      const r = result.hub;
      const count = (status: string): number => r.files.filter((f) => f.status === status).length;
      const dry = r.dryRun ? ' (dry run: nothing changed)' : '';
      if (r.created) this.say(`${r.dryRun ? 'would create' : 'created'} ${r.url}`);
      this.say(
        `${r.target}${dry}: ${r.files.length} file(s) — ${r.dryRun ? `${count('would-upload')} to upload` : `${count('uploaded')} uploaded`}, ${count('unchanged')} already on the hub; ${formatBytes(r.bytesUploaded)} sent in ${r.commits.length} commit(s)`,
      );
      for (const c of r.commits) this.say(`commit ${c.oid} (${c.files} file(s))${c.recoveredAfterTimeout ? ' — made by the hub although its answer timed out' : ''}`);
      if (r.pullRequestUrl) this.say(`pull request: ${r.pullRequestUrl}`);
      if (r.tag) this.say(`tag ${r.tag.name}: ${r.tag.status}${r.tag.commit ? ` at ${r.tag.commit}` : ''}${r.tag.note ? ` (${r.tag.note})` : ''}`);
      if (r.remoteOnly.length > 0) this.say(`left on the hub (not in the package): ${r.remoteOnly.join(', ')}`);
      this.say(`url: ${r.url}`);
    } else {
      const r = result.oci;
      const dry = r.dryRun ? ' (dry run: nothing pushed)' : '';
      this.say(`${r.reference}${dry}: ${r.format} artifact, ${r.layers.length} layer(s); ${r.dryRun ? '' : `${r.blobs.uploaded} blob(s) uploaded, ${r.blobs.present} already there, ${r.blobs.mounted} mounted; ${formatBytes(r.bytesUploaded)} sent`}`);
      this.say(`manifest digest: ${r.manifestDigest}`);
      if (r.signature) this.say(`signature: ${r.signature.digest} (${r.signature.via})`);
    }
    return result;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
