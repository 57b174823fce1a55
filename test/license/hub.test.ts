/**
 * Online lineage through @huggingface/hub against the local test hub (test/support/hub-server): cardData from
 * model info, `base_model` followed across repos, `license: other` decided by the repo's LICENSE text, multimodal
 * from the model info's config, private repos with a token, and the token never in any output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHubServer } from '../support/hub-server/index.ts';
import { configSchema } from '../../src/config/schema.ts';
import { hubCardSource } from '../../src/license/hub-cards.ts';
import { resolveLineage } from '../../src/license/lineage.ts';
import { checkDerivative } from '../../src/license/checks.ts';
import { renderNotice } from '../../src/license/notice.ts';
import { renderJson, renderText } from '../../src/license/report.ts';
import { template } from './helpers.ts';
import { HubClient } from '../../src/hub/client.ts';
import { isLlamaError } from '../../src/errors.ts';
import { hubAccess } from '../../src/license/hub-access.ts';

const TOKEN = 'hf_licensetesttoken0001';

test('online lineage against the local hub', async (t) => {
  const hub = await startHubServer({ tokens: { [TOKEN]: 'acme' } });
  t.after(() => hub.close());
  await hub.addRepo({
    id: 'meta-llama/Llama-3.2-11B-Vision-Instruct',
    gated: 'manual',
    files: { 'README.md': '---\nlicense: llama3.2\nbase_model: meta-llama/Llama-3.2-11B-Vision\n---\n# Vision\n', 'LICENSE.txt': await template('llama3.2') },
    info: { pipeline_tag: 'image-text-to-text', config: { architectures: ['MllamaForConditionalGeneration'], model_type: 'mllama' } },
  });
  await hub.addRepo({
    id: 'meta-llama/Llama-3.2-11B-Vision',
    files: { 'README.md': '---\nlicense: llama3.2\n---\n' },
    info: { config: { architectures: ['MllamaForConditionalGeneration'] } },
  });
  await hub.addRepo({
    id: 'Qwen/Qwen-7B',
    files: { 'README.md': '---\nlicense: other\nlicense_link: LICENSE\n---\n', LICENSE: await template('tongyi-qianwen') },
  });
  await hub.addRepo({ id: 'acme/private-teacher', private: true, files: { 'README.md': '---\nlicense: llama2\n---\n' } });
  await hub.addRepo({ id: 'acme/no-license', files: { 'README.md': '# nothing here\n' } });

  const config = configSchema.parse({
    derivative: {
      name: 'Llama-3.2-Acme-Vision',
      baseModels: ['meta-llama/Llama-3.2-11B-Vision-Instruct', 'Qwen/Qwen-7B'],
      trainedOnOutputsOf: ['acme/private-teacher', 'acme/no-license', 'acme/does-not-exist'],
    },
    licensee: { monthlyActiveUsers: 5, commercial: true, euEstablished: true },
  });
  const progress: string[] = [];
  const lineage = await resolveLineage({
    baseModels: config.derivative!.baseModels,
    trainedOnOutputsOf: config.derivative!.trainedOnOutputsOf,
    baseDir: process.cwd(),
    hub: hubCardSource(new HubClient({ endpoint: hub.url, token: TOKEN })),
    onProgress: (e) => { if (e.type === 'message') progress.push(e.text); },
  });
  const [vision, qwen, teacher, nolicense, missing] = lineage.roots;
  assert.equal(vision!.license, 'llama3.2');
  assert.equal(vision!.evidence[0]!.source, 'hub-card');
  assert.equal(vision!.multimodal, true);
  assert.equal(vision!.parents[0]!.ref, 'meta-llama/Llama-3.2-11B-Vision');
  assert.equal(vision!.parents[0]!.license, 'llama3.2');
  assert.equal(qwen!.license, 'tongyi-qianwen', 'license: other decided by the LICENSE text');
  assert.equal(qwen!.evidence[0]!.source, 'license-file');
  assert.equal(teacher!.license, 'llama2', 'private repo read with the token');
  assert.equal(nolicense!.license, null);
  assert.equal(missing!.license, null);
  assert.match(missing!.problems.map((p) => p.message).join(' '), /does not exist/);
  assert.ok(progress.some((p) => p.includes('meta-llama/Llama-3.2-11B-Vision-Instruct')));

  const report = checkDerivative(config, lineage);
  const keys = report.findings.map((f) => f.key);
  assert.ok(keys.includes('eu-multimodal:llama3.2'), keys.join(' '));
  assert.ok(keys.includes('outputs-training:llama2'));
  assert.ok(keys.includes('license-unknown:acme/no-license'));
  assert.ok(keys.includes('license-unknown:acme/does-not-exist'));
  assert.equal(renderNotice(lineage), [
    'Llama 3.2 is licensed under the Llama 3.2 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    'Tongyi Qianwen is licensed under the Tongyi Qianwen LICENSE AGREEMENT, Copyright (c) Alibaba Cloud. All Rights Reserved.',
    '',
  ].join('\n'), 'outputs-only Llama 2 adds no NOTICE line: no Llama 2 materials are distributed');
  for (const out of [renderText(report), renderJson(report), progress.join('\n')]) assert.ok(!out.includes(TOKEN));
  assert.ok(hub.log.some((e) => e.authorization), 'the token was sent to the hub');
});

test('without a token the private repo is undetermined, not an exception', async (t) => {
  const hub = await startHubServer();
  t.after(() => hub.close());
  await hub.addRepo({ id: 'acme/private-teacher', private: true, files: { 'README.md': '---\nlicense: llama2\n---\n' } });
  const lineage = await resolveLineage({ baseModels: ['acme/private-teacher'], baseDir: process.cwd(), hub: hubCardSource(new HubClient({ endpoint: hub.url })) });
  assert.equal(lineage.roots[0]!.license, null);
  assert.ok(lineage.roots[0]!.problems.length > 0);
});

test('offline: the hub is never asked', async (t) => {
  const hub = await startHubServer();
  t.after(() => hub.close());
  await hub.addRepo({ id: 'meta-llama/Llama-3.1-8B', files: { 'README.md': '---\nlicense: llama3.1\n---\n' } });
  const lineage = await resolveLineage({ baseModels: ['meta-llama/Llama-3.1-8B'], baseDir: process.cwd(), offline: true, hub: hubCardSource(new HubClient({ endpoint: hub.url })) });
  assert.equal(lineage.roots[0]!.license, null);
  assert.match(lineage.roots[0]!.problems[0]!.message, /offline/);
  assert.equal(hub.log.length, 0);
});

test('through HubClient (fetchForRepo): a 503 is retried; a hub that stays down is a NetworkError (exit 6), not a finding', async (t) => {
  const hub = await startHubServer({ tokens: { [TOKEN]: 'acme' } });
  t.after(() => hub.close());
  await hub.addRepo({ id: 'meta-llama/Llama-3.1-8B', gated: 'manual', files: { 'README.md': '---\nlicense: llama3.1\n---\n' } });
  const retry = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5 };
  const client = new HubClient({ endpoint: hub.url, token: TOKEN, retry });
  const source = hubCardSource(client);
  const fault = hub.injectFault({ kind: 'status', status: 503, times: 1 });
  const lineage = await resolveLineage({ baseModels: ['meta-llama/Llama-3.1-8B'], baseDir: process.cwd(), hub: source });
  assert.equal(lineage.roots[0]!.license, 'llama3.1');
  assert.equal(fault.applied, 1);
  hub.injectFault({ kind: 'status', status: 503, times: 10 });
  await assert.rejects(
    resolveLineage({ baseModels: ['meta-llama/Llama-3.1-8B'], baseDir: process.cwd(), hub: source }),
    (e: unknown) => isLlamaError(e) && e.exitCode === 6,
  );
});

test('hubAccess: offline gives no hub; online builds a source on HubClient from the flags', async (t) => {
  const hub = await startHubServer();
  t.after(() => hub.close());
  await hub.addRepo({ id: 'google/gemma-2b', files: { 'README.md': '---\nlicense: gemma\n---\n' } });
  const offline = await hubAccess({ offline: true, 'cache-dir': '/nonexistent' }, () => {});
  assert.equal(offline.hub, undefined);
  const online = await hubAccess({ offline: false, endpoint: hub.url, 'cache-dir': '/nonexistent' }, () => {});
  const lineage = await resolveLineage({ baseModels: ['google/gemma-2b'], baseDir: process.cwd(), hub: online.hub!, cacheDir: online.cacheDir });
  assert.equal(lineage.roots[0]!.license, 'gemma');
});
