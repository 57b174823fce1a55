/**
 * A local stand-in for Meta's download CDN (llamameta.net behind CloudFront), as the e-mailed presigned link meets it
 * (../shared/research/publish-sign-quant2.md §6, hub-protocol.md §4):
 * - the link is `http://host/*?Policy=…&Signature=…&Key-Pair-Id=…`; `*` is replaced by `{folder}/{file}`;
 * - a request whose query does not carry the signature of its policy, or whose policy has expired, is 403 with
 *   CloudFront's XML body; so is every request after the link's download budget is spent (Meta: "Links expire after
 *   24 hours and a certain amount of downloads"); every GET that is not refused counts as one download;
 * - HEAD is refused (llama-stack: "Cloudfront rejects our HEAD requests to find Content-Length");
 * - Range requests: 206 with Content-Range; a range that starts at or past the end is 416 with `bytes * /size`;
 * - `checklistAsHtml` serves Facebook's "unsupported browser" page as checklist.chk (200, text/html), as users saw.
 * Faults for resume tests: `cutAfterBytes` closes the connection of the first answers after that many body bytes.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface MetaCdnOptions {
  /** folder → file name → bytes. */
  folders: Record<string, Record<string, Uint8Array | string>>;
  /** GETs the link allows before every request is 403. Default unlimited. */
  maxDownloads?: number;
  /** Seconds the link lives. Default one day. */
  lifetimeSeconds?: number;
  checklistAsHtml?: boolean;
  /** Close the connection after this many body bytes, for the first `cutCount` answers (default 1). */
  cutAfterBytes?: number;
  cutCount?: number;
}

export interface MetaCdnRequest {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
}

export interface MetaCdn {
  origin: string;
  /** The link as Meta e-mails it. */
  presignedUrl: string;
  /** The query string of the link (the secret). */
  query: string;
  /** Presigned URL of one file, as a --manifest lists it. */
  fileUrl(folder: string, file: string): string;
  requests: MetaCdnRequest[];
  downloads(): number;
  close(): Promise<void>;
}

const UNSUPPORTED_BROWSER_PAGE =
  '<!DOCTYPE html>\n<html lang="en" id="facebook"><head><title>Facebook</title><meta charset="utf-8" /></head>' +
  '<body><div id="content"><h2>This browser is not supported</h2><p>Please use a supported browser.</p></div></body></html>\n';

const ACCESS_DENIED = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>';

function base64Url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');
}

export async function startMetaCdn(options: MetaCdnOptions): Promise<MetaCdn> {
  const key = randomBytes(32);
  const keyPairId = `K${randomBytes(6).toString('hex').toUpperCase()}`;
  const requests: MetaCdnRequest[] = [];
  let downloads = 0;
  let cuts = 0;
  const sockets = new Set<Socket>();
  let origin = '';

  const sign = (text: string): string => base64Url(createHmac('sha256', key).update(text).digest());

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', origin);
    const path = decodeURIComponent(url.pathname).replace(/^\//, '');
    const range = req.headers.range;
    const answer = (status: number, headers: Record<string, string | number>, body?: Uint8Array | string): void => {
      requests.push({ method: req.method ?? '', path, range, status });
      res.writeHead(status, headers);
      res.end(body);
    };
    const deny = (): void => answer(403, { 'content-type': 'application/xml' }, ACCESS_DENIED);
    const q = url.searchParams;
    const givenPolicy = q.get('Policy') ?? '';
    if (q.get('Key-Pair-Id') !== keyPairId || q.get('Signature') !== sign(givenPolicy)) return deny();
    let expires: number;
    try {
      const decoded = JSON.parse(Buffer.from(givenPolicy.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64').toString('utf8')) as {
        Statement: Array<{ Condition: { DateLessThan: { 'AWS:EpochTime': number } } }>;
      };
      expires = decoded.Statement[0]?.Condition.DateLessThan['AWS:EpochTime'] ?? 0;
    } catch {
      return deny();
    }
    if (Date.now() / 1000 >= expires) return deny();
    if (req.method !== 'GET') return deny();
    if (options.maxDownloads !== undefined && downloads >= options.maxDownloads) return deny();
    const [folder, ...rest] = path.split('/');
    const file = rest.join('/');
    const content = options.folders[folder ?? '']?.[file];
    // CloudFront with a private S3 origin answers a missing object with 403 as well (not counted here).
    if (content === undefined) return deny();
    downloads++;
    if (options.checklistAsHtml && file === 'checklist.chk') return answer(200, { 'content-type': 'text/html; charset="utf-8"' }, UNSUPPORTED_BROWSER_PAGE);
    const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
    let start = 0;
    let end = bytes.length - 1;
    let status = 200;
    const headers: Record<string, string | number> = { 'content-type': 'binary/octet-stream', etag: `"${sign(bytes.subarray(0, 64).toString('hex')).slice(0, 16)}"`, 'accept-ranges': 'bytes' };
    if (range) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range);
      if (!m) return answer(416, { 'content-range': `bytes */${bytes.length}` });
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), bytes.length - 1) : bytes.length - 1;
      if (start >= bytes.length || start > end) return answer(416, { 'content-range': `bytes */${bytes.length}` });
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${bytes.length}`;
    }
    const body = bytes.subarray(start, end + 1);
    headers['content-length'] = body.length;
    requests.push({ method: req.method, path, range, status });
    res.writeHead(status, headers);
    if (options.cutAfterBytes !== undefined && cuts < (options.cutCount ?? 1) && body.length > options.cutAfterBytes) {
      cuts++;
      res.write(body.subarray(0, options.cutAfterBytes), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  };

  const server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const expiresAt = Math.floor(Date.now() / 1000) + (options.lifetimeSeconds ?? 86_400);
  const policy = base64Url(JSON.stringify({ Statement: [{ Resource: `${origin}/*`, Condition: { DateLessThan: { 'AWS:EpochTime': expiresAt } } }] }));
  const query = `Policy=${policy}&Signature=${sign(policy)}&Key-Pair-Id=${keyPairId}`;
  return {
    origin,
    presignedUrl: `${origin}/*?${query}`,
    query,
    fileUrl: (folder, file) => `${origin}/${folder}/${file}?${query}`,
    requests,
    downloads: () => downloads,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
