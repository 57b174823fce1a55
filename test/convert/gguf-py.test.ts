/**
 * Cross-check with gguf-py itself (llama.cpp's Python GGUF library), when it is available: GGUF_PY=<llama.cpp>/gguf-py
 * and a python3 with numpy and PyYAML. gguf_py_reference.py writes the model-card / naming metadata and the special
 * vocabulary exactly as convert_hf_to_gguf.py has gguf-py write them; ours must be the same keys, order and values.
 * (The rest of convert needs torch and transformers; the consumer and conversion tests cover it.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openHfSource } from '../../src/convert/source.ts';
import { readGguf } from '../../src/formats/gguf.ts';
import { generateCheckpoint, type CheckpointOptions } from '../support/checkpoint/index.ts';

const GGUF_PY = process.env.GGUF_PY;
const python = spawnSync('python3', ['-c', 'import numpy, yaml'], { encoding: 'utf8' });
const skip = GGUF_PY === undefined ? 'set GGUF_PY=<llama.cpp>/gguf-py to compare with gguf-py' : python.status !== 0 ? 'python3 with numpy and PyYAML not available' : false;

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-ggufpy-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** KVs that are not metadata or special vocabulary (they need torch / transformers in convert). */
const OURS_ONLY = /^(llama\.|general\.(file_type|quantization_version)$|tokenizer\.ggml\.(model|pre|tokens|scores|token_type|add_space_prefix)$)/;

const CASES: Array<[string, CheckpointOptions]> = [
  ['Llama-3.1-8B-Instruct', { version: '3.1', instruct: true, card: { baseModel: 'meta-llama/Llama-3.1-8B', extra: { license_name: 'llama3.1', license_link: 'https://llama.meta.com/llama3_1/license' } } }],
  ['Llama-2-7b-chat-hf', { version: '2', instruct: true }],
  ['Llama-3.2-1B', { version: '3.2' }],
  ['llama-7b', { version: '1', license: { files: 'none' } }],
  ['my-finetune', { version: '3', card: { baseModel: ['meta-llama/Meta-Llama-3-8B', 'https://huggingface.co/org/other-model-v2'], tags: ['x'] } }],
];

for (const [name, options] of CASES) {
  test(`${name}: metadata and special vocabulary as gguf-py writes them`, { skip }, async () => {
    const dir = join(root, name);
    await generateCheckpoint(dir, { seed: 1, ...options });
    const source = await openHfSource(dir);
    const kvs = source.kvs(0).filter((k) => !OURS_ONLY.test(k.key));
    const total = source.tensors.reduce((s, t) => s + t.ne.reduce((a, b) => a * b, 1), 0);
    const nVocab = (source.kvs(0).find((k) => k.key === 'tokenizer.ggml.tokens')!.value.value as string[]).length;
    const bpe = source.kvs(0).find((k) => k.key === 'tokenizer.ggml.model')!.value.value === 'gpt2';
    await source.close();
    const out = join(root, `${name}.gguf`);
    const r = spawnSync('python3', [join(import.meta.dirname, 'gguf_py_reference.py'), dir, String(total), bpe ? 'bpe' : 'spm', String(nVocab), out], {
      encoding: 'utf8',
      env: { ...process.env, GGUF_PY },
    });
    assert.equal(r.status, 0, r.stderr);
    const reference = await readGguf(out);
    assert.deepEqual(kvs.map((k) => k.key), reference.kvs.map((k) => k.key));
    for (let i = 0; i < kvs.length; i++) {
      const ours = kvs[i]!.value;
      const theirs = reference.kvs[i]!.value;
      if (ours.type === 9 && theirs.type === 9) {
        assert.equal(ours.itemType, theirs.itemType, kvs[i]!.key);
        assert.deepEqual([...ours.value], [...theirs.value], kvs[i]!.key);
      } else {
        assert.deepEqual(ours.type === 6 ? { type: 6, value: Math.fround(ours.value) } : ours, theirs, kvs[i]!.key);
      }
    }
  });
}
