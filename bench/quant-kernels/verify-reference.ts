/**
 * Re-quantize every tensor of llama.cpp's reference outputs from their F32 input and count differing blocks.
 *   node bench/quant-kernels/verify-reference.ts [DIR] [--ts]   (DIR defaults to /work/shared/reference/quant;
 *                                                                 --ts: the TypeScript kernels instead of wasm)
 * DIR holds golden-f32.gguf and llama-quantize's pure-<T>.gguf / mix-<T>.gguf (see its README). Exit 1 on any
 * mismatch. Not a unit test: it needs the shared reference directory, which is not part of the repository.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readGguf, type GgufFile } from '../../src/formats/gguf.ts';
import { kernelBackend, quantizeRows, setKernelBackend } from '../../src/quant/kernels.ts';
import { GGML_TYPES, ggmlTypeById } from '../../src/quant/types.ts';

const args = process.argv.slice(2);
if (args.includes('--ts')) setKernelBackend('ts');
const dir = args.find((a) => !a.startsWith('--')) ?? '/work/shared/reference/quant';
console.log(`kernels: ${kernelBackend()}`);
const inBuf = readFileSync(join(dir, 'golden-f32.gguf'));
const inHdr = await readGguf(join(dir, 'golden-f32.gguf'));

function tensorBytes(buf: Buffer, hdr: GgufFile, name: string): { bytes: Uint8Array; ne: number[]; type: number } {
  const t = hdr.tensors.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no tensor ${name}`);
  const info = ggmlTypeById(t.type);
  if (info === undefined) throw new Error(`type ${t.type}`);
  const n = t.ne.reduce((a, b) => a * b, 1);
  const size = (n / info.blockSize) * info.typeSize;
  const start = hdr.dataStart + t.offset;
  return { bytes: buf.subarray(start, start + size), ne: t.ne, type: t.type };
}

let bad = 0;
const files = readdirSync(dir).filter((f) => /^(pure|mix)-.*\.gguf$/.test(f)).sort();
for (const f of files) {
  const buf = readFileSync(join(dir, f));
  const hdr = await readGguf(join(dir, f));
  let fileBad = 0;
  let blocks = 0;
  const t0 = performance.now();
  for (const t of hdr.tensors) {
    const info = ggmlTypeById(t.type);
    if (info === undefined) throw new Error(`${f}: ${t.name} has type ${t.type}`);
    const src = tensorBytes(inBuf, inHdr, t.name);
    const x = new Float32Array(new Uint8Array(src.bytes).buffer);
    const got = quantizeRows(info.name, x, t.ne[0]!);
    const exp = tensorBytes(buf, hdr, t.name).bytes;
    const ts = GGML_TYPES[info.name].typeSize;
    for (let b = 0; b * ts < exp.length; b++) {
      blocks++;
      for (let k = b * ts; k < (b + 1) * ts; k++) {
        if (got[k] !== exp[k]) {
          fileBad++;
          if (fileBad <= 3) console.log(`  ${f} ${t.name} ${info.name} block ${b} (row ${Math.floor((b * GGML_TYPES[info.name].blockSize) / t.ne[0]!)}) differs at byte ${k - b * ts}`);
          break;
        }
      }
    }
  }
  bad += fileBad;
  console.log(`${f.padEnd(20)} blocks=${blocks} mismatching=${fileBad} (${(performance.now() - t0).toFixed(0)} ms)`);
}
console.log(`TOTAL mismatching blocks: ${bad}`);
process.exitCode = bad === 0 ? 0 : 1;
