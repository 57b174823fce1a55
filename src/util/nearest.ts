/** "Did you mean …?": the known name closest to what was typed, by edit distance (insert, delete, substitute, swap). */

/** Optimal string alignment distance: Levenshtein plus a swap of two neighbours counting as one edit (chek/ckeh). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/**
 * The candidate nearest to `typed` (case-insensitive), if it is near enough to be what was meant: at most a third
 * of the candidate's length in edits (at least 1, at most 3), or `typed` (2+ characters) starts one candidate, or
 * starts only that candidate and longer names that begin with it.
 */
export function nearest(typed: string, candidates: Iterable<string>): string | undefined {
  const t = typed.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  const prefixed: string[] = [];
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    if (t.length >= 2 && c.startsWith(t)) prefixed.push(candidate);
    const distance = editDistance(t, c);
    const allowed = Math.min(3, Math.max(1, Math.floor(c.length / 3)));
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return best;
  // `lic` → license (whose subcommands `license check`, … also start with it): the shortest, if it starts them all.
  const shortest = prefixed.sort((x, y) => x.length - y.length)[0];
  return shortest !== undefined && prefixed.every((p) => p.toLowerCase().startsWith(shortest.toLowerCase())) ? shortest : undefined;
}
