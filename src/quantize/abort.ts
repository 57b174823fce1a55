import { LlamaError } from '../errors.ts';

export function interrupted(): LlamaError {
  return new LlamaError('unexpected', 'QUANTIZE_INTERRUPTED', 'quantization was interrupted; nothing was written', {
    hint: 'Run the command again; an interrupted run leaves no partial output.',
  });
}
