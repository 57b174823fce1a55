/**
 * Serve a folder as one Hub model repo, for the demo and benchmarks:
 *
 *   node test/support/hub-server/main.ts --dir DIR --repo org/name [--gated] [--private] [--token hf_xxx]
 *     [--user NAME] [--pending-token hf_yyy] [--rate BYTES_PER_S] [--port N] [--same-origin-cdn] [--log]
 *
 * Prints the hub URL as the only stdout line once ready, then serves until SIGINT/SIGTERM. Files are streamed from
 * disk (hashed once at start). With --token, that token's user (--user, default "user") has access (granted for a
 * gated repo, read for a private one). --log writes one line per finished request to stderr (no token values).
 */
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { startHubServer, type FileInput, type RequestLogEntry } from './index.ts';

async function listFilesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '.git') await walk(full);
      } else if (entry.isFile()) {
        out.push(full);
      }
    }
  };
  await walk(root);
  return out.sort();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      repo: { type: 'string' },
      gated: { type: 'boolean', default: false },
      private: { type: 'boolean', default: false },
      token: { type: 'string' },
      user: { type: 'string', default: 'user' },
      'pending-token': { type: 'string' },
      rate: { type: 'string' },
      port: { type: 'string' },
      'same-origin-cdn': { type: 'boolean', default: false },
      log: { type: 'boolean', default: false },
    },
  });
  if (!values.dir || !values.repo) {
    process.stderr.write('usage: main.ts --dir DIR --repo org/name [--gated] [--private] [--token hf_xxx] [--rate N] [--port N]\n');
    process.exit(2);
  }
  const tokens: Record<string, string> = {};
  if (values.token) tokens[values.token] = values.user;
  if (values['pending-token']) tokens[values['pending-token']] = 'pending-user';
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && !(rate > 0)) throw new Error('--rate must be a positive number of bytes per second');
  const hub = await startHubServer({
    tokens,
    cdn: values['same-origin-cdn'] ? 'same-origin' : 'cross-origin',
    ...(rate ? { bytesPerSecond: rate } : {}),
    ...(values.port ? { port: Number(values.port) } : {}),
  });
  const files: Record<string, FileInput> = {};
  for (const full of await listFilesUnder(values.dir)) files[relative(values.dir, full).split(sep).join('/')] = { path: full };
  const access: Record<string, 'granted' | 'pending'> = {};
  if (values.token) access[values.user] = 'granted';
  if (values['pending-token']) access['pending-user'] = 'pending';
  await hub.addRepo({ id: values.repo, files, gated: values.gated ? 'manual' : false, private: values.private, access });
  process.stdout.write(`${hub.url}\n`);

  if (values.log) {
    let printed = 0;
    setInterval(() => {
      while (printed < hub.log.length && hub.log[printed]?.done) {
        const e = hub.log[printed++] as RequestLogEntry;
        process.stderr.write(`${e.server} ${e.method} ${e.path.split('?')[0]} ${e.status} ${e.range ?? '-'} ${e.bytesSent}B auth=${e.authorization}\n`);
      }
    }, 200).unref();
  }
  const stop = (): void => {
    void hub.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`hub-server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
