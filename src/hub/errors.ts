/**
 * Turn a hub answer into a typed error. The hub tells its states apart by status plus the `X-Error-Code` and
 * `X-Error-Message` headers (table in ../shared/research/hub-protocol.md §2.5, after huggingface_hub's
 * `hf_raise_for_status`); `@huggingface/hub` drops those headers (§1.4), so our fetch wrapper and the transfer
 * engine call this with the raw response.
 */
import { AccessError, type LlamaError, NetworkError, UsageError } from '../errors.ts';

export interface HubAnswer {
  status: number;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  /** Body text (truncated) when the headers say nothing. */
  body?: string;
  url: string;
}

export interface HubErrorContext {
  endpoint: string;
  repo: string;
  revision?: string;
  path?: string;
  tokenGiven: boolean;
  /** Where the token came from ("HF_TOKEN", "--token", "the token file …"), for messages; never the token. */
  tokenSource?: string;
}

/** 429, 5xx: worth another try after a pause. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status <= 599);
}

const TOKEN_HINT = 'Pass a token with --token, set HF_TOKEN, or run `hf auth login`.';

function fromWhere(ctx: HubErrorContext): string {
  return ctx.tokenSource ? ` from ${ctx.tokenSource}` : '';
}

/** A non-retryable error for a hub answer that is not 2xx/3xx, or undefined for a retryable one. */
export function hubError(answer: HubAnswer, ctx: HubErrorContext): LlamaError | undefined {
  if (isRetryableStatus(answer.status)) return undefined;
  const code = answer.errorCode ?? '';
  const text = `${answer.errorMessage ?? ''} ${answer.body ?? ''}`;
  const repoUrl = `${ctx.endpoint}/${ctx.repo}`;
  const details: Record<string, unknown> = { repo: ctx.repo, status: answer.status };
  if (code) details.hubErrorCode = code;
  if (ctx.path) details.path = ctx.path;
  if (ctx.tokenSource) details.tokenSource = ctx.tokenSource;

  if (answer.status === 401 && /invalid credentials|invalid token|invalid user token/i.test(text)) {
    return new AccessError('HUB_INVALID_TOKEN', `The hub rejected the token${fromWhere(ctx)}: it is invalid or expired.`, {
      hint: `Create a new read token at ${ctx.endpoint}/settings/tokens and pass it with --token or HF_TOKEN.`,
      details,
    });
  }
  if (code === 'GatedRepo') {
    if (!ctx.tokenGiven || answer.status === 401) {
      return new AccessError('HUB_GATED', `gated: accept the license at ${repoUrl}, then pass a token.`, {
        hint: `${repoUrl} is gated. Log in there, accept its license, then ${TOKEN_HINT.charAt(0).toLowerCase()}${TOKEN_HINT.slice(1)}`,
        details,
      });
    }
    if (/awaiting a review|pending/i.test(text)) {
      return new AccessError('HUB_GATED_PENDING', `Your request to access ${ctx.repo} is awaiting review by its authors.`, {
        hint: `Wait for the approval e-mail (status at ${repoUrl}), then run the command again.`,
        details,
      });
    }
    if (/rejected/i.test(text)) {
      return new AccessError('HUB_GATED_REJECTED', `Your request to access ${ctx.repo} was rejected by its authors.`, {
        hint: `See ${repoUrl}; only the repo authors can grant access.`,
        details,
      });
    }
    return new AccessError('HUB_NOT_AUTHORIZED', `The token is not authorized for the gated repo ${ctx.repo}.`, {
      hint: `Accept the license at ${repoUrl} with the account that owns the token, or use a token of an account that has access (fine-grained tokens need "read access to public gated repos").`,
      details,
    });
  }
  if (code === 'RevisionNotFound') {
    return new UsageError('HUB_REVISION_NOT_FOUND', `Revision "${ctx.revision ?? '?'}" not found in ${ctx.repo}.`, {
      hint: `Check the branch, tag or commit at ${repoUrl}/tree/main; pass it with --revision.`,
      details,
    });
  }
  if (code === 'EntryNotFound') {
    return new UsageError('HUB_ENTRY_NOT_FOUND', `File "${ctx.path ?? '?'}" not found in ${ctx.repo}${ctx.revision ? ` at ${ctx.revision}` : ''}.`, {
      hint: `List the repo's files at ${repoUrl}/tree/main and check the path.`,
      details,
    });
  }
  if (code === 'RepoNotFound' || answer.status === 404 || (answer.status === 401 && !ctx.tokenGiven)) {
    return new UsageError('HUB_REPO_NOT_FOUND', `Repository ${ctx.repo} not found${ctx.tokenGiven ? '' : ' (or it is private)'}.`, {
      hint: ctx.tokenGiven
        ? `Check the name at ${ctx.endpoint}; if the repo is private, use a token of an account that can see it.`
        : `Check the name; if the repo is private, ${TOKEN_HINT.charAt(0).toLowerCase()}${TOKEN_HINT.slice(1)}`,
      details,
    });
  }
  if (answer.status === 401) {
    return new AccessError('HUB_INVALID_TOKEN', `The hub rejected the token${fromWhere(ctx)} (401).`, {
      hint: `Create a new read token at ${ctx.endpoint}/settings/tokens and pass it with --token or HF_TOKEN.`,
      details,
    });
  }
  if (answer.status === 403) {
    return new AccessError('HUB_FORBIDDEN', `The hub refused access to ${ctx.repo} (403${answer.errorMessage ? `: ${answer.errorMessage}` : ''}).`, {
      hint: `Check that the token's account can read ${repoUrl}; fine-grained tokens need read access to this repo (or to public gated repos).`,
      details,
    });
  }
  return new NetworkError('HUB_BAD_RESPONSE', `The hub answered ${answer.status} for ${ctx.repo}${ctx.path ? `/${ctx.path}` : ''}.`, {
    hint: 'Try again later; if it persists, check --endpoint / HF_ENDPOINT.',
    details,
  });
}
