/**
 * What a checkpoint says about its license: the model card's YAML front matter (`license`, `license_name`,
 * `license_link`, `base_model`, `pipeline_tag`, `tags`; hub-docs modelcard.md) and config.json (a vision tower makes a
 * model multimodal). Parsing is forgiving: a malformed card yields no metadata rather than an exception, and the
 * lineage then reports the license as undetermined.
 */
import { splitFrontMatter } from '../util/front-matter.ts';
import { parse } from 'yaml';

export interface CardMetadata {
  license?: string;
  licenseName?: string;
  licenseLink?: string;
  baseModels: string[];
  baseModelRelation?: string;
  pipelineTag?: string;
  tags: string[];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function strList(value: unknown): string[] {
  if (typeof value === 'string') return value.trim() === '' ? [] : [value.trim()];
  if (Array.isArray(value)) return value.flatMap(strList);
  return [];
}

/** Card metadata from a parsed `cardData` object (hub API) or front matter. */
export function cardMetadataFromObject(data: unknown): CardMetadata {
  const obj = data !== null && typeof data === 'object' ? (data as Record<string, unknown>) : {};
  const license = Array.isArray(obj.license) ? str(obj.license[0]) : str(obj.license);
  const meta: CardMetadata = { baseModels: strList(obj.base_model), tags: strList(obj.tags) };
  if (license !== undefined) meta.license = license;
  const licenseName = str(obj.license_name);
  if (licenseName !== undefined) meta.licenseName = licenseName;
  const licenseLink = str(obj.license_link);
  if (licenseLink !== undefined) meta.licenseLink = licenseLink;
  const relation = str(obj.base_model_relation);
  if (relation !== undefined) meta.baseModelRelation = relation;
  const pipelineTag = str(obj.pipeline_tag);
  if (pipelineTag !== undefined) meta.pipelineTag = pipelineTag;
  return meta;
}

/** The YAML front matter of a README.md model card; undefined when there is none or it does not parse. */
export function parseModelCard(markdown: string): CardMetadata | undefined {
  const { yaml } = splitFrontMatter(markdown);
  if (yaml === undefined) return undefined;
  try {
    return cardMetadataFromObject(parse(yaml));
  } catch {
    return undefined;
  }
}

const MULTIMODAL_PIPELINES = new Set(['image-text-to-text', 'visual-question-answering', 'image-to-text', 'any-to-any', 'video-text-to-text', 'audio-text-to-text']);

/** Whether card metadata marks a multimodal model; undefined when it says nothing either way. */
export function cardSaysMultimodal(meta: CardMetadata | undefined): boolean | undefined {
  if (!meta) return undefined;
  if (meta.pipelineTag !== undefined) return MULTIMODAL_PIPELINES.has(meta.pipelineTag);
  if (meta.tags.some((t) => t.toLowerCase() === 'multimodal' || MULTIMODAL_PIPELINES.has(t.toLowerCase()))) return true;
  return undefined;
}

/**
 * Whether a transformers config.json describes a multimodal model: a vision/audio sub-config (Mllama for Llama 3.2
 * Vision, Llama 4's `vision_config`) or an architecture that takes images.
 */
export function configSaysMultimodal(config: unknown): boolean | undefined {
  if (config === null || typeof config !== 'object') return undefined;
  const obj = config as Record<string, unknown>;
  if ('vision_config' in obj || 'audio_config' in obj || 'image_token_index' in obj) return true;
  const archs = strList(obj.architectures);
  if (archs.some((a) => /Vision|Mllama|Llama4ForConditionalGeneration|Gemma3ForConditionalGeneration|Llava|VL|ImageTextToText/.test(a))) return true;
  if (archs.length > 0) return false;
  return undefined;
}
