/**
 * Naming the catalog license a text is. An exact match compares fingerprints of the normalised words (every
 * formatting variant matches, a changed word does not); otherwise the nearest entry by 5-word-shingle similarity is
 * reported with the words that differ, which is how a tampered or edited copy shows up.
 */
import { readFile, stat } from 'node:fs/promises';
import { CATALOG, type LicenseEntry, type LicenseTextFile } from './catalog.ts';
import { fingerprintOfWords, minhash, minhashSimilarity, normalizedWords, similarity, wordDifference } from './normalize.ts';
import { templatesRoot } from './texts.ts';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';

export interface Identification {
  /** `exact`: same words as the catalog text; `variant`: a known upstream revision; `similar`: nearest, not equal;
   *  `marker`: recognised by its key phrases (permissive licenses); `none`: nothing close. */
  match: 'exact' | 'variant' | 'similar' | 'marker' | 'none';
  license: string | null;
  licenseName: string | null;
  role: LicenseTextFile['role'] | null;
  /** 0..1; 1 for exact and variant matches. */
  similarity: number;
  fingerprint: string;
  variantNote?: string;
  /** For `similar`: where the words first differ from the nearest catalog text. */
  difference?: { index: number; expected: string; actual: string };
}

/** The largest file identifyFile reads (the longest catalog text is about 14 kB). */
export const MAX_TEXT_BYTES = 4 * 1024 * 1024;

/** Below this, a text is said to match no catalog license. */
const SIMILARITY_FLOOR = 0.5;

const wordsCache = new Map<string, string[]>();

async function templateWords(text: LicenseTextFile): Promise<string[] | undefined> {
  if (text.template === null) return undefined;
  const cached = wordsCache.get(text.template);
  if (cached) return cached;
  const words = normalizedWords(await readFile(join(templatesRoot(), text.template), 'utf8'));
  wordsCache.set(text.template, words);
  return words;
}

function markerMatch(entry: LicenseEntry, joined: string): boolean {
  return (entry.markers ?? []).some((group) => group.length > 0 && group.every((m) => joined.includes(m)));
}

export async function identifyText(text: string, catalog: readonly LicenseEntry[] = CATALOG): Promise<Identification> {
  const words = normalizedWords(text);
  const fp = fingerprintOfWords(words);
  for (const entry of catalog) {
    for (const file of entry.texts) {
      if (file.fingerprint === fp) return { match: 'exact', license: entry.id, licenseName: entry.name, role: file.role, similarity: 1, fingerprint: fp };
      const variant = file.variants?.find((v) => v.fingerprint === fp);
      if (variant) return { match: 'variant', license: entry.id, licenseName: entry.name, role: file.role, similarity: 1, fingerprint: fp, variantNote: variant.note };
    }
  }
  const joined = words.join(' ');
  for (const entry of catalog) {
    if (markerMatch(entry, joined)) return { match: 'marker', license: entry.id, licenseName: entry.name, role: 'license', similarity: 1, fingerprint: fp };
  }
  let best: { entry: LicenseEntry; file: LicenseTextFile; score: number; reference?: string[] } | undefined;
  let signature: number[] | undefined;
  for (const entry of catalog) {
    for (const file of entry.texts) {
      const reference = await templateWords(file);
      let score: number;
      if (reference) score = similarity(reference, words);
      else if (file.minhash) score = minhashSimilarity(file.minhash, (signature ??= minhash(words)));
      else continue;
      if (!best || score > best.score) best = { entry, file, score, ...(reference ? { reference } : {}) };
    }
  }
  if (!best || best.score < SIMILARITY_FLOOR) {
    return { match: 'none', license: null, licenseName: null, role: null, similarity: best?.score ?? 0, fingerprint: fp };
  }
  const result: Identification = { match: 'similar', license: best.entry.id, licenseName: best.entry.name, role: best.file.role, similarity: best.score, fingerprint: fp };
  if (best.reference) {
    const diff = wordDifference(best.reference, words);
    if (diff) result.difference = diff;
  }
  return result;
}

export async function identifyFile(path: string, catalog?: readonly LicenseEntry[]): Promise<Identification> {
  let text: string;
  try {
    // License texts are kilobytes; refuse to load a weights file given by mistake.
    const { size } = await stat(path);
    if (size > MAX_TEXT_BYTES) {
      throw new UsageError('LICENSE_FILE_TOO_LARGE', `${path} is ${size} bytes, too large to be a license text.`, {
        hint: 'Give the LICENSE / USE_POLICY file itself, not a model file.',
        details: { file: path, size },
      });
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError('LICENSE_FILE_UNREADABLE', `Cannot read ${path}: ${(error as Error).message}.`, {
      hint: 'Give the path of a license text file.',
      details: { file: path },
      cause: error,
    });
  }
  return identifyText(text, catalog);
}

/** What `llama license identify` prints for a result, one line each. */
export function identificationLines(file: string, result: Identification): string[] {
  const pct = `${(result.similarity * 100).toFixed(1)}%`;
  if (result.match === 'exact') return [`${file}: ${result.licenseName} [${result.license}] — exact match (${result.role}), similarity 100%`];
  if (result.match === 'variant') return [`${file}: ${result.licenseName} [${result.license}] — known variant (${result.variantNote ?? ''}), similarity 100%`];
  if (result.match === 'marker') return [`${file}: ${result.licenseName} [${result.license}] — recognised by its key phrases`];
  if (result.match === 'similar') {
    const lines = [`${file}: NOT an exact catalog text; nearest is ${result.licenseName} [${result.license}] (${result.role}), similarity ${pct}`];
    if (result.difference) lines.push(`  first difference at word ${result.difference.index + 1}: expected “${result.difference.expected}”, found “${result.difference.actual}”`);
    return lines;
  }
  return [`${file}: matches no catalog license (best similarity ${pct})`];
}
