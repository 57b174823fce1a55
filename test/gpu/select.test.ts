/**
 * --device cpu | gpu | auto: auto never picks a software adapter and falls back to the CPU with a reason; gpu runs
 * on whatever adapter exists (lavapipe in CI) or fails with exit 7; unknown modes are usage errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnvironmentError, type LlamaError } from '../../src/errors.ts';
import { probeGpu } from '../../src/quant/gpu/device.ts';
import { selectQuantDevice } from '../../src/quant/gpu/select.ts';
import { useRuntimeDir } from './compare.ts';

useRuntimeDir();

test('cpu is the CPU path', async () => {
  const choice = await selectQuantDevice('cpu');
  assert.equal(choice.device, 'cpu');
  assert.equal(choice.quantizer, undefined);
});

test('unknown modes are usage errors', async () => {
  await assert.rejects(selectQuantDevice('tpu'), (e: LlamaError) => e.code === 'QUANT_DEVICE' && e.exitCode === 2);
});

test('auto with no adapter, or only a software one, chooses the CPU and says why', async () => {
  const none = await selectQuantDevice('auto', {
    probe: async () => ({ ok: false, error: new EnvironmentError('GPU_UNAVAILABLE', 'No GPU adapter: the Vulkan loader libvulkan.so.1 was not found.') }),
  });
  assert.equal(none.device, 'cpu');
  assert.match(none.note, /libvulkan\.so\.1/);
  const soft = await selectQuantDevice('auto', {
    probe: async () => ({ ok: true, info: { name: 'llvmpipe (LLVM 15.0.6, 256 bits)', backend: 'vulkan', vendor: 'mesa', architecture: 'software', device: 'llvmpipe', software: true } }),
  });
  assert.equal(soft.device, 'cpu');
  assert.equal(soft.quantizer, undefined);
  assert.equal(soft.adapter?.name, 'llvmpipe (LLVM 15.0.6, 256 bits)');
  assert.match(soft.note, /software renderer/);
});

test('auto and gpu on this machine: hardware adapter → GPU, software → CPU for auto and GPU for gpu', async () => {
  const probe = await probeGpu();
  const auto = await selectQuantDevice('auto');
  try {
    if (probe.ok && !probe.info.software) {
      assert.equal(auto.device, 'gpu');
      assert.equal(auto.adapter?.software, false);
      assert.ok(auto.quantizer !== undefined);
    } else {
      assert.equal(auto.device, 'cpu');
      assert.equal(auto.quantizer, undefined);
    }
  } finally {
    auto.quantizer?.destroy();
  }
  if (!probe.ok) {
    await assert.rejects(selectQuantDevice('gpu'), (e: LlamaError) => e.exitCode === 7 && e.code === 'GPU_UNAVAILABLE');
    return;
  }
  const gpu = await selectQuantDevice('gpu');
  try {
    assert.equal(gpu.device, 'gpu');
    assert.equal(gpu.adapter?.name, probe.info.name);
    assert.match(gpu.note, new RegExp(probe.info.backend));
  } finally {
    gpu.quantizer?.destroy();
  }
});
