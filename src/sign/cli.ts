/**
 * What `llama sign` and `llama verify --signature` print, kept beside the library so the commands stay thin and
 * commands/verify.ts only needs one branch. Lines say what was checked in this run and nothing more.
 */
import { IntegrityError, UsageError } from '../errors.ts';
import type { ProgressSink } from '../progress/events.ts';
import { formatBytes } from '../util/bytes.ts';
import type { SignResult } from './sign.ts';
import { verifyModelSignature, type SignatureVerifyReport } from './verify.ts';

const HASH_NAMES = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' } as const;

export function signSummary(result: SignResult): string[] {
  const who = result.method === 'key' ? `key ${result.keyHint}` : `certificate ${result.signer}`;
  return [
    `Signed ${result.files} file(s), ${formatBytes(result.bytes)}, of ${result.kind === 'package' ? `package ${result.model} (as its folder ${result.modelName}/)` : result.model}`,
    `  method ${result.method}, ${result.curve} with ${HASH_NAMES[result.hash]}, ${who}`,
    `  root digest sha256:${result.rootDigest}; ignored paths: ${result.ignorePaths.join(', ')}`,
    `Signature (OpenSSF Model Signing v1.0, Sigstore bundle v0.3): ${result.signaturePath}`,
  ];
}

export function verificationLines(report: SignatureVerifyReport): string[] {
  const lines = report.files.map((f) => {
    const why = f.status === 'mismatch' ? ` (signed ${f.expected}, found ${f.actual})` : '';
    return `${f.status.padEnd(8)} ${f.name}${why}`;
  });
  const signer = report.method === 'key' ? `key ${report.keyHint}` : `certificate chain ${report.certificatePath?.join(' → ')}`;
  const c = report.counts;
  lines.push(`Signature valid (${report.method} method, ${report.curve}, ${signer}); files against it (${report.serialization.hash_type}): ${c.ok} ok, ${c.mismatch} mismatch, ${c.missing} missing, ${c.extra} unsigned${report.ignoreUnsignedFiles ? ' (unsigned files allowed)' : ''} (${report.model})`);
  return lines;
}

export interface SignatureCheckInput {
  dir: string | undefined;
  signature: string;
  key?: string;
  certChain?: string;
  ignore?: string[];
  ignoreUnsignedFiles?: boolean;
  onProgress?: ProgressSink;
}

/** `llama verify DIR --signature …`: check, print through `say`, and throw an IntegrityError when anything fails. */
export async function verifySignatureForCli(input: SignatureCheckInput, say: (line: string) => void): Promise<SignatureVerifyReport> {
  if (input.dir === undefined) {
    throw new UsageError('SIGNATURE_NEEDS_DIR', '--signature needs the model folder to check.', { hint: 'Run `llama verify DIR --signature model.sig --key PUB.pem`.' });
  }
  if ((input.key === undefined) === (input.certChain === undefined)) {
    throw new UsageError('SIGNATURE_NEEDS_TRUST', '--signature needs exactly one of --key (the signer\'s public key) and --cert-chain (the CA certificates you trust).', {
      hint: 'Run `llama verify DIR --signature model.sig --key PUB.pem` or `… --cert-chain CA.pem`.',
    });
  }
  const report = await verifyModelSignature({
    model: input.dir,
    signaturePath: input.signature,
    ...(input.key !== undefined ? { publicKeyPath: input.key } : {}),
    ...(input.certChain !== undefined ? { caChainPath: input.certChain } : {}),
    ...(input.ignore ? { ignorePaths: input.ignore } : {}),
    ...(input.ignoreUnsignedFiles ? { ignoreUnsignedFiles: true } : {}),
    ...(input.onProgress ? { onProgress: input.onProgress } : {}),
  });
  for (const line of verificationLines(report)) say(line);
  if (!report.ok) {
    const c = report.counts;
    throw new IntegrityError('SIGNATURE_MODEL_MISMATCH', `${report.model} does not match its signature: ${c.mismatch} changed, ${c.missing} missing, ${c.extra} unsigned file(s).`, {
      hint: c.extra > 0 && c.mismatch === 0 && c.missing === 0
        ? 'Remove the files the signature does not cover, --ignore them, or pass --ignore-unsigned-files to check only the signed files.'
        : 'Do not use this model: get it again from the publisher.',
      details: { report },
    });
  }
  return report;
}
