/**
 * Where a release goes: `hf://ORG/NAME[@REVISION]` (a Hugging Face Hub model repo, the branch to commit to) or
 * `oci://REGISTRY/REPO[:TAG|@sha256:…]` (an OCI registry; REGISTRY is `host[:port]`, REPO lowercase path components
 * as the distribution spec's `<name>` grammar allows).
 */
import { UsageError } from '../errors.ts';
import { parseRepoRef } from '../hub/ids.ts';

export interface HubTarget {
  kind: 'hf';
  repo: string;
  /** The branch commits go to (default main). */
  branch: string;
}

export interface OciTarget {
  kind: 'oci';
  registry: string;
  repository: string;
  /** A tag, or undefined when a digest names the manifest. */
  tag: string | undefined;
  digest: string | undefined;
}

export type PublishTarget = HubTarget | OciTarget;

// distribution/reference: path components [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*, separated by '/'.
const OCI_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const OCI_TAG = /^[\w][\w.-]{0,127}$/;
const OCI_DIGEST = /^sha256:[0-9a-f]{64}$/;

function usage(input: string, why: string, hint: string): UsageError {
  return new UsageError('PUBLISH_TARGET_INVALID', `"${input}" is not a publish target: ${why}.`, { hint, details: { target: input } });
}

export function parseHubTarget(input: string): HubTarget {
  const ref = parseRepoRef(input.slice('hf://'.length));
  if (!ref) throw usage(input, 'expected hf://ORG/NAME or hf://ORG/NAME@BRANCH', 'For example --to hf://acme/Llama-3.2-1B-Acme-GGUF.');
  return { kind: 'hf', repo: ref.repo, branch: ref.revision ?? 'main' };
}

export function parseOciReference(input: string): OciTarget {
  const rest = input.slice('oci://'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw usage(input, 'expected oci://REGISTRY/REPO:TAG', 'For example --to oci://ghcr.io/acme/llama-3.2-1b-acme:1.2.0.');
  const registry = rest.slice(0, slash);
  let path = rest.slice(slash + 1);
  let digest: string | undefined;
  let tag: string | undefined;
  const at = path.indexOf('@');
  if (at >= 0) {
    digest = path.slice(at + 1);
    path = path.slice(0, at);
    if (!OCI_DIGEST.test(digest)) throw usage(input, `${digest} is not a sha256 digest`, 'A digest reads @sha256:<64 hex>.');
  }
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!OCI_TAG.test(tag)) throw usage(input, `"${tag}" is not a valid tag`, 'Tags are up to 128 letters, digits, _ . and -, not starting with . or -.');
  }
  if (!/^[A-Za-z0-9.-]+(?::\d+)?$/.test(registry) && !/^\[[0-9a-f:]+\](?::\d+)?$/i.test(registry)) {
    throw usage(input, `"${registry}" is not a registry host[:port]`, 'For example oci://localhost:5000/acme/model:1.0.0.');
  }
  if (path === '' || !path.split('/').every((c) => OCI_COMPONENT.test(c))) {
    throw usage(input, `"${path}" is not a repository name`, 'Repository names are lowercase letters, digits and . _ - separated by /.');
  }
  return { kind: 'oci', registry, repository: path, tag, digest };
}

export function parsePublishTarget(input: string): PublishTarget {
  if (input.startsWith('hf://')) return parseHubTarget(input);
  if (input.startsWith('oci://')) return parseOciReference(input);
  throw usage(input, 'it names neither hf:// nor oci://', 'Use --to hf://ORG/NAME[@BRANCH] or --to oci://REGISTRY/REPO:TAG.');
}

/** Loopback registries may be spoken to over plain HTTP without --plain-http (what docker does for localhost). */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
