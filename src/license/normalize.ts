/**
 * Text normalisation and fingerprints for license identification.
 *
 * The same license text exists in several byte variants (trailing whitespace, Markdown decoration such as `**…**`
 * and escaped `1\.`, curly vs straight quotes, list markers, and Hugging Face copies whose Documentation URL is
 * `llama.meta.com/doc/overview` instead of `www.llama.com/docs/overview`: ../shared/research/licenses.md §9.11-12).
 * Byte hashes are therefore not identifiers. We compare the sequence of lower-case alphanumeric words instead:
 * every difference of formatting disappears, while a changed, added or removed word still changes the fingerprint.
 * Version tokens ("3.1", "3.2") are kept on purpose: texts of Llama 3.1-4 differ in little else.
 */
import { splitFrontMatter } from '../util/front-matter.ts';
import { createHash } from 'node:crypto';

/**
 * Known equivalent URL spellings, rewritten before tokenising (facts: PROVENANCE.md of the Llama folders and
 * licenses.md §9.11: Meta moved from llama.meta.com to www.llama.com and from /doc/ to /docs/).
 */
const URL_ALIASES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bhttps?:\/\//gi, ''],
  [/\bwww\./gi, ''],
  [/\bllama\.meta\.com\b/gi, 'llama.com'],
  [/\bllama\.com\/doc\/overview\b/gi, 'llama.com/docs/overview'],
];

/** The words of a text, lower case, formatting (Markdown, punctuation, quotes, whitespace) removed. */
export function normalizedWords(text: string): string[] {
  // A leading YAML front-matter block (model cards, ScanCode transcriptions) and a BOM are not license words.
  let t = splitFrontMatter(text).body.normalize('NFKC');
  for (const [pattern, replacement] of URL_ALIASES) t = t.replace(pattern, replacement);
  // Markdown escapes (`1\.`, `llama3\_3`) join what they escape; underscores inside words (llama3_3) stay words.
  t = t.replace(/\\([\\`*_{}[\]()#+\-.!])/g, '$1').toLowerCase();
  return t.match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** sha256 of the normalised text: equal for every formatting variant of the same words. */
export function fingerprint(text: string): string {
  return fingerprintOfWords(normalizedWords(text));
}

export function fingerprintOfWords(words: readonly string[]): string {
  return createHash('sha256').update(words.join(' ')).digest('hex');
}

export function sha256Hex(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const SHINGLE = 5;
const MINHASH_SIZE = 64;

function shingles(words: readonly string[]): Set<string> {
  const set = new Set<string>();
  if (words.length < SHINGLE) {
    if (words.length > 0) set.add(words.join(' '));
    return set;
  }
  for (let i = 0; i + SHINGLE <= words.length; i++) set.add(words.slice(i, i + SHINGLE).join(' '));
  return set;
}

/** Jaccard similarity of the two texts' 5-word shingles: 1 for the same words, near 0 for unrelated texts. */
export function similarity(a: readonly string[], b: readonly string[]): number {
  const sa = shingles(a);
  const sb = shingles(b);
  if (sa.size === 0 && sb.size === 0) return 1;
  let common = 0;
  for (const s of sa) if (sb.has(s)) common++;
  return common / (sa.size + sb.size - common);
}

/**
 * A MinHash signature of the 5-word shingles (64 values, 32-bit). It lets the catalog recognise texts it may not
 * carry (Gemma, Qwen 2024: only third-party transcriptions exist, which we must never emit) by similarity, without
 * holding the text. Seeded FNV-1a keeps it dependency-free and stable across platforms.
 */
export function minhash(words: readonly string[]): number[] {
  const signature = new Array<number>(MINHASH_SIZE).fill(0xffffffff);
  for (const shingle of shingles(words)) {
    const base = fnv1a(shingle);
    for (let k = 0; k < MINHASH_SIZE; k++) {
      const h = mix(base ^ Math.imul(k + 1, 0x9e3779b1));
      if (h < signature[k]!) signature[k] = h;
    }
  }
  return signature;
}

/** Estimated Jaccard similarity from two signatures: the share of equal positions. */
export function minhashSimilarity(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  if (n === 0) return 0;
  let equal = 0;
  for (let i = 0; i < n; i++) if (a[i] === b[i]) equal++;
  return equal / n;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's 32-bit finaliser: spreads the seeded hash over all bits. */
function mix(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Where two word sequences first and last differ, for a message that says which words changed. */
export function wordDifference(expected: readonly string[], actual: readonly string[]): {
  index: number;
  expected: string;
  actual: string;
} | undefined {
  let start = 0;
  while (start < expected.length && start < actual.length && expected[start] === actual[start]) start++;
  if (start === expected.length && start === actual.length) return undefined;
  let endE = expected.length;
  let endA = actual.length;
  while (endE > start && endA > start && expected[endE - 1] === actual[endA - 1]) {
    endE--;
    endA--;
  }
  const clip = (words: readonly string[], from: number, to: number) => {
    const slice = words.slice(from, Math.min(to, from + 12));
    return slice.join(' ') + (to - from > 12 ? ' …' : '');
  };
  return { index: start, expected: clip(expected, start, endE), actual: clip(actual, start, endA) };
}
