/**
 * The verbatim license texts shipped in templates/licenses/ (byte-exact upstream copies; PROVENANCE.md per folder).
 * Reading checks the bytes against the catalog's sha256, so a damaged install can never emit a wrong text.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IntegrityError, UsageError } from '../errors.ts';
import type { LicenseEntry, LicenseTextFile } from './catalog.ts';
import { sha256Hex } from './normalize.ts';

let cachedRoot: string | undefined;

/**
 * templates/licenses/ of this installation. Sources run from src/license/, the build from dist/src/license/: walk up
 * (a few levels at most) to the folder that holds templates/licenses.
 */
export function templatesRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'templates', 'licenses');
    if (existsSync(candidate)) {
      cachedRoot = candidate;
      return candidate;
    }
    dir = dirname(dir);
  }
  throw new IntegrityError('LICENSE_TEMPLATES_MISSING', 'The license templates folder (templates/licenses) is missing from this installation.', {
    hint: 'Reinstall llama-dist; the package must include its templates/ folder.',
  });
}

export interface VerbatimText {
  entry: string;
  role: LicenseTextFile['role'];
  /** File name to use when emitting (LICENSE.txt, USE_POLICY.md). */
  fileName: string;
  bytes: Buffer;
  sha256: string;
}

/** The verbatim texts of a license that may be emitted (none for Gemma, Qwen 2024 and the permissive entries). */
export async function readLicenseTexts(entry: LicenseEntry): Promise<VerbatimText[]> {
  const result: VerbatimText[] = [];
  for (const text of entry.texts) {
    if (text.template === null || text.sha256 === null) continue;
    const path = join(templatesRoot(), text.template);
    const bytes = await readFile(path);
    const actual = sha256Hex(bytes);
    if (actual !== text.sha256) {
      throw new IntegrityError('LICENSE_TEMPLATE_CORRUPT', `The verbatim ${entry.name} text at ${path} does not have the recorded sha256.`, {
        hint: 'Reinstall llama-dist; the shipped license texts must be byte-exact upstream copies.',
        details: { file: path, expected: text.sha256, actual },
      });
    }
    result.push({ entry: entry.id, role: text.role, fileName: text.template.split('/').pop() ?? text.template, bytes, sha256: actual });
  }
  return result;
}

/** Whether this tool can emit the license's own text (false for Gemma and Qwen 2024: no byte-exact copy). */
export function hasEmittableText(entry: LicenseEntry): boolean {
  return entry.texts.some((t) => t.role === 'license' && t.template !== null);
}

export function assertEmittable(entry: LicenseEntry): void {
  if (!hasEmittableText(entry)) {
    throw new UsageError('LICENSE_TEXT_UNAVAILABLE', `llama-dist has no byte-exact copy of the ${entry.name} and will not emit one.`, {
      hint: 'Copy the LICENSE file from the base model repository into the package (it is identified and checked against the catalog).',
      details: { license: entry.id },
    });
  }
}
