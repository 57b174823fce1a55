/**
 * The built CLI: `llama pull meta:… --url '<link>'` with DEBUG=* never shows the link's query (stdout, stderr, the
 * debug log), nor writes it to the lockfile or any file under the model folder; a spent link is exit 5 with the same
 * guarantee. Needs `npm run build`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { startMetaCdn } from '../support/meta-cdn/index.ts';
import { tempDir } from '../pull/helpers.ts';
import { FOLDER, release } from './helpers.ts';

async function allFileText(dir: string): Promise<string> {
  let out = '';
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out += (await readFile(join(entry.parentPath, entry.name))).toString('latin1');
  }
  return out;
}

function secretsOf(query: string): string[] {
  return [query, ...query.split('&').map((p) => p.slice(p.indexOf('=') + 1))];
}

test('the link query is never printed, logged or locked (DEBUG=*), in success and in a 403', async (t) => {
  const cdn = await startMetaCdn({ folders: { [FOLDER]: release() } });
  t.after(() => cdn.close());
  const dir = await tempDir(t, 'llama-meta-cli-');
  const env = { DEBUG: '*', HF_TOKEN: '', HOME: dir };
  const ok = await runCli(['pull', `meta:${FOLDER}`, '--url', cdn.presignedUrl, '--local-dir', 'model', '--progress', 'plain'], { cwd: dir, env });
  assert.equal(ok.code, 0, ok.stderr.slice(-2000));
  assert.match(ok.stdout, /4 match checklist\.chk \(md5\)/);
  const written = await allFileText(dir);
  assert.match(await readFile(join(dir, 'llama.lock.json'), 'utf8'), /meta:Llama-3\.2-1B/);
  for (const secret of secretsOf(cdn.query)) {
    assert.ok(!ok.stdout.includes(secret), 'not in stdout');
    assert.ok(!ok.stderr.includes(secret), 'not in stderr / the debug log');
    assert.ok(!written.includes(secret), 'not in the lockfile or any file written');
  }
  assert.ok(ok.stderr.length > 0 && /llama|oclif/i.test(ok.stderr), 'the debug log was on');

  const spent = await startMetaCdn({ folders: { [FOLDER]: release() }, maxDownloads: 0 });
  t.after(() => spent.close());
  const refused = await runCli(['pull', `meta:${FOLDER}`, '--url=' + spent.presignedUrl, '--local-dir', 'model2', '--force-download'], { cwd: dir, env });
  assert.equal(refused.code, 5, refused.stderr.slice(-2000));
  assert.match(refused.stderr, /request a new link/i);
  for (const secret of secretsOf(spent.query)) {
    assert.ok(!refused.stdout.includes(secret) && !refused.stderr.includes(secret), 'not in the output of a failed run');
  }

  const wrong = await runCli(['pull', 'org/name', '--url', cdn.presignedUrl], { cwd: dir, env: { HF_TOKEN: '', HOME: dir } });
  assert.equal(wrong.code, 2);
});
