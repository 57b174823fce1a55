/**
 * One hash of one file, off the main thread: hashFile runs the git sha1 and the sha256 of a big file in two of
 * these at once, so adding a multi-GB file costs the slower hash, not the sum, and the event loop stays free.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { path, algorithm, prefix } = workerData as { path: string; algorithm: 'sha1' | 'sha256'; prefix: string };
const hash = createHash(algorithm).update(prefix);
let size = 0;
for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
  hash.update(chunk as Buffer);
  size += (chunk as Buffer).byteLength;
}
parentPort?.postMessage({ digest: hash.digest('hex'), size });
