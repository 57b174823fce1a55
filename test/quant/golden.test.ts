/**
 * Golden vectors: llama.cpp's own llama-quantize output for edge-case and random rows (test/fixtures/quant/README.md)
 * must come out of our kernels byte for byte.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  dequantizeRows, findInvalidBlock, quantizeInto, quantizeRows, setKernelBackend, type KernelBackend,
} from '../../src/quant/kernels.ts';
import { GGML_TYPES, type GgmlTypeName } from '../../src/quant/types.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'quant');
const TYPES: GgmlTypeName[] = ['F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K'];
const SETS = [
  { tag: '256', rowLength: 256 },
  { tag: '512', rowLength: 512 },
];

function f32(file: string): Float32Array {
  const b = readFileSync(join(FIXTURES, file));
  return new Float32Array(new Uint8Array(b).buffer);
}

function firstDifferentBlock(got: Uint8Array, exp: Uint8Array, typeSize: number): number {
  for (let i = 0; i < exp.length; i++) if (got[i] !== exp[i]) return Math.floor(i / typeSize);
  return -1;
}

for (const type of TYPES) {
  // block types have two implementations (WebAssembly by default, TypeScript as fallback): both must match
  const quantized = type !== 'F16' && type !== 'BF16';
  const backends: KernelBackend[] = quantized ? ['wasm', 'ts'] : ['ts'];
  for (const backend of backends) {
    for (const { tag, rowLength } of SETS) {
      test(`${type}${quantized ? ` (${backend})` : ''}: rows of ${rowLength} match llama-quantize byte for byte`, () => {
        const x = f32(`rows-${tag}.f32`);
        const expected = new Uint8Array(readFileSync(join(FIXTURES, `expected-${type}-${tag}.bin`)));
        const previous = setKernelBackend(backend);
        try {
          const got = quantizeRows(type, x, rowLength);
          assert.equal(got.length, expected.length);
          const info = GGML_TYPES[type];
          const bad = firstDifferentBlock(got, expected, info.typeSize);
          assert.equal(bad, -1, `${type}: first differing block ${bad} (row ${Math.floor((bad * info.blockSize) / rowLength)})`);
        } finally {
          setKernelBackend(previous);
        }
      });
    }
  }
}

test('row-by-row quantization at any offset gives the same bytes as the whole tensor', () => {
  const x = f32('rows-512.f32');
  for (const type of ['Q4_K', 'Q5_0', 'Q6_K'] as const) {
    const whole = quantizeRows(type, x, 512);
    const rowBytes = (512 / GGML_TYPES[type].blockSize) * GGML_TYPES[type].typeSize;
    // an odd destination offset and a source offset that is not the start of the buffer
    const dst = new Uint8Array(whole.length + 7);
    for (let r = x.length / 512 - 1; r >= 0; r--) quantizeInto(type, x, r * 512, 512, dst, 7 + r * rowBytes);
    assert.deepEqual(dst.subarray(7), whole);
  }
});

test('dequantizing the golden blocks gives values close to the input (edge rows included)', () => {
  const x = f32('rows-256.f32');
  for (const type of TYPES) {
    const expected = new Uint8Array(readFileSync(join(FIXTURES, `expected-${type}-256.bin`)));
    assert.equal(findInvalidBlock(type, expected), -1, type);
    const y = dequantizeRows(type, expected, 256);
    assert.equal(y.length, x.length);
    // per row: max error relative to the row's max |x| (row 3 holds sparse outliers of 1000 among 0.01)
    for (let r = 0; r < x.length / 256; r++) {
      let amax = 0;
      let err = 0;
      for (let i = r * 256; i < (r + 1) * 256; i++) {
        amax = Math.max(amax, Math.abs(x[i]!));
        err = Math.max(err, Math.abs(y[i]! - x[i]!));
      }
      // scales below the smallest f16 normal (the 1e-6 row) flush towards 0 in llama.cpp too
      assert.ok(err <= amax * 0.6 + 6.2e-5, `${type} row ${r}: error ${err} vs amax ${amax}`);
    }
  }
});
