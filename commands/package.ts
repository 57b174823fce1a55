import { Args, Flags } from '@oclif/core';
import { LlamaCommand } from '../src/cli/base-command.ts';
import { hubFlags } from '../src/cli/hub-flags.ts';
import { packageDerivative, type PackageFormat } from '../src/package/package.ts';
import type { PackageFinding } from '../src/package/types.ts';
import type { BumpKind } from '../src/package/version.ts';

export interface PackageCommandResult {
  name: string;
  version: string;
  format: PackageFormat;
  path: string;
  sha256?: string;
  size?: number;
  sha256File?: string;
  files: number;
  findings: PackageFinding[];
  notes: string[];
  /** The user's model card the README.md was made from, and each change made to it. */
  card: { source?: string; changes: string[] };
}

export default class Package extends LlamaCommand {
  static override summary = 'Package a derivative with the license files, NOTICE, model card, manifest and ML-BOM its lineage requires.';
  static override description =
    'Runs the checks of `llama license check` first and stops with exit 3 on a blocking finding that is not waived, writing nothing. Then stages INPUT (files land at the package root, directories contribute their contents; SOURCE=DEST places one elsewhere), emits the verbatim LICENSE / USE_POLICY texts, NOTICE, a README.md card with Hugging Face metadata (an input README.md is kept: its text and metadata, with the license metadata and the required "Built with" line added or corrected, each change listed), bom.cdx.json and manifest.json, refuses any file that holds a token this machine knows (or, in text, anything shaped like one), and writes a reproducible tar (sorted entries, mtime from SOURCE_DATE_EPOCH or 1985-10-26T08:15:00Z, owner 0:0, modes 0644/0755) with a .sha256 file beside it, or a directory with --format dir.';
  static override examples = [
    '<%= config.bin %> package ./out/Llama-3.2-1B-Acme-Q4_K_M.gguf --version 1.0.0',
    '<%= config.bin %> package ./checkpoint --bump patch --out ./release',
    '<%= config.bin %> package model.gguf=weights/model.gguf --format dir --json',
  ];
  static override strict = false;

  static override args = {
    input: Args.string({ description: 'Files or directories of the derivative (GGUF files, a safetensors checkpoint, an adapter); SOURCE=DEST to place one inside the package.', required: true }),
  };

  static override flags = {
    out: Flags.string({ description: 'Directory the package is written to (default: package.out in the configuration, else ./packages).' }),
    name: Flags.string({ description: 'Name the derivative is distributed under (default: derivative.name).' }),
    version: Flags.string({ description: 'Semantic version of this package (default: derivative.version).', exclusive: ['bump'] }),
    bump: Flags.string({ description: 'Increment the newest version already in --out (else derivative.version).', options: ['patch', 'minor', 'major'], exclusive: ['version'] }),
    format: Flags.string({ description: 'A tar archive, or a plain directory (default: package.format, else tar).', options: ['tar', 'dir'] }),
    ...hubFlags,
    offline: Flags.boolean({ description: 'Resolve the lineage from local checkpoints and the Hugging Face cache only (also HF_HUB_OFFLINE=1).', default: undefined }),
  };

  async run(): Promise<PackageCommandResult> {
    const { argv, flags } = await this.parseInput(Package);
    const result = await packageDerivative({
      inputs: argv as string[],
      ...(flags.config !== undefined ? { configFile: flags.config } : {}),
      ...(flags.out !== undefined ? { out: flags.out } : {}),
      ...(flags.name !== undefined ? { name: flags.name } : {}),
      ...(flags.version !== undefined ? { version: flags.version } : {}),
      ...(flags.bump !== undefined ? { bump: flags.bump as BumpKind } : {}),
      ...(flags.format !== undefined ? { format: flags.format as PackageFormat } : {}),
      ...(flags.offline !== undefined ? { offline: flags.offline } : {}),
      ...(flags.endpoint !== undefined ? { endpoint: flags.endpoint } : {}),
      ...(flags.token !== undefined ? { token: flags.token } : {}),
      ...(flags['cache-dir'] !== undefined ? { cacheDir: flags['cache-dir'] } : {}),
      onProgress: this.progress,
      signal: this.abortSignal,
    });

    for (const finding of result.findings) {
      const state = finding.waived ? `waived (${finding.waived.reason})` : finding.severity;
      this.say(`${finding.id} [${state}]: ${finding.message}`);
    }
    if (result.card.source !== undefined) {
      const count = result.card.changes.length;
      if (count === 0) this.say(`Model card: kept ${result.card.source}; its text and metadata needed no change (the package's own section follows it).`);
      else this.say(`Model card: kept ${result.card.source}, with ${count} change${count === 1 ? '' : 's'}:`);
      for (const change of result.card.changes) this.say(`  ${change}`);
    }
    this.say(`Packaged ${result.name} ${result.version}: ${result.path}`);
    if (result.sha256 !== undefined) this.say(`sha256 ${result.sha256}  (${result.sha256File})`);
    return {
      name: result.name,
      version: result.version,
      format: result.format,
      path: result.path,
      ...(result.sha256 !== undefined ? { sha256: result.sha256 } : {}),
      ...(result.size !== undefined ? { size: result.size } : {}),
      ...(result.sha256File !== undefined ? { sha256File: result.sha256File } : {}),
      files: result.manifest.files.length + 1,
      findings: result.findings,
      notes: result.notes,
      card: result.card,
    };
  }
}
