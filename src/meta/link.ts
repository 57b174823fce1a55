/**
 * Where each file of a Meta download comes from: the e-mailed presigned link (`https://llama3-1.llamameta.net/*?Policy=…
 * &Signature=…&Key-Pair-Id=…`, whose `*` becomes `{folder}/{file}`) or llama-stack's manifest file (JSON
 * `{models: [{model_id, files: {name: url}}], expires_on}`, refused once expired); sources in
 * ../shared/research/publish-sign-quant2.md §6. The query strings are the credential: every one is registered with the
 * redactor the moment it is read, so no message, log line or lockfile can carry it.
 */
import { readFile } from 'node:fs/promises';
import { AccessError, UsageError } from '../errors.ts';
import { registerSecret } from '../redact.ts';

export interface FileSource {
  /** The URL of one file in the model's folder, or undefined when the manifest does not list it. */
  urlOf(file: string): string | undefined;
  /** Files a manifest lists (undefined for a link, which can name any file). */
  listed: string[] | undefined;
  /** Host, for messages (no query). */
  host: string;
}

function registerQuery(url: URL, raw: string): void {
  const q = raw.indexOf('?');
  if (q >= 0) registerSecret(raw.slice(q + 1));
  for (const [, value] of url.searchParams) registerSecret(value);
  registerSecret(url.search.slice(1));
}

/** The link without its query, safe to print. */
export function describeLink(raw: string): string {
  return raw.split('?')[0] ?? '';
}

function parseUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError('META_URL_INVALID', `${what} is not a URL.`, { hint: 'Paste the whole link from Meta\'s e-mail, in single quotes.' });
  }
  registerQuery(url, raw);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))) {
    throw new UsageError('META_URL_INVALID', `${what} must be an https:// link (got ${url.protocol}).`, { hint: 'Paste the link from Meta\'s e-mail as it is.' });
  }
  return url;
}

/** The folder Meta's CDN keeps a model in: the Hub repo's name (Llama-2 folders lower-cased), as llama-stack's sku_list. */
export function metaFolder(modelId: string): string {
  let name = modelId.replace(/^meta-llama\//, '');
  // llama-stack's descriptors (Llama3.1-8B-Instruct) name the same folders as the Hub repos (Llama-3.1-8B-Instruct).
  name = name.replace(/^Llama(\d)/, 'Llama-$1');
  if (/^llama-2(-|$)/i.test(name)) name = name.toLowerCase();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new UsageError('META_MODEL_INVALID', `meta:${modelId} is not a model id Meta's downloads use.`, {
      hint: 'Use the model\'s name as in Meta\'s e-mail or on the Hub, e.g. meta:Llama-3.2-1B or meta:Llama-2-7b.',
    });
  }
  return name;
}

export function linkSource(rawUrl: string, folder: string): FileSource {
  const url = parseUrl(rawUrl, 'The --url link');
  const queryAt = rawUrl.indexOf('?');
  const base = queryAt >= 0 ? rawUrl.slice(0, queryAt) : rawUrl;
  if (!base.includes('*')) {
    throw new UsageError('META_URL_INVALID', 'The --url link has no "*" where the file name goes.', {
      hint: 'Paste the link from Meta\'s e-mail unchanged (it looks like https://llama3-1.llamameta.net/*?Policy=…); put it in single quotes so the shell keeps the "*".',
    });
  }
  const query = queryAt >= 0 ? rawUrl.slice(queryAt) : '';
  return {
    urlOf: (file) => `${base.replace('*', `${folder}/${file.split('/').map(encodeURIComponent).join('/')}`)}${query}`,
    listed: undefined,
    host: url.host,
  };
}

interface ManifestModel {
  model_id?: unknown;
  files?: unknown;
}

export async function manifestSource(path: string, modelId: string, now = Date.now()): Promise<FileSource> {
  let doc: { models?: unknown; expires_on?: unknown };
  try {
    doc = JSON.parse(await readFile(path, 'utf8')) as typeof doc;
  } catch (error) {
    throw new UsageError('META_MANIFEST_INVALID', `The manifest ${path} cannot be read as JSON (${(error as Error).message}).`, {
      hint: 'Pass the manifest file Meta sent (JSON with "models" and "expires_on").',
    });
  }
  const models = Array.isArray(doc.models) ? (doc.models as ManifestModel[]) : [];
  // Register every URL before anything can be printed about the file.
  for (const m of models) {
    if (m.files && typeof m.files === 'object') {
      for (const u of Object.values(m.files as Record<string, unknown>)) if (typeof u === 'string') parseUrlQuiet(u);
    }
  }
  if (typeof doc.expires_on === 'string' || typeof doc.expires_on === 'number') {
    const expires = typeof doc.expires_on === 'number' ? doc.expires_on * 1000 : Date.parse(doc.expires_on);
    if (Number.isFinite(expires) && expires <= now) {
      throw new AccessError('META_LINK_EXPIRED', `The manifest ${path} expired on ${new Date(expires).toISOString()}.`, {
        hint: 'Request a new download link from Meta (llama.com/llama-downloads) and run the command again with its manifest; files already completed are kept.',
      });
    }
  }
  const wanted = models.find((m) => m.model_id === modelId) ?? (models.length === 1 ? models[0] : undefined);
  if (!wanted || !wanted.files || typeof wanted.files !== 'object') {
    const ids = models.map((m) => String(m.model_id)).join(', ');
    throw new UsageError('META_MANIFEST_NO_MODEL', `The manifest ${path} has no model ${modelId}${ids ? ` (it has: ${ids})` : ''}.`, {
      hint: 'Use a model id the manifest lists: llama pull meta:<model_id> --manifest FILE.',
    });
  }
  const files = new Map<string, string>();
  for (const [name, url] of Object.entries(wanted.files as Record<string, unknown>)) {
    if (typeof url !== 'string') continue;
    parseUrl(url, `The manifest's URL of ${name}`);
    files.set(name, url);
  }
  const first = files.values().next().value;
  return { urlOf: (file) => files.get(file), listed: [...files.keys()], host: first ? new URL(first).host : '' };
}

function parseUrlQuiet(raw: string): void {
  try {
    registerQuery(new URL(raw), raw);
  } catch {
    const q = raw.indexOf('?');
    if (q >= 0) registerSecret(raw.slice(q + 1));
  }
}
