/**
 * Meta's `checklist.chk`: one line per file, `<md5>  ./<path>` (md5sum's format; Meta's download.sh ran
 * `md5sum -c checklist.chk`, llama-stack's verify-download reads the same lines; ../shared/research/publish-sign-quant2.md
 * §6). A known failure: the link hands out Facebook's HTML "unsupported browser" page instead, which md5sum then
 * rejects with "no properly formatted MD5 checksum lines"; that is an integrity error here, named as such.
 */
import { IntegrityError } from '../errors.ts';

export const CHECKLIST = 'checklist.chk';

/** path (without the leading ./) → md5 (lower-case hex). */
export type Checklist = Map<string, string>;

function looksLikeHtml(text: string): boolean {
  const head = text.trimStart().slice(0, 512).toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html') || /<(html|head|body|title)[\s>]/.test(head);
}

/** A path from the checklist that stays inside the model folder. */
export function safeChecklistPath(path: string): boolean {
  return path !== '' && !path.startsWith('/') && !path.includes('\\') && !path.split('/').some((p) => p === '' || p === '.' || p === '..');
}

export function parseChecklist(text: string, contentType?: string): Checklist {
  if (looksLikeHtml(text) || /text\/html/i.test(contentType ?? '')) {
    throw new IntegrityError('META_CHECKLIST_HTML', `${CHECKLIST} is an HTML page, not a list of md5 sums (the download host served a web page in its place).`, {
      hint: 'Nothing is checked against it and no weights were fetched. Request a new link from Meta (llama.com/llama-downloads) and run the command again; completed files are kept.',
    });
  }
  const out: Checklist = new Map();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^([0-9a-fA-F]{32}) [ *](.+)$/.exec(line.trimEnd());
    const path = m?.[2]?.replace(/^\.\//, '');
    if (!m || path === undefined || !safeChecklistPath(path)) {
      throw new IntegrityError('META_CHECKLIST_INVALID', `${CHECKLIST} line ${i + 1} is not "<md5>  ./<file>": ${JSON.stringify(line.slice(0, 80))}.`, {
        hint: 'The checklist is damaged or not Meta\'s; request a new link and run the command again.',
        details: { line: i + 1 },
      });
    }
    out.set(path, (m[1] as string).toLowerCase());
  });
  if (out.size === 0) {
    throw new IntegrityError('META_CHECKLIST_EMPTY', `${CHECKLIST} lists no files.`, { hint: 'Request a new link from Meta and run the command again.' });
  }
  return out;
}
