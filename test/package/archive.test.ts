import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Header, Pax } from 'tar';
import { DirectorySink, entryHeader, TarSink } from '../../src/package/archive.ts';
import { SLOT_BYTES, SLOTS } from '../../src/package/pipeline.ts';
import { IntegrityError } from '../../src/errors.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('TarSink', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llama-tar-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes ustar entries with fixed owner, mode and mtime that GNU tar lists and extracts', async () => {
    // 2.5 chunks of data, so the double-buffered copy crosses chunk boundaries and ends mid-block.
    const data = Buffer.alloc(2 * 1024 * 1024 + 700_001);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    const source = join(dir, 'weights.bin');
    await writeFile(source, data);
    const target = join(dir, 'out', 'pkg-1.0.0.tar');
    const sink = await TarSink.create(target, { root: 'pkg-1.0.0', epochSeconds: 1_700_000_000 });
    await sink.addDirectory('');
    await sink.addDirectory('sub');
    const fileDigest = await sink.addFile('sub/weights.bin', source, { mode: 0o644, expectedSize: data.length });
    const script = await sink.addBytes('run.sh', Buffer.from('#!/bin/sh\necho hi\n'), { mode: 0o755 });
    const result = await sink.commit();

    assert.equal(fileDigest.sha256, sha256(data));
    assert.equal(script.size, 18);
    const archive = await readFile(target);
    assert.equal(result.sha256, sha256(archive));
    assert.equal(result.size, archive.length);
    assert.equal(archive.length % 512, 0);
    assert.deepEqual(archive.subarray(-1024), Buffer.alloc(1024));
    assert.equal((await stat(target)).mode & 0o777, 0o644);
    // No temporary file left beside the archive.
    assert.deepEqual(await readdir(join(dir, 'out')), ['pkg-1.0.0.tar']);

    const listing = execFileSync('tar', ['--numeric-owner', '--utc', '-tvf', target], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
    const lines = listing.trim().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^drwxr-xr-x 0\/0 +0 2023-11-14 22:13 pkg-1\.0\.0\/$/);
    assert.match(lines[1]!, /^drwxr-xr-x 0\/0 +0 2023-11-14 22:13 pkg-1\.0\.0\/sub\/$/);
    assert.match(lines[2]!, new RegExp(`^-rw-r--r-- 0/0 +${data.length} 2023-11-14 22:13 pkg-1\\.0\\.0/sub/weights\\.bin$`));
    assert.match(lines[3]!, /^-rwxr-xr-x 0\/0 +18 2023-11-14 22:13 pkg-1\.0\.0\/run\.sh$/);

    const extractTo = join(dir, 'x');
    execFileSync('mkdir', ['-p', extractTo]);
    execFileSync('tar', ['-xf', target, '-C', extractTo]);
    assert.equal(sha256(await readFile(join(extractTo, 'pkg-1.0.0', 'sub', 'weights.bin'))), sha256(data));
    assert.equal((await readFile(join(extractTo, 'pkg-1.0.0', 'run.sh'), 'utf8')), '#!/bin/sh\necho hi\n');

    // Header bytes: no user or group names, numeric owner 0, no atime/ctime in the prefix area.
    const header = archive.subarray(0, 512);
    assert.equal(header.subarray(108, 124).toString('latin1'), '000000 \x00000000 \x00');
    assert.deepEqual(header.subarray(265, 265 + 64), Buffer.alloc(64));
    assert.equal(header.subarray(257, 263).toString('latin1'), 'ustar\0');
  });

  it('uses a pax header holding only the path for long and non-ASCII names', async () => {
    const long = `${'d'.repeat(120)}/é-${'f'.repeat(120)}.json`;
    const target = join(dir, 'long.tar');
    const sink = await TarSink.create(target, { root: 'p', epochSeconds: 0 });
    await sink.addBytes(long, Buffer.from('{}'));
    await sink.commit();
    const archive = await readFile(target);
    // First block: the pax header, of type 'x', whose body is exactly one path record.
    assert.equal(String.fromCharCode(archive[156]!), 'x');
    const body = archive.subarray(512, 1024).toString('utf8').replace(/\0+$/, '');
    // A pax record is "<length> path=<value>\n", the length counting the whole record including its own digits.
    const match = /^(\d+) path=(.*)\n$/s.exec(body);
    assert.ok(match);
    assert.equal(Number(match[1]), Buffer.byteLength(body));
    assert.equal(match[2], `p/${long}`);
    const listing = execFileSync('tar', ['-tf', target], { encoding: 'utf8' });
    assert.equal(listing, `p/${long}\n`);
  });

  it('streams files larger than the whole slot pool, reusing slots, with both digests right', async () => {
    // More bytes than SLOTS × SLOT_BYTES, and not a multiple of the slot size.
    const size = SLOTS * SLOT_BYTES * 2 + 12_345;
    const data = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) data[i] = ((i * 2654435761) >>> 13) & 0xff;
    const sources = [join(dir, 'big-a.bin'), join(dir, 'big-b.bin')];
    await writeFile(sources[0]!, data);
    await writeFile(sources[1]!, data.subarray(7));
    const target = join(dir, 'big.tar');
    const sink = await TarSink.create(target, { root: 'big', epochSeconds: 0 });
    const a = await sink.addFile('a.bin', sources[0]!, { mode: 0o644, expectedSize: size });
    const b = await sink.addFile('b.bin', sources[1]!, { mode: 0o644, expectedSize: size - 7 });
    const result = await sink.commit();
    assert.equal(a.sha256, sha256(data));
    assert.equal(b.sha256, sha256(data.subarray(7)));
    const archive = await readFile(target);
    assert.equal(result.sha256, sha256(archive));
    // Contents sit where the headers say: right after the first header, and after the second one.
    assert.ok(archive.subarray(512, 512 + size).equals(data));
    const second = 512 + Math.ceil(size / 512) * 512 + 512;
    assert.ok(archive.subarray(second, second + size - 7).equals(data.subarray(7)));
  });

  it('keeps memory flat whatever the file size (weights are streamed, never buffered whole)', async () => {
    const archiveModule = new URL('../../src/package/archive.ts', import.meta.url).href;
    const peakMiB = async (mib: number): Promise<number> => {
      const source = join(dir, `sparse-${mib}.bin`);
      await writeFile(source, '');
      await truncate(source, mib * 1024 * 1024);
      const code = `import(${JSON.stringify(archiveModule)}).then(async ({ TarSink }) => {
        const sink = await TarSink.create(${JSON.stringify(join(dir, `sparse-${mib}.tar`))}, { root: 'r', epochSeconds: 0 });
        await sink.addFile('w.bin', ${JSON.stringify(source)}, { mode: 0o644, expectedSize: ${mib * 1024 * 1024} });
        await sink.commit();
        process.stdout.write(String(process.resourceUsage().maxRSS));
      });`;
      const maxRssKiB = Number(execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' }));
      await rm(source);
      await rm(join(dir, `sparse-${mib}.tar`));
      return maxRssKiB / 1024;
    };
    const small = await peakMiB(4);
    const large = await peakMiB(256);
    assert.ok(large - small < 64, `peak RSS grew by ${(large - small).toFixed(0)} MiB for 252 MiB more input`);
  });

  it('notices a file that grew since it was staged', async () => {
    const source = join(dir, 'grows.bin');
    await writeFile(source, Buffer.alloc(SLOT_BYTES + 10, 2));
    const sink = await TarSink.create(join(dir, 'grow', 'x.tar'), { root: 'x', epochSeconds: 0 });
    await assert.rejects(sink.addFile('grows.bin', source, { mode: 0o644, expectedSize: SLOT_BYTES + 5 }), { code: 'PACKAGE_INPUT_CHANGED' });
    await sink.abort();
    // The output directory did not exist: the abort removes it too.
    await assert.rejects(readdir(join(dir, 'grow')), { code: 'ENOENT' });
  });

  it('fails and leaves nothing behind when a file changes size while it is archived', async () => {
    const source = join(dir, 'shrinks.bin');
    await writeFile(source, Buffer.alloc(4096, 1));
    const target = join(dir, 'shrink', 'x.tar');
    await mkdir(join(dir, 'shrink'));
    await writeFile(join(dir, 'shrink', 'earlier.tar'), 'an earlier release');
    const sink = await TarSink.create(target, { root: 'x', epochSeconds: 0 });
    await truncate(source, 1000);
    await assert.rejects(sink.addFile('shrinks.bin', source, { mode: 0o644, expectedSize: 4096 }), (error: unknown) => {
      assert.ok(error instanceof IntegrityError);
      assert.equal(error.code, 'PACKAGE_INPUT_CHANGED');
      return true;
    });
    await sink.abort();
    // An output directory that existed keeps what it held, and only that.
    assert.deepEqual(await readdir(join(dir, 'shrink')), ['earlier.tar']);
  });
});

describe('entryHeader', () => {
  it('records a size of 8 GiB or more in a pax header holding only the size', () => {
    const size = 9 * 1024 ** 3 + 17;
    const blocks = entryHeader({ path: 'p/model-00001-of-00002.gguf', type: 'File', size, mode: 0o644, mtime: new Date(0) });
    assert.equal(blocks.length, 2);
    const [paxBlock, ustar] = blocks as [Buffer, Buffer];
    const paxHeader = new Header(paxBlock);
    assert.equal(paxHeader.type, 'ExtendedHeader');
    const body = paxBlock.subarray(512, 512 + paxHeader.size!).toString('utf8');
    const match = /^(\d+) size=(\d+)\n$/.exec(body);
    assert.ok(match, body);
    assert.equal(Number(match[1]), Buffer.byteLength(body));
    assert.equal(Number(match[2]), size);
    assert.deepEqual({ ...Pax.parse(body) }, { ...new Pax({ size } as ConstructorParameters<typeof Pax>[0]) });
    // The ustar header still carries the size (base-256, as GNU tar writes it) and the short path.
    const decoded = new Header(ustar);
    assert.equal(decoded.size, size);
    assert.equal(decoded.path, 'p/model-00001-of-00002.gguf');
    assert.equal(decoded.uid, 0);
    assert.ok(decoded.cksumValid);
    assert.equal(ustar[124]! & 0x80, 0x80);
  });

  it('needs no pax header for short ASCII paths below 8 GiB', () => {
    assert.equal(entryHeader({ path: 'p/a.bin', type: 'File', size: 0o77777777777, mode: 0o644, mtime: new Date(0) }).length, 1);
  });
});

describe('DirectorySink', () => {
  it('builds the tree under a temporary name, with normalised modes and mtimes, then renames it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'llama-dirsink-'));
    try {
      const source = join(dir, 'src.bin');
      await writeFile(source, Buffer.from('abc'), { mode: 0o600 });
      const target = join(dir, 'out', 'pkg-1.0.0');
      const sink = await DirectorySink.create(target, { epochSeconds: 499_162_500 });
      await sink.addDirectory('a');
      const digest = await sink.addFile('a/src.bin', source, { mode: 0o644, expectedSize: 3 });
      assert.deepEqual(await readdir(join(dir, 'out')).then((names) => names.some((n) => n === 'pkg-1.0.0')), false);
      await sink.commit();
      assert.equal(digest.sha256, sha256(Buffer.from('abc')));
      const info = await stat(join(target, 'a', 'src.bin'));
      assert.equal(info.mode & 0o777, 0o644);
      assert.equal(info.mtimeMs, 499_162_500_000);
      assert.equal((await stat(join(target, 'a'))).mode & 0o777, 0o755);
      assert.deepEqual(await readdir(join(dir, 'out')), ['pkg-1.0.0']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
