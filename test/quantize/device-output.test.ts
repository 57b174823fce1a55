/**
 * `llama quantize --device auto` where no usable GPU exists (lavapipe only, or no Vulkan driver at all) through the
 * built CLI: nothing from Dawn or the Vulkan loader reaches the user (before: two `maxDynamic…` warnings on every
 * run on lavapipe, a `vkCreateInstance failed … VulkanError.cpp` line without a driver), the reason for the CPU is
 * said once and is in --json, and DEBUG=llama* shows the runtime's own output (issue 17 §9).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { vulkanDiagnosis } from '../../src/quant/gpu/device.ts';
import { runCli } from '../support/cli.ts';

const INPUT = join(import.meta.dirname, 'fixtures', 'golden-f32.gguf');
const RUNTIME_OUTPUT = /maxDynamic|vkCreateInstance|VulkanError|loader_get_json|^Warning:/m;
const linux = process.platform === 'linux';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llama-quantize-device-output-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cases: [string, NodeJS.ProcessEnv][] = [
  ['whatever adapters this machine has (lavapipe in CI)', {}],
  ['no Vulkan driver', { VK_DRIVER_FILES: '/nonexistent-icd.json' }],
];
for (const [label, extra] of cases) {
  test(`--device auto, ${label}: no runtime output, the reason once, and in --json`, { skip: !linux && extra.VK_DRIVER_FILES !== undefined && 'Vulkan driver variables apply on Linux only' }, async () => {
    const env = { XDG_RUNTIME_DIR: dir, ...extra };
    const human = await runCli(['quantize', INPUT, '--type', 'Q8_0', '--device', 'auto', '--threads', '1', '--out', join(dir, 'h.gguf'), '--progress', 'plain'], { cwd: dir, env });
    assert.equal(human.code, 0, human.stderr);
    assert.doesNotMatch(human.stderr, RUNTIME_OUTPUT);
    assert.doesNotMatch(human.stdout, RUNTIME_OUTPUT);
    const json = await runCli(['quantize', INPUT, '--type', 'Q8_0', '--device', 'auto', '--threads', '1', '--out', join(dir, 'j.gguf'), '--json'], { cwd: dir, env });
    assert.equal(json.code, 0, json.stderr);
    assert.doesNotMatch(json.stderr, RUNTIME_OUTPUT);
    const result = JSON.parse(json.stdout) as { device: string; deviceNote: string };
    if (result.device === 'cpu') {
      assert.match(result.deviceNote, /^quantizing on the CPU: /);
      if (extra.VK_DRIVER_FILES !== undefined) assert.match(result.deviceNote, /no Vulkan driver/);
      const said = `${human.stdout}${human.stderr}`;
      assert.equal(said.split(result.deviceNote).length - 1, 1, said);
    }
  });
}

test('DEBUG=llama*: the Vulkan loader\'s and Dawn\'s messages are shown', { skip: (!linux || vulkanDiagnosis().loader === null) && 'needs the Vulkan loader (Linux)' }, async () => {
  const r = await runCli(['quantize', INPUT, '--type', 'Q8_0', '--device', 'auto', '--threads', '1', '--out', join(dir, 'd.gguf'), '--progress', 'none'], {
    cwd: dir, env: { XDG_RUNTIME_DIR: dir, VK_DRIVER_FILES: '/nonexistent-icd.json', DEBUG: 'llama*' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /vkCreateInstance/);
});
