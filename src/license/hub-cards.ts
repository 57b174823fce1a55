/**
 * A ModelCardSource on the hub: the model info's `cardData` (README.md front matter as a fallback) and `config`,
 * read through `@huggingface/hub` with the project's one hub client underneath (src/hub/client.ts: the token only
 * for the hub's own origin and never handed to the library, which would refuse a mirror's token not starting with
 * `hf_`; retries, timeouts and typed errors the same as for `llama pull`).
 */
import { downloadFile, modelInfo } from '@huggingface/hub';
import type { HubClient } from '../hub/client.ts';
import { isLlamaError } from '../errors.ts';
import { cardMetadataFromObject, cardSaysMultimodal, configSaysMultimodal, parseModelCard } from './card.ts';
import type { ModelCardSource } from './lineage.ts';

export function hubCardSource(client: HubClient): ModelCardSource {
  const common = (repo: string, path?: string) => ({ hubUrl: client.endpoint, fetch: client.fetchFor({ repo, ...(path !== undefined ? { path } : {}) }) });
  const fetchText = async (repo: string, path: string): Promise<string | undefined> => {
    const blob = await downloadFile({ ...common(repo, path), repo: { type: 'model', name: repo }, path });
    return blob === null ? undefined : await blob.text();
  };
  return {
    fetchText,
    async fetchCard(repo) {
      let info: { cardData?: unknown; config?: unknown; task?: unknown };
      try {
        info = (await modelInfo({ ...common(repo), name: repo, additionalFields: ['cardData', 'config'] })) as typeof info;
      } catch (error) {
        if (isLlamaError(error) && error.code === 'HUB_REPO_NOT_FOUND') return undefined;
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
