/** resolveQuantizeOptions: the CLI's merge of flags over the configuration's quantize section, as a library call. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.ts';
import { resolveQuantizeOptions } from '../../src/quantize/options.ts';

test('flags win over the configuration, the configuration over the defaults; cwd and env are passed through', () => {
  const env = { HF_HUB_CACHE: '/cache' };
  assert.deepEqual(resolveQuantizeOptions({ input: 'm', type: 'q4_0' }, { type: 'Q8_0', device: 'cpu', threads: 3 }, { cwd: '/w', env }), {
    input: 'm', type: 'q4_0', device: 'cpu', pure: false, threads: 3, cwd: '/w', env,
  });
  assert.deepEqual(resolveQuantizeOptions({ input: 'm', device: 'gpu', threads: 1, pure: true, out: 'o.gguf', cacheDir: '/c' }, { type: 'Q8_0', device: 'cpu', threads: 3 }), {
    input: 'm', type: 'Q8_0', device: 'gpu', pure: true, threads: 1, out: 'o.gguf', cacheDir: '/c',
  });
  assert.equal(resolveQuantizeOptions({ input: 'm', type: 'F16' }).device, 'auto');
});

test('no type in flags or configuration is a usage error naming both ways to give one', () => {
  assert.throws(() => resolveQuantizeOptions({ input: 'm' }, {}), (e: unknown) => e instanceof UsageError && e.code === 'QUANTIZE_NO_TYPE' && /--type/.test(e.message) && /quantize\.type/.test(e.message));
});
