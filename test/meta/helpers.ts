/** A small Meta release as the CDN serves it: two model-parallel shards, params.json, tokenizer.model, checklist.chk. */
import { createHash } from 'node:crypto';
import { pattern } from '../pull/helpers.ts';

export const FOLDER = 'Llama-3.2-1B';
const MiB = 1024 * 1024;

export function md5(data: Uint8Array | string): string {
  return createHash('md5').update(data).digest('hex');
}

export function checklistOf(files: Record<string, Uint8Array | string>): string {
  return Object.entries(files)
    .map(([name, bytes]) => `${md5(bytes)}  ./${name}\n`)
    .join('');
}

export function release(): Record<string, Uint8Array | string> {
  const files: Record<string, Uint8Array | string> = {
    'consolidated.00.pth': pattern(3 * MiB + 123, 21),
    'consolidated.01.pth': pattern(2 * MiB + 7, 22),
    'params.json': '{"dim": 64, "n_layers": 2, "n_heads": 4, "vocab_size": 256, "norm_eps": 1e-05}\n',
    'tokenizer.model': pattern(4096, 23),
  };
  return { ...files, 'checklist.chk': checklistOf(files) };
}
