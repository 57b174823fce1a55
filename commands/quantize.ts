import { Args, Flags } from '@oclif/core';
import { debugEnabled, LlamaCommand } from '../src/cli/base-command.ts';
import { resolveQuantizeOptions } from '../src/quantize/options.ts';
import { quantize, type QuantizeResult } from '../src/quantize/quantize.ts';
import { QUANT_DEVICE_MODES } from '../src/quant/gpu/modes.ts';
import { FTYPE_NAMES } from '../src/quant/types.ts';

export default class Quantize extends LlamaCommand {
  static override summary = 'Convert a Hugging Face Llama checkpoint or an F32/F16/BF16 GGUF to a GGUF of TYPE, bit-identical to llama.cpp.';
  static override description =
    'INPUT is a Hugging Face checkpoint directory (config.json, *.safetensors [+ index], tokenizer files, model card), a repo id already pulled into the cache, or a GGUF file in F32/F16/BF16. ' +
    'From a GGUF the output equals `llama-quantize [--pure] INPUT OUT TYPE`; from a checkpoint it equals convert_hf_to_gguf.py (F32/F16/BF16) or convert_hf_to_gguf.py --outtype f32 followed by llama-quantize (other types). ' +
    'Tensors are streamed one at a time and the file is written under a temporary name, renamed when complete.';
  static override examples = [
    '<%= config.bin %> quantize ./Llama-3.2-1B --type Q4_K_M',
    '<%= config.bin %> quantize model-F16.gguf --type q8_0 --out model-Q8_0.gguf --threads 4 --json',
  ];
  static override args = {
    input: Args.string({ description: 'Checkpoint directory, pulled repo id, or F32/F16/BF16 .gguf file.', required: true }),
  };
  static override flags = {
    type: Flags.string({ description: `Output type (case-insensitive): ${FTYPE_NAMES.join(', ')}. Default: the configuration's quantize.type.` }),
    out: Flags.string({ description: 'Output file. Default <model-name>-<TYPE>.gguf in the current directory.' }),
    device: Flags.string({ description: 'Where to quantize (same bytes everywhere): gpu runs the WGSL kernels on whatever adapter exists (exit 7 if none); auto uses a hardware GPU when there is one, else the CPU (a software renderer such as llvmpipe counts as none); cpu never looks for a GPU. Default: quantize.device, else auto.', options: [...QUANT_DEVICE_MODES] }),
    threads: Flags.integer({ description: 'Worker threads (default: quantize.threads, else all cores). The output does not depend on it.', min: 1 }),
    pure: Flags.boolean({ description: 'As llama-quantize --pure: no per-tensor mixture, every quantizable tensor gets the type\'s base block type.', default: false }),
    'cache-dir': Flags.string({ description: 'Hub cache folder for repo-id inputs. Default HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub.' }),
  };

  async run(): Promise<QuantizeResult> {
    const { args, flags } = await this.parseInput(Quantize);
    const settings = (await this.loadConfig()).config.quantize;
    const options = resolveQuantizeOptions({ ...flags, cacheDir: flags['cache-dir'], input: args.input }, settings, { cwd: process.cwd(), env: process.env });
    const result = await quantize({
      ...options,
      // Ctrl-C / SIGTERM: stops between chunks, the temporary file is removed; the base command exits 130
      signal: this.abortSignal,
      onProgress: this.progress,
      // Dawn's and the Vulkan loader's own messages from the adapter probe: only when debugging
      ...(debugEnabled() ? { onRuntimeOutput: (text: string) => void process.stderr.write(text) } : {}),
    });
    const counts = new Map<string, number>();
    for (const t of result.tensors) counts.set(t.type, (counts.get(t.type) ?? 0) + 1);
    const mix = [...counts].map(([type, n]) => `${n} ${type}`).join(', ');
    this.say(`${result.out}: ${result.type}, ${result.tensors.length} tensors (${mix}), ${result.bytes} bytes`);
    const a = result.adapter;
    if (a !== undefined) this.say(`GPU: ${a.name} (${a.backend}, ${a.vendor}${a.software ? ', software renderer' : ''})`);
    return result;
  }
}
