/**
 * The shapes of hub identifiers, written once: a commit is 40 lowercase hex digits (the hub's `sha`), a model repo
 * id is `org/name` or a canonical `name` (huggingface_hub `validate_repo_id`: letters, digits, `.`, `_`, `-`; no
 * `--` or `..`, which the cache layout and URLs cannot tell apart), and `org/name@revision` names a revision.
 */
import { UsageError } from '../errors.ts';

export const COMMIT_PATTERN = /^[0-9a-f]{40}$/;

export function isCommit(value: string): boolean {
  return COMMIT_PATTERN.test(value);
}

const REPO_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

export function isRepoId(value: string): boolean {
  return REPO_ID_PATTERN.test(value) && !value.includes('..') && !value.includes('--') && value.length <= 96;
}

/** A model repo id, `org/name` (or a canonical `name`); UsageError REPO_INVALID otherwise. */
export function checkRepoId(repo: string): string {
  if (!isRepoId(repo)) {
    throw new UsageError('REPO_INVALID', `"${repo}" is not a model repo id.`, {
      hint: 'Name the repo as org/name, for example meta-llama/Llama-3.2-1B.',
    });
  }
  return repo;
}

/** `org/name` or `org/name@revision` (the revision a branch, tag or commit) → its parts; undefined for anything else. */
export function parseRepoRef(input: string): { repo: string; revision?: string } | undefined {
  const at = input.indexOf('@');
  const repo = at < 0 ? input : input.slice(0, at);
  const revision = at < 0 ? undefined : input.slice(at + 1);
  if (!repo.includes('/') || !isRepoId(repo)) return undefined;
  if (revision !== undefined && !/^[\w.][\w./-]*$/.test(revision)) return undefined;
  return revision === undefined ? { repo } : { repo, revision };
}
