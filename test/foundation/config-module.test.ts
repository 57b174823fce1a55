/**
 * Issue 17 §22: a JavaScript configuration is code. One whose getter throws, or a Proxy that refuses to be read, is
 * exit 2 naming the file (was exit 1); one that calls process.exit(0) before the command finished must not leave a
 * release step green.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';

async function withConfig(source: string, run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-config-module-'));
  try {
    await writeFile(join(dir, 'package.json'), '{"name":"x","type":"module"}\n');
    await writeFile(join(dir, 'llama.config.js'), source);
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const [name, source] of [
  ['a getter that throws', "export default { get quantize() { throw new Error('boom from a getter'); } };\n"],
  ['a Proxy that refuses to be read', "export default new Proxy({}, { get() { throw new Error('no reading'); }, ownKeys() { throw new Error('no keys'); } });\n"],
] as const) {
  test(`a JavaScript configuration with ${name} is exit 2 naming the file`, async () => {
    await withConfig(source, async (dir) => {
      const r = await runCli(['config'], { cwd: dir });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /llama\.config\.js/);
    });
  });
}

test('a configuration that calls process.exit(0) while it loads does not end the command green', async () => {
  await withConfig("process.exit(0);\nexport default {};\n", async (dir) => {
    const r = await runCli(['config'], { cwd: dir });
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /ended before it completed/);
  });
});
