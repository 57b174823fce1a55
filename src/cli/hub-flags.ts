import { Flags } from '@oclif/core';

/** The hub flags of the commands that read model cards from the hub (`license check`, `license notice`). */
export const hubFlags = {
  offline: Flags.boolean({ description: 'No network (also HF_HUB_OFFLINE=1): hub repo ids are read from the Hugging Face cache only.', default: false }),
  endpoint: Flags.string({ description: 'Hub URL. Default HF_ENDPOINT, then https://huggingface.co.' }),
  token: Flags.string({ description: 'Hub token. Default HF_TOKEN, then the token file of `hf auth login`.' }),
  'cache-dir': Flags.string({ description: 'Hub cache folder to look repo ids up in. Default HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub.' }),
};
