/**
 * The local hub for bench/publish/run.ts, in a process of its own: `node bench/publish/hub.ts --token hf_x` prints the
 * URL and serves until SIGTERM. The token's user is "user" (write role), so it may create and push user/* repos;
 * objects above 5 GiB go multipart, others in one presigned PUT.
 */
import { parseArgs } from 'node:util';
import { startHubServer } from '../../test/support/hub-server/index.ts';

const { values } = parseArgs({ options: { token: { type: 'string' } } });
const hub = await startHubServer({ tokens: values.token ? { [values.token]: 'user' } : {}, upload: { multipartChunkSize: 5 * 1024 ** 3 } });
process.stdout.write(`${hub.url}\n`);
const stop = (): void => {
  void hub.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
