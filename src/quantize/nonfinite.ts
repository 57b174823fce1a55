/** The NaN/Inf check every quantize run makes on the source bytes (llama.cpp refuses such tensors too). */
import { basename } from 'node:path';
import type { SourceTensor } from '../convert/source.ts';
import { IntegrityError, LlamaError } from '../errors.ts';
import { firstNonFinite } from '../quant/nonfinite.ts';
import type { GgmlTypeName } from '../quant/types.ts';

/** Throws the run's error when raw chunk `bytes` of tensor `t`, starting at element `firstElement`, hold NaN/Inf. */
export function checkChunkFinite(t: SourceTensor, type: GgmlTypeName, bytes: Uint8Array, firstElement: number): void {
  const bad = firstNonFinite(type, bytes);
  if (bad >= 0) throw nonFiniteError(t, firstElement + bad);
}

/** The kernels' QUANT_NONFINITE refusal for a chunk starting at `firstElement` of `t`, as the run's error; others as they are. */
export function nonFiniteInChunk(error: unknown, t: SourceTensor, firstElement: number): unknown {
  const e = error as LlamaError;
  if (e instanceof LlamaError && e.code === 'QUANT_NONFINITE' && typeof e.details?.element === 'number') {
    return nonFiniteError(t, firstElement + e.details.element);
  }
  return error;
}

function nonFiniteError(t: SourceTensor, index: number): IntegrityError {
  return new IntegrityError('QUANTIZE_NONFINITE', `tensor ${t.name} in ${basename(t.file)} holds NaN or Inf (element ${index})`, {
    hint: 'The weights are corrupt or the model diverged in training; llama.cpp refuses such tensors too. Re-download or fix the checkpoint.',
    details: { file: t.file, tensor: t.name, element: index },
  });
}

