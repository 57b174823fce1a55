/**
 * Adapter discovery: software-adapter classification, the exit-7 messages that name what is missing, the Vulkan
 * stack diagnosis, and the real no-driver / refused-driver paths in child processes (the Vulkan loader reads its
 * environment once per process).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { missingGpuError, probeGpu, isSoftwareAdapter, vulkanDiagnosis } from '../../src/quant/gpu/device.ts';
import { useRuntimeDir } from './compare.ts';

useRuntimeDir();

const adapter = (name: string, vendor: string, architecture = '', device = '') => ({ name, backend: 'vulkan', vendor, architecture, device });

test('software adapters are recognised, hardware ones are not', () => {
  assert.equal(isSoftwareAdapter(adapter('llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)', 'mesa', 'software')), true);
  assert.equal(isSoftwareAdapter(adapter('llvmpipe (LLVM 15.0.6, 256 bits)', 'mesa')), true);
  assert.equal(isSoftwareAdapter(adapter('SwiftShader Device (Subzero)', 'google')), true);
  assert.equal(isSoftwareAdapter(adapter('Microsoft Basic Render Driver', 'microsoft')), true);
  assert.equal(isSoftwareAdapter({ ...adapter('Some GPU', 'acme'), fallback: true }), true);
  assert.equal(isSoftwareAdapter(adapter('NVIDIA H100 80GB HBM3', 'nvidia', 'hopper')), false);
  assert.equal(isSoftwareAdapter(adapter('AMD Radeon RX 7900 XTX (RADV NAVI31)', 'amd', 'rdna-3')), false);
});

test('the no-adapter error names the missing piece, exit 7', () => {
  const noLoader = missingGpuError({ applicable: true, loader: null, icds: [] });
  assert.equal(noLoader.exitCode, 7);
  assert.equal(noLoader.code, 'GPU_UNAVAILABLE');
  assert.match(noLoader.message, /Vulkan loader libvulkan\.so\.1 was not found/);
  assert.match(noLoader.hint, /libvulkan1/);
  assert.equal(noLoader.details?.missing, 'vulkan-loader');

  const noDriver = missingGpuError({ applicable: true, loader: '/usr/lib/libvulkan.so.1', icds: [] });
  assert.match(noDriver.message, /no Vulkan driver is installed/);
  assert.equal(noDriver.details?.missing, 'vulkan-driver');

  const refused = missingGpuError({ applicable: true, loader: '/usr/lib/libvulkan.so.1', icds: ['/usr/share/vulkan/icd.d/x.json'] });
  assert.match(refused.message, /none offered an adapter/);
  assert.match(refused.hint, /bookworm-backports/);
  assert.equal(refused.details?.missing, 'adapter-refused');

  const other = missingGpuError({ applicable: false, loader: null, icds: [] });
  assert.equal(other.exitCode, 7);
  assert.match(other.message, /No GPU adapter/);
});

test('vulkanDiagnosis finds the loader on LD_LIBRARY_PATH and honours VK_DRIVER_FILES', (t) => {
  if (process.platform !== 'linux') return t.skip('the Vulkan diagnosis applies to Linux only');
  const dir = mkdtempSync(join(tmpdir(), 'llama-vk-'));
  try {
    const lib = join(dir, 'lib');
    mkdirSync(lib);
    writeFileSync(join(lib, 'libvulkan.so.1'), '');
    const icd = join(dir, 'x_icd.json');
    writeFileSync(icd, '{}');
    const found = vulkanDiagnosis({ LD_LIBRARY_PATH: lib, VK_DRIVER_FILES: icd });
    assert.equal(found.loader, join(lib, 'libvulkan.so.1'));
    assert.deepEqual(found.icds, [icd]);
    assert.equal(found.driverEnv, 'VK_DRIVER_FILES');
    const none = vulkanDiagnosis({ VK_ICD_FILENAMES: join(dir, 'missing.json') });
    assert.deepEqual(none.icds, []);
    assert.match(missingGpuError({ ...none, loader: 'x' }).message, /VK_ICD_FILENAMES names no existing ICD manifest/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Run openGpu() in a child with extra environment; returns its error JSON or the adapter name. */
function openInChild(env: Record<string, string>): { error?: { code: string; message: string; exitCode: number }; adapter?: string } {
  const script = `
    import { openGpu } from ${JSON.stringify(new URL('../../src/quant/gpu/device.ts', import.meta.url).href)};
    try { const g = await openGpu(); console.log(JSON.stringify({ adapter: g.info.name })); g.device.destroy(); }
    catch (e) { console.log(JSON.stringify({ error: e.toJSON ? e.toJSON() : { code: 'THROWN', message: String(e), exitCode: 1 } })); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ReturnType<typeof openInChild>;
}

test('with no Vulkan driver, openGpu fails with exit 7 naming the driver', (t) => {
  if (process.platform !== 'linux') return t.skip('Vulkan driver selection applies to Linux only');
  const diag = vulkanDiagnosis();
  if (diag.loader === null) return t.skip('no Vulkan loader on this machine: the driver path cannot be reached');
  const r = openInChild({ VK_DRIVER_FILES: '/nonexistent/llama-test-icd.json' });
  assert.equal(r.error?.code, 'GPU_UNAVAILABLE');
  assert.equal(r.error?.exitCode, 7);
  assert.match(r.error?.message ?? '', /no Vulkan driver is installed \(VK_DRIVER_FILES names no existing ICD manifest\)/);
});

test('probeGpu reports an adapter with its name, backend, vendor and software flag, or an exit-7 reason', async () => {
  const probe = await probeGpu();
  if (probe.ok) {
    assert.ok(probe.info.name.length > 0);
    assert.ok(['vulkan', 'metal', 'd3d12'].includes(probe.info.backend));
    assert.equal(typeof probe.info.vendor, 'string');
    assert.equal(typeof probe.info.software, 'boolean');
    // lavapipe, as CI has it, must count as software so that --device auto leaves it alone
    if (/llvmpipe/i.test(probe.info.name)) assert.equal(probe.info.software, true);
  } else {
    assert.equal(probe.error.exitCode, 7);
    assert.match(probe.error.message, /No GPU adapter|runtime/);
  }
});
