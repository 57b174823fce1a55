import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FTYPE_NAMES, GGML_TYPES, LLAMA_FTYPES, ftypeById, ggmlTypeById, parseFtype, rowSizeBytes } from '../../src/quant/types.ts';
import { UsageError } from '../../src/errors.ts';

test('ggml type table: ids, block sizes and bytes per block from ggml', () => {
  const rows = Object.values(GGML_TYPES).map((t) => `${t.name}:${t.id}:${t.blockSize}:${t.typeSize}`);
  assert.deepEqual(rows.sort(), [
    'BF16:30:1:2', 'F16:1:1:2', 'F32:0:1:4', 'Q2_K:10:256:84', 'Q3_K:11:256:110', 'Q4_0:2:32:18', 'Q4_1:3:32:20',
    'Q4_K:12:256:144', 'Q5_0:6:32:22', 'Q5_1:7:32:24', 'Q5_K:13:256:176', 'Q6_K:14:256:210', 'Q8_0:8:32:34',
    'Q8_K:15:256:292',
  ]);
  assert.equal(ggmlTypeById(12)?.name, 'Q4_K');
  assert.equal(ggmlTypeById(4), undefined);
  assert.equal(rowSizeBytes('Q4_K', 4096), 16 * 144);
  assert.equal(rowSizeBytes('F16', 3), 6);
  assert.throws(() => rowSizeBytes('Q4_0', 100), UsageError);
});

test('ftypes: llama_ftype ids and default tensor types', () => {
  assert.equal(LLAMA_FTYPES.Q4_K_M.id, 15);
  assert.equal(LLAMA_FTYPES.BF16.id, 32);
  assert.equal(LLAMA_FTYPES.Q8_0.id, 7);
  assert.equal(LLAMA_FTYPES.Q3_K_L.defaultType, 'Q3_K');
  assert.equal(ftypeById(18)?.name, 'Q6_K');
  assert.equal(Object.keys(LLAMA_FTYPES).length, 17);
});

test('parseFtype: case-insensitive, llama-quantize aliases, UsageError listing the valid names', () => {
  assert.equal(parseFtype('q4_k_m').name, 'Q4_K_M');
  assert.equal(parseFtype(' Q8_0 ').name, 'Q8_0');
  assert.equal(parseFtype('q4_k').name, 'Q4_K_M');
  assert.equal(parseFtype('Q3_K').name, 'Q3_K_M');
  assert.equal(parseFtype('q5_K').name, 'Q5_K_M');
  assert.equal(parseFtype('bf16').name, 'BF16');
  for (const bad of ['Q4', 'IQ2_XXS', '', 'toString', '__proto__']) {
    assert.throws(() => parseFtype(bad), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.equal(e.code, 'QUANT_UNKNOWN_TYPE');
      assert.equal(e.exitCode, 2);
      for (const n of FTYPE_NAMES) assert.ok(e.hint.includes(n), n);
      return true;
    });
  }
});

test('the GGUF reader\'s block-size table (GGML_TYPE_SIZES) agrees with the quantizers\' GGML_TYPES on every type both know', async () => {
  const { GGML_TYPE_SIZES } = await import('../../src/formats/gguf.ts');
  for (const t of Object.values(GGML_TYPES)) {
    assert.deepEqual(GGML_TYPE_SIZES[t.id], [t.name, t.blockSize, t.typeSize], t.name);
  }
});
