/**
 * A model card's YAML front matter: a `---` line, the YAML, a `---` line, at the very start (after an optional
 * UTF-8 BOM). The same rule as huggingface_hub's `REGEX_YAML_BLOCK`, so cards read here as on the Hub.
 * (`convert/metadata.ts` keeps gguf-py's own line-based reading, which the GGUF metadata must match.)
 */
const BLOCK = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

export interface FrontMatter {
  /** The YAML between the fences; undefined when the text has no front matter. */
  yaml: string | undefined;
  /** Everything after the closing fence (the whole text, less a BOM, when there is no front matter). */
  body: string;
}

export function splitFrontMatter(text: string): FrontMatter {
  const withoutBom = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const match = BLOCK.exec(withoutBom);
  if (!match) return { yaml: undefined, body: withoutBom };
  return { yaml: match[1] ?? '', body: withoutBom.slice(match[0].length) };
}
