/**
 * `llama quantize` through the built CLI (npm test builds first): output, --json, and the exit codes CI depends on.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readGguf } from '../../src/formats/gguf.ts';
import { runCli } from '../support/cli.ts';

const INPUT = join(import.meta.dirname, 'fixtures', 'golden-f32.gguf');

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llama-quantize-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('quantizes a GGUF, default output name in the working directory, --json result', async () => {
  const r = await runCli(['quantize', INPUT, '--type', 'q8_0', '--threads', '1', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { out: string; type: string; mode: string; tensors: { name: string; type: string }[] };
  assert.equal(result.type, 'Q8_0');
  assert.equal(result.mode, 'quantize');
  // <name>-F32.gguf → <name>-Q8_0.gguf: the float-type suffix of the input name is replaced
  assert.equal(result.out, join(dir, 'golden-Q8_0.gguf'));
  const file = await readGguf(result.out);
  assert.equal(file.tensors.length, result.tensors.length);
  assert.ok(result.tensors.every((t) => t.type === 'Q8_0' || t.type === 'F32'));
});

test('exit codes: 2 for a bad type or missing input, 7 for --device gpu without a GPU driver; no output left', async () => {
  const badType = await runCli(['quantize', INPUT, '--type', 'Q9_X', '--out', join(dir, 'x.gguf')], { cwd: dir });
  assert.equal(badType.code, 2);
  assert.match(badType.stderr, /Q9_X/);
  const missing = await runCli(['quantize', join(dir, 'missing'), '--type', 'Q8_0'], { cwd: dir });
  assert.equal(missing.code, 2);
  // VK_DRIVER_FILES naming no manifest hides every Vulkan driver (test/quantize/gpu-device.test.ts covers the rest)
  if (process.platform === 'linux') {
    const gpu = await runCli(['quantize', INPUT, '--type', 'Q8_0', '--device', 'gpu', '--json', '--out', join(dir, 'x.gguf')], {
      cwd: dir, env: { VK_DRIVER_FILES: join(dir, 'no-such-icd.json'), XDG_RUNTIME_DIR: dir },
    });
    assert.equal(gpu.code, 7);
    assert.equal((JSON.parse(gpu.stdout) as { error: { code: string } }).error.code, 'GPU_UNAVAILABLE');
  }
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('x.gguf') || n.endsWith('.tmp')), []);
});

test('the configuration\'s quantize section gives defaults; flags win; no type at all is exit 2', async () => {
  await writeFile(join(dir, '.llamarc.json'), JSON.stringify({ quantize: { type: 'Q5_1', threads: 1 } }));
  try {
    const fromConfig = await runCli(['quantize', INPUT, '--out', join(dir, 'c.gguf'), '--json'], { cwd: dir });
    assert.equal(fromConfig.code, 0, fromConfig.stderr);
    assert.equal((JSON.parse(fromConfig.stdout) as { type: string; threads: number }).type, 'Q5_1');
    const flagWins = await runCli(['quantize', INPUT, '--type', 'q4_1', '--out', join(dir, 'c.gguf'), '--json'], { cwd: dir });
    assert.equal((JSON.parse(flagWins.stdout) as { type: string }).type, 'Q4_1');
  } finally {
    await rm(join(dir, '.llamarc.json'));
  }
  const none = await runCli(['quantize', INPUT, '--out', join(dir, 'c.gguf')], { cwd: dir });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--type/);
});
