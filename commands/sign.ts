import { Args, Flags } from '@oclif/core';
import { LlamaCommand } from '../src/cli/base-command.ts';
import { registerSecret } from '../src/redact.ts';
import { signSummary } from '../src/sign/cli.ts';
import { signModel, type SignResult } from '../src/sign/sign.ts';

export default class Sign extends LlamaCommand {
  static override summary = 'Sign a model folder or a package tar as an OpenSSF Model Signing v1.0 signature (model.sig), with an EC key or a certificate chain.';
  static override description =
    'Hashes every file (sha256; .git, .gitattributes, .github, .gitignore and --ignore paths left out and recorded), signs the in-toto statement of the file digests with the key (P-256, P-384 or P-521; SHA-256/384/512 by curve) in a DSSE envelope, and writes a Sigstore bundle v0.3 that `llama verify --signature` and `model_signing verify` accept. A package .tar is signed as the folder it extracts to (NAME-VERSION/), and the signature goes beside it. An encrypted key reads its passphrase from LLAMA_SIGN_KEY_PASSPHRASE. Keyless Sigstore signing (Fulcio/Rekor) is not available.';
  static override examples = [
    '<%= config.bin %> sign ./Llama-3.2-1B-Acme --key signing-key.pem',
    '<%= config.bin %> sign ./packages/acme-1.0.0.tar --key signing-key.pem --cert-chain signing-chain.pem',
    '<%= config.bin %> sign ./model --key key.pem --ignore notes.txt --out ./model.sig --json',
  ];
  static override args = {
    model: Args.string({ description: 'Model folder, or a .tar written by `llama package`.', required: true }),
  };
  static override flags = {
    key: Flags.string({ description: 'EC private key, PEM (P-256, P-384 or P-521).', required: true }),
    'cert-chain': Flags.string({ description: 'Certificates, PEM: the key\'s signing certificate first, then its CA chain (the certificate method).' }),
    ignore: Flags.string({ description: 'Path inside the model folder to leave out (recorded in the signature). Repeatable.', multiple: true }),
    out: Flags.string({ description: 'Where the signature goes (default DIR/model.sig, or PACKAGE.sig beside a tar).' }),
  };

  async run(): Promise<SignResult> {
    const { args, flags } = await this.parseInput(Sign);
    const passphrase = process.env.LLAMA_SIGN_KEY_PASSPHRASE;
    registerSecret(passphrase);
    const result = await signModel({
      model: args.model,
      keyPath: flags.key,
      ...(flags['cert-chain'] !== undefined ? { certChainPath: flags['cert-chain'] } : {}),
      ...(passphrase ? { passphrase } : {}),
      ...(flags.ignore ? { ignorePaths: flags.ignore } : {}),
      ...(flags.out !== undefined ? { out: flags.out } : {}),
      onProgress: this.progress,
    });
    for (const line of signSummary(result)) this.say(line);
    return result;
  }
}
