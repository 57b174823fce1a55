/** Hashes the hub publishes, computed while streaming: sha256 and the git blob sha1, inline or on a worker thread. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamingHasher, WorkerHasher, hashFile, hashRange } from '../../src/integrity/hash.ts';
import { gitBlobOid } from '../support/hub-server/index.ts';
import { pattern, sha256, tempDir } from './helpers.ts';

test('git blob sha1 and sha256 match git and the hub server, inline and on a worker, whatever the chunking', async (t) => {
  const data = pattern(3_000_001, 5);
  const inline = new StreamingHasher({ gitSha1ForSize: data.length });
  const worker = new WorkerHasher({ gitSha1ForSize: data.length, maxInFlight: 256 * 1024 });
  for (let at = 0, step = 1; at < data.length; at += step, step = (step * 7 + 13) % 100_000 + 1) {
    const part = data.subarray(at, Math.min(data.length, at + step));
    inline.update(part);
    await worker.update(Buffer.from(part)); // an owned copy: handed over without another copy
  }
  const a = inline.digest();
  const b = await worker.digest();
  assert.deepEqual(a, b);
  assert.equal(a.sha256, sha256(data));
  assert.equal(a.gitSha1, gitBlobOid(data));
  assert.equal(a.size, data.length);
  // A slice of a larger buffer is copied, never detached from its owner.
  const whole = pattern(1000, 2);
  const w2 = new WorkerHasher();
  await w2.update(whole.subarray(10, 500));
  assert.equal(whole.length, 1000);
  assert.equal((await w2.digest()).sha256, createHash('sha256').update(whole.subarray(10, 500)).digest('hex'));

  const dir = await tempDir(t);
  const file = join(dir, 'f.bin');
  await writeFile(file, data);
  assert.deepEqual(await hashFile(file, { gitSha1: true }), a);
  const part = new WorkerHasher();
  await hashRange(file, 100, 2_000_000, part);
  assert.equal((await part.digest()).sha256, sha256(data.subarray(100, 2_000_100)));
});
