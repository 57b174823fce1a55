/**
 * `llama quantize --device gpu|auto` through the built CLI (npm test builds first): the GPU path writes the same GGUF
 * bytes as the CPU path, `auto` skips software renderers and says why, a missing driver is exit 7, --json names the
 * adapter. Where this machine has no GPU adapter at all (not even lavapipe) the GPU comparisons are skipped with the
 * reason; CI installs lavapipe so they run for real there.
 */
import { gpuSkipReason } from '../support/gpu.ts';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { quantize } from '../../src/quantize/quantize.ts';
import { IntegrityError } from '../../src/errors.ts';
import type { ProgressEvent } from '../../src/progress/events.ts';
import { probeGpu } from '../../src/quant/gpu/device.ts';
import { corruptCheckpoint, generateCheckpoint } from '../support/checkpoint/index.ts';
import { runCli, type CliResult } from '../support/cli.ts';

interface Result {
  out: string;
  type: string;
  device: 'cpu' | 'gpu';
  adapter?: { name: string; backend: string; vendor: string; software: boolean };
  deviceNote: string;
  tensors: { name: string; type: string }[];
}

const probe = await probeGpu();
const noAdapter = probe.ok ? false : `no GPU adapter on this machine: ${gpuSkipReason(probe.error)}`;

let dir: string;
let ckpt: string;
let env: NodeJS.ProcessEnv;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llama-quantize-gpu-'));
  // Mesa warns on every run without a writable XDG_RUNTIME_DIR
  env = { XDG_RUNTIME_DIR: dir };
  ckpt = join(dir, 'ckpt');
  // hidden 256: every row fits a K-quant super-block, so Q4_K_M really uses Q4_K/Q6_K (no fallback to legacy types);
  // F16 weights, so the GPU converts from the stored F16 bits; tied embeddings keep it to one 32000-row matrix
  await generateCheckpoint(ckpt, {
    version: '2', dtype: 'F16', seed: 5, tieWordEmbeddings: true,
    shape: { layers: 1, hidden: 256, intermediate: 512, heads: 4, kvHeads: 4 },
  });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function quantizeCli(input: string, type: string, device: string, out: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(['quantize', input, '--type', type, '--device', device, '--out', out, '--threads', '2', '--json', '--progress', 'none'], {
    cwd: dir, env: { ...env, ...extraEnv },
  });
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** CPU and GPU runs of one conversion; both outputs' sha256 and the GPU run's result. */
async function cpuAndGpu(input: string, type: string, tag: string): Promise<{ cpu: string; gpu: string; result: Result }> {
  const cpuOut = join(dir, `${tag}-${type}-cpu.gguf`);
  const gpuOut = join(dir, `${tag}-${type}-gpu.gguf`);
  const c = await quantizeCli(input, type, 'cpu', cpuOut);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((JSON.parse(c.stdout) as Result).device, 'cpu');
  const g = await quantizeCli(input, type, 'gpu', gpuOut);
  assert.equal(g.code, 0, g.stderr);
  const result = JSON.parse(g.stdout) as Result;
  const hashes = { cpu: await sha256(cpuOut), gpu: await sha256(gpuOut), result };
  await rm(gpuOut);
  if (!(tag === 'hf' && type === 'F16')) await rm(cpuOut); // the F16 GGUF is the requantize test's input
  return hashes;
}

test('--device gpu: same GGUF bytes as --device cpu from a checkpoint (Q8_0, Q4_0, Q4_K_M, Q5_1, F16, BF16); --json names the adapter', { skip: noAdapter }, async () => {
  for (const type of ['Q8_0', 'Q4_0', 'Q4_K_M', 'Q5_1', 'F16', 'BF16']) {
    const { cpu, gpu, result } = await cpuAndGpu(ckpt, type, 'hf');
    assert.equal(gpu, cpu, `${type}: GPU output differs from the CPU path`);
    assert.equal(result.type, type);
    assert.equal(result.device, 'gpu');
    assert.ok(result.adapter !== undefined, 'the adapter is in --json');
    assert.ok(probe.ok);
    assert.equal(result.adapter.name, probe.info.name);
    assert.equal(result.adapter.backend, probe.info.backend);
    assert.equal(result.adapter.vendor, probe.info.vendor);
    assert.equal(result.adapter.software, probe.info.software);
    if (type === 'Q4_K_M') {
      // the mixture really ran K-quant kernels (not only legacy fallbacks)
      const types = new Set(result.tensors.map((t) => t.type));
      assert.ok(types.has('Q4_K') && types.has('Q6_K'), [...types].join(','));
    }
  }
});

test('--device gpu: same bytes as the CPU when requantizing an F16 GGUF (Q4_K_M, Q8_0); human output names the adapter', { skip: noAdapter }, async () => {
  const f16 = join(dir, 'hf-F16-cpu.gguf');
  if (!existsSync(f16)) {
    // made by the test above; again when that one is run alone
    const r = await quantizeCli(ckpt, 'F16', 'cpu', f16);
    assert.equal(r.code, 0, r.stderr);
  }
  for (const type of ['Q4_K_M', 'Q8_0']) {
    const { cpu, gpu, result } = await cpuAndGpu(f16, type, 'gguf');
    assert.equal(gpu, cpu, `${type} from F16 GGUF: GPU output differs from the CPU path`);
    assert.equal(result.device, 'gpu');
  }
  const human = await runCli(['quantize', f16, '--type', 'Q8_0', '--device', 'gpu', '--out', join(dir, 'h.gguf'), '--progress', 'none'], { cwd: dir, env });
  assert.equal(human.code, 0, human.stderr);
  assert.ok(probe.ok);
  assert.ok(human.stdout.includes(`GPU: ${probe.info.name} (${probe.info.backend}, ${probe.info.vendor}`), human.stdout);
  await rm(join(dir, 'h.gguf'));
});

test('--device auto: a software adapter counts as none (CPU, with the reason); a hardware one is used', async () => {
  const out = join(dir, 'auto.gguf');
  const r = await quantizeCli(ckpt, 'Q8_0', 'auto', out);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as Result;
  if (!probe.ok) {
    assert.equal(result.device, 'cpu');
    assert.match(result.deviceNote, /on the CPU/);
  } else if (probe.info.software) {
    assert.equal(result.device, 'cpu');
    assert.equal(result.adapter, undefined, 'no adapter in the result when the GPU was not used');
    assert.match(result.deviceNote, /software renderer/);
    assert.ok(result.deviceNote.includes(probe.info.name), result.deviceNote);
  } else {
    assert.equal(result.device, 'gpu');
    assert.equal(result.adapter?.name, probe.info.name);
  }
  // human output says why too, once (issue 17 §9: it was printed twice)
  const human = await runCli(['quantize', ckpt, '--type', 'Q8_0', '--device', 'auto', '--out', out, '--progress', 'plain'], { cwd: dir, env });
  assert.equal(human.code, 0, human.stderr);
  const said = `${human.stdout}${human.stderr}`;
  assert.ok(said.includes(result.adapter !== undefined ? `GPU: ${result.adapter.name}` : result.deviceNote), said);
  assert.equal(said.split(result.deviceNote).length - 1, 1, said);
  await rm(out);
});

test('--device gpu with no Vulkan driver: exit 7 naming the missing driver, no output left', { skip: process.platform !== 'linux' && 'the Vulkan driver variables apply on Linux only' }, async () => {
  const out = join(dir, 'nodriver.gguf');
  const r = await quantizeCli(ckpt, 'Q8_0', 'gpu', out, { VK_DRIVER_FILES: '/nonexistent.json' });
  assert.equal(r.code, 7, r.stderr);
  const error = (JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string; details: { missing: string } } }).error;
  assert.equal(error.code, 'GPU_UNAVAILABLE');
  assert.equal(error.details.missing, 'vulkan-driver');
  assert.match(error.message, /no Vulkan driver/);
  assert.match(error.hint, /--device cpu/);
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('nodriver') || n.endsWith('.tmp')), []);
});

test('library, GPU path: tensors cut into many chunks stay in order (same bytes as the CPU), progress per chunk', { skip: noAdapter }, async () => {
  const cpuOut = join(dir, 'lib-cpu.gguf');
  const gpuOut = join(dir, 'lib-gpu.gguf');
  await quantize({ input: ckpt, type: 'Q4_K_M', out: cpuOut, device: 'cpu', threads: 2 });
  const events: ProgressEvent[] = [];
  // 48 KiB of source per call: the 32000-row embedding becomes hundreds of chunks, the permuted Q/K (64-row
  // alignment of 256 F32 elements = 64 KiB) one alignment unit per chunk, so the in-flight queue really fills
  const result = await quantize({
    input: ckpt, type: 'Q4_K_M', out: gpuOut, device: 'gpu', threads: 2, gpuChunkBytes: 48 << 10,
    onProgress: (e) => events.push(e),
  });
  assert.equal(result.device, 'gpu');
  assert.equal(await sha256(gpuOut), await sha256(cpuOut));
  const advances = events.filter((e) => e.type === 'advance').length;
  assert.ok(advances > 3 * result.tensors.length, `${advances} progress steps for ${result.tensors.length} tensors`);
  assert.ok(events.some((e) => e.type === 'message' && e.text === result.deviceNote), 'the device note is reported as progress');
  await rm(cpuOut);
  await rm(gpuOut);
});

test('library, GPU path: NaN refused with the CPU path\'s error; an abort mid-run leaves no file', { skip: noAdapter }, async () => {
  const bad = join(dir, 'nan-ckpt');
  const d = await generateCheckpoint(bad, {
    version: '2', dtype: 'F16', seed: 6, tieWordEmbeddings: true, card: false,
    shape: { layers: 1, hidden: 256, intermediate: 512, heads: 4, kvHeads: 4 },
  });
  const corruption = await corruptCheckpoint(d, 'nan-weight');
  const outs = { cpu: join(dir, 'nan-cpu.gguf'), gpu: join(dir, 'nan-gpu.gguf') };
  const errors: IntegrityError[] = [];
  for (const device of ['cpu', 'gpu'] as const) {
    await assert.rejects(quantize({ input: bad, type: 'Q8_0', out: outs[device], device, threads: 2 }), (e: unknown) => {
      assert.ok(e instanceof IntegrityError && e.code === 'QUANTIZE_NONFINITE', String(e));
      errors.push(e);
      return true;
    });
  }
  assert.equal(errors[1]!.message, errors[0]!.message, 'same error on both paths');
  assert.match(errors[1]!.message, /NaN or Inf/);
  assert.ok(errors[1]!.message.includes(corruption.file), errors[1]!.message);

  // an Inf in the high half of a 32-bit word, deep in the embedding (the first tensor read): the same element index
  const embed = d.tensors.find((t) => t.name === 'model.embed_tokens.weight')!;
  const handle = await open(join(bad, embed.file), 'r+');
  try {
    await handle.write(Buffer.from([0x00, 0x7c]), 0, 2, embed.fileOffset + 2 * 12345);
  } finally {
    await handle.close();
  }
  const again: string[] = [];
  for (const device of ['cpu', 'gpu'] as const) {
    await assert.rejects(quantize({ input: bad, type: 'Q4_0', out: outs[device], device, threads: 2, gpuChunkBytes: 64 << 10 }), (e: unknown) => {
      assert.ok(e instanceof IntegrityError && e.code === 'QUANTIZE_NONFINITE', String(e));
      again.push(e.message);
      return true;
    });
  }
  assert.match(again[0]!, /token_embd\.weight .*\(element 12345\)/);
  assert.equal(again[1], again[0]);

  const controller = new AbortController();
  await assert.rejects(
    quantize({
      input: ckpt, type: 'Q8_0', out: join(dir, 'aborted.gguf'), device: 'gpu', threads: 2, gpuChunkBytes: 64 << 10, signal: controller.signal,
      onProgress: (e) => { if (e.type === 'advance') controller.abort(); },
    }),
    (e: unknown) => e instanceof Error && e.name === 'AbortError',
  );
  assert.deepEqual((await readdir(dir)).filter((n) => (n.startsWith('nan-') && n.endsWith('.gguf')) || n.startsWith('aborted') || n.endsWith('.tmp')), []);
});
