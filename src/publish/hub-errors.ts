/**
 * Publishing's typed errors. The hub client's fetch (src/hub/client.ts) already turns answers into errors with a
 * reader's wording ("not authorized for the gated repo", "refused access"); a writer needs other words and hints, so
 * those are re-told here by status and code. Facts on the Hub's answers to writes: a read token or someone else's
 * namespace on create → 403 "You don't have the rights to create a model under this namespace" (huggingface_hub
 * PR #2053); a push with a token that can read but not write → 403 "Forbidden: pass create_pr=1" (observed in
 * Desert-Ant-Labs/desert-ant-core PR #121, 2026); a disabled repo → "Access to this resource is disabled."
 * (../shared/research/hub-protocol.md §2.5).
 */
import { HubApiError } from '@huggingface/hub';
import { AccessError, IntegrityError, isLlamaError, NetworkError, UsageError, type LlamaError } from '../errors.ts';

export interface PublishErrorContext {
  repo: string;
  endpoint: string;
  /** Where the token came from, never the token. */
  tokenSource: string | undefined;
  /** What was being done: 'create' the repo, 'upload' files, 'commit', 'tag'. */
  step: 'create' | 'upload' | 'commit' | 'tag' | 'read';
}

const WRITE_TOKEN_HINT = (endpoint: string, repo: string): string =>
  `Use a token with the write role (${endpoint}/settings/tokens), or a fine-grained token with write access to ${repo.split('/')[0] ?? repo}'s repos; pass it with --token or HF_TOKEN.`;

function statusOf(error: LlamaError): number | undefined {
  const status = error.details?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Re-tell an error met while publishing in a publisher's terms; anything else passes through unchanged. */
export function publishError(error: unknown, ctx: PublishErrorContext): unknown {
  if ((error as Error)?.name === 'AbortError') return error;
  const from = ctx.tokenSource ? ` from ${ctx.tokenSource}` : '';
  const repoUrl = `${ctx.endpoint}/${ctx.repo}`;
  if (isLlamaError(error)) {
    if (error.code.startsWith('PUBLISH_')) return error;
    const status = statusOf(error);
    const text = error.message;
    if (/disabled/i.test(text) && status === 403) {
      return new AccessError('PUBLISH_REPO_LOCKED', `${ctx.repo} is disabled (locked) on the hub: it accepts no writes.`, {
        hint: `See ${repoUrl}; only the hub's staff or the repo's owners can lift it.`,
        details: { repo: ctx.repo, status },
      });
    }
    if (ctx.step === 'create' && status === 409) {
      return new UsageError('PUBLISH_NAME_TAKEN', `The name ${ctx.repo} is taken by a repo the token${from} cannot see or write.`, {
        hint: 'Choose another name (--to hf://ORG/OTHER-NAME), or use a token of an account with access to it.',
        details: { repo: ctx.repo, status },
      });
    }
    if (ctx.step === 'create' && status === 403) {
      return new AccessError('PUBLISH_NAMESPACE_FORBIDDEN', `The token${from} may not create repos under ${ctx.repo.split('/')[0]}.`, {
        hint: WRITE_TOKEN_HINT(ctx.endpoint, ctx.repo),
        details: { repo: ctx.repo, status },
      });
    }
    if (error.code.startsWith('HUB_GATED') || error.code === 'HUB_NOT_AUTHORIZED' || error.code === 'HUB_FORBIDDEN') {
      return new AccessError('PUBLISH_NOT_WRITABLE', `The token${from} cannot write to ${ctx.repo}${error.code.startsWith('HUB_GATED') || error.code === 'HUB_NOT_AUTHORIZED' ? ' (a gated repo of another account)' : ''}.`, {
        hint: `${WRITE_TOKEN_HINT(ctx.endpoint, ctx.repo)} To propose the files to a repo you cannot push to, add --create-pr.`,
        details: { repo: ctx.repo, ...(status !== undefined ? { status } : {}), hubCode: error.code },
      });
    }
    if (status === 413) {
      return new NetworkError('PUBLISH_TOO_LARGE', `The hub refused a request to ${ctx.repo} as too large (413) while it was ${ctx.step === 'commit' ? 'committing' : 'uploading'}.`, {
        hint: 'Publish with fewer files per commit (--files-per-commit), or split big weights with `llama quantize --split-max-size`.',
        details: { repo: ctx.repo, status },
      });
    }
    if (status === 412) {
      return new NetworkError('PUBLISH_CONFLICT', `Someone else pushed to ${ctx.repo} while this publish ran, so the hub refused its commit (412).`, {
        hint: 'Run the same command again: publish compares with what the hub has and sends only what is missing.',
        details: { repo: ctx.repo, status },
      });
    }
    return error;
  }
  if (error instanceof HubApiError) {
    const status = error.statusCode;
    if (status === 403) return publishError(new AccessError('HUB_FORBIDDEN', error.message, { details: { status } }), ctx);
    return new NetworkError('PUBLISH_HUB_ERROR', `The hub refused part of the publish to ${ctx.repo}: ${error.message.replace(/\. URL: .*$/, '')}.`, {
      hint: 'Run the command again (it sends only what the hub lacks); if it keeps failing, check the hub status page.',
      details: { repo: ctx.repo, status },
      cause: error,
    });
  }
  return error;
}

export function uploadRejected(path: string, status: number, body: string): IntegrityError {
  return new IntegrityError('PUBLISH_UPLOAD_REJECTED', `The hub's storage refused the bytes of ${path} (${status}${/BadDigest/.test(body) ? ': they do not hash to the announced sha256' : ''}).`, {
    hint: 'The file may have changed while it was being uploaded; make sure nothing writes to the package and run again.',
    details: { path, status },
  });
}
