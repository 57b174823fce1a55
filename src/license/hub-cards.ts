/**
 * A ModelCardSource on @huggingface/hub (moved out of lineage.ts unchanged, so that the hub client work and the
 * lineage work do not touch the same file).
 */
import { downloadFile, modelInfo } from '@huggingface/hub';
import { isLlamaError } from '../errors.ts';
import { registerSecret } from '../redact.ts';
import { cardMetadataFromObject, cardSaysMultimodal, configSaysMultimodal, parseModelCard } from './card.ts';
import type { ModelCardSource } from './lineage.ts';

export interface HubCardSourceOptions {
  /** Hub endpoint (https://huggingface.co or a mirror). */
  hubUrl: string;
  accessToken?: string;
  /** A fetch for every request; default: global fetch. */
  fetch?: typeof fetch;
  /**
   * A fetch per repo, taking precedence over `fetch`: `(repo) => hubClient.fetchFor({ repo })` gives auth for the hub's
   * own origin only, retries with backoff and typed hub errors (src/hub/client.ts). The token then stays in the client.
   */
  fetchForRepo?: (repo: string) => typeof fetch;
}

/** A ModelCardSource on @huggingface/hub: modelInfo's cardData, README.md front matter as a fallback. */
export function hubCardSource(options: HubCardSourceOptions): ModelCardSource {
  registerSecret(options.accessToken);
  const common = (repo: string) => {
    const fetchFn = options.fetchForRepo ? options.fetchForRepo(repo) : options.fetch;
    return {
      hubUrl: options.hubUrl,
      ...(options.accessToken !== undefined ? { accessToken: options.accessToken } : {}),
      ...(fetchFn !== undefined ? { fetch: fetchFn } : {}),
    };
  };
  const fetchText = async (repo: string, path: string): Promise<string | undefined> => {
    const blob = await downloadFile({ ...common(repo), repo: { type: 'model', name: repo }, path });
    return blob === null ? undefined : await blob.text();
  };
  return {
    fetchText,
    async fetchCard(repo) {
      let info: { cardData?: unknown; config?: unknown; task?: unknown };
      try {
        info = (await modelInfo({ ...common(repo), name: repo, additionalFields: ['cardData', 'config'] })) as typeof info;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      let card = info.cardData !== undefined && info.cardData !== null ? cardMetadataFromObject(info.cardData) : undefined;
      if (card === undefined || (card.license === undefined && card.baseModels.length === 0)) {
        const readme = await fetchText(repo, 'README.md').catch(() => undefined);
        card = (readme !== undefined ? parseModelCard(readme) : undefined) ?? card ?? { baseModels: [], tags: [] };
      }
      if (card.pipelineTag === undefined && typeof info.task === 'string') card.pipelineTag = info.task;
      const multimodal = configSaysMultimodal(info.config) ?? cardSaysMultimodal(card);
      return { card, ...(multimodal !== undefined ? { multimodal } : {}) };
    },
  };
}

function isNotFound(error: unknown): boolean {
  if (isLlamaError(error)) return error.code === 'HUB_REPO_NOT_FOUND';
  const status = (error as { statusCode?: unknown }).statusCode;
  return status === 404;
}
