/**
 * `llama pull` without the oclif front end, for `bench/pull/run.ts --driver lib` where no build is available: the same
 * library call the command makes, with the flags the benchmark uses.
 *   node bench/pull/llama-lib.ts REPO --endpoint URL --cache-dir DIR --lock FILE [--concurrency N] [--include GLOB]...
 *     [--client own|fetch]
 * `--client fetch` plugs Node's built-in fetch (undici) into the engine instead of the own HTTP/1.1 client.
 */
import { parseArgs } from 'node:util';
import { pull } from '../../src/transfer/pull.ts';
import { fetchGet } from '../../src/transfer/fetch-get.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    endpoint: { type: 'string' },
    'cache-dir': { type: 'string' },
    lock: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    include: { type: 'string', multiple: true },
    client: { type: 'string', default: 'own' },
  },
});
const result = await pull({
  repo: positionals[0] ?? '',
  ...(values.endpoint ? { endpoint: values.endpoint } : {}),
  ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
  lockfile: values.lock ?? false,
  concurrency: Number(values.concurrency),
  include: values.include ?? [],
  env: {},
  ...(values.client === 'fetch' ? { get: fetchGet() } : {}),
});
process.stdout.write(`${result.files.length} files, ${result.bytesDownloaded} bytes\n`);
