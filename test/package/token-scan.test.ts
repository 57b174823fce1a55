/**
 * The streaming token scan finds exactly what a search of the whole file would find, however the file is cut into
 * chunks: TOKEN_SHAPE over the whole text (for text files), and each known token as a substring.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOKEN_SHAPE } from '../../src/hub/token.ts';
import { TokenScanner, type TokenMatch } from '../../src/package/token-scan.ts';

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Feed `data` cut at `cuts` (sorted offsets), as the copy pipeline does. */
function scanInChunks(scanner: TokenScanner, data: Buffer, cuts: number[]): TokenMatch | undefined {
  const scan = scanner.file();
  let start = 0;
  for (const cut of [...cuts, data.length]) {
    if (cut <= start) continue;
    const match = scan.feed(data.subarray(start, cut));
    if (match) return match;
    start = cut;
  }
  return scan.end();
}

function cutsFor(next: () => number, length: number): number[] {
  const count = Math.floor(next() * 6);
  return Array.from({ length: count }, () => Math.floor(next() * (length + 1))).sort((a, b) => a - b);
}

describe('token scan', () => {
  it('agrees with TOKEN_SHAPE on the whole text for any chunking (5000 random texts near the rule\'s edges)', () => {
    const next = random(17);
    // Pieces that make near misses likely: prefixes, runs of 29 to 31 letters, word characters around them.
    const run = 'A1b2C3d4E5'.repeat(4);
    const pieces = ['hf_', 'hf_', 'h', 'f', '_', ' ', '\n', 'x', '-', run.slice(0, 29), run.slice(0, 30), run.slice(0, 31), 'a', '9', 'hf_hf_'];
    let found = 0;
    for (let i = 0; i < 5000; i++) {
      const length = 1 + Math.floor(next() * 12);
      const text = Array.from({ length }, () => pieces[Math.floor(next() * pieces.length)]!).join('');
      const data = Buffer.from(text, 'latin1');
      const expected = TOKEN_SHAPE.test(text) ? 'shape' : undefined;
      if (expected) found += 1;
      const cuts = cutsFor(next, data.length);
      assert.equal(scanInChunks(new TokenScanner([]), data, cuts), expected, `text ${JSON.stringify(text)} cut at ${cuts.join(',')}`);
    }
    assert.ok(found > 100 && found < 4900, `the generator should give both outcomes (${found} of 5000 matched)`);
  });

  it('finds a known token wherever the chunks cut it, and only when it is there', () => {
    const next = random(5);
    const token = 'mirror-token-123';
    for (let i = 0; i < 2000; i++) {
      const filler = Buffer.alloc(Math.floor(next() * 80), 0);
      const at = Math.floor(next() * (filler.length + 1));
      const whole = next() < 0.5;
      const inserted = whole ? token : token.slice(0, 1 + Math.floor(next() * (token.length - 1)));
      const data = Buffer.concat([filler.subarray(0, at), Buffer.from(inserted), filler.subarray(at)]);
      const cuts = cutsFor(next, data.length);
      assert.equal(scanInChunks(new TokenScanner([token]), data, cuts), whole ? 'known' : undefined, `${inserted} at ${at}, cut at ${cuts.join(',')}`);
    }
    // UTF-16 text (a Windows log) holds it too.
    assert.equal(new TokenScanner([token]).find(Buffer.from(`log: ${token}\r\n`, 'utf16le')), 'known');
  });

  it('does not search binary content for token shapes', () => {
    const shaped = `hf_${'Z9'.repeat(16)}`;
    assert.equal(new TokenScanner([]).find(Buffer.concat([Buffer.from([0]), Buffer.from(` ${shaped} `)])), undefined);
    assert.equal(new TokenScanner([]).find(Buffer.from(` ${shaped} `)), 'shape');
  });
});
