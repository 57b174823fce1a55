/**
 * `--device cpu | gpu | auto` for `llama quantize`: which quantizer runs, and why.
 *
 * API
 * - `selectQuantDevice(mode, options?)` → `{ device: 'cpu' | 'gpu', quantizer?, adapter?, note }`:
 *   - `cpu`: the CPU path.
 *   - `gpu`: the GPU quantizer on whatever adapter exists, software ones included (so CI can run it on lavapipe);
 *     no adapter → EnvironmentError GPU_UNAVAILABLE (exit 7) naming what is missing.
 *   - `auto`: a hardware adapter if there is one, else the CPU path; a software adapter (llvmpipe, SwiftShader)
 *     counts as none. Never throws for a missing GPU: `note` says why the CPU was chosen.
 *   `adapter` (name, backend, vendor, software) is set whenever an adapter was found, for the output and --json.
 *   The caller owns `quantizer` and must `destroy()` it.
 */
import { UsageError } from '../../errors.ts';
import { probeGpu, type GpuAdapterInfo, type GpuProbe, type ProbeGpuOptions } from './device.ts';
import type { QuantDevice } from './modes.ts';
import { createGpuQuantizer, type GpuQuantizer, type GpuQuantizerOptions } from './runner.ts';

export { QUANT_DEVICE_MODES, type QuantDevice, type QuantDeviceMode } from './modes.ts';

export interface QuantDeviceChoice {
  device: QuantDevice;
  quantizer?: GpuQuantizer;
  adapter?: GpuAdapterInfo;
  /** One line for the user: what was chosen and why. */
  note: string;
}

export interface SelectQuantDeviceOptions extends Omit<GpuQuantizerOptions, 'allowSoftware'>, ProbeGpuOptions {
  /** Adapter probe (default: probeGpu with `env` and `onRuntimeOutput`); tests pass their own. */
  probe?: () => Promise<GpuProbe>;
}

export async function selectQuantDevice(mode: string, options: SelectQuantDeviceOptions = {}): Promise<QuantDeviceChoice> {
  const { env, onRuntimeOutput, ...rest } = options;
  const { probe = () => probeGpu({ ...(env !== undefined ? { env } : {}), ...(onRuntimeOutput !== undefined ? { onRuntimeOutput } : {}) }), ...gpuOptions } = rest;
  if (mode === 'cpu') return { device: 'cpu', note: 'quantizing on the CPU (--device cpu)' };
  if (mode === 'gpu') {
    const quantizer = await createGpuQuantizer({ ...gpuOptions, allowSoftware: true });
    const a = quantizer.adapterInfo;
    return { device: 'gpu', quantizer, adapter: a, note: `quantizing on ${a.name} (${a.backend}, ${a.vendor}${a.software ? ', software renderer' : ''})` };
  }
  if (mode !== 'auto') {
    throw new UsageError('QUANT_DEVICE', `Unknown --device "${mode}".`, { hint: 'Use --device cpu, gpu or auto.', details: { given: mode } });
  }
  const found = await probe();
  if (!found.ok) return { device: 'cpu', note: `quantizing on the CPU: ${found.error.message}` };
  if (found.info.software) {
    return { device: 'cpu', adapter: found.info, note: `quantizing on the CPU: the only GPU adapter is a software renderer (${found.info.name})` };
  }
  try {
    const quantizer = await createGpuQuantizer({ ...gpuOptions, allowSoftware: false });
    const a = quantizer.adapterInfo;
    return { device: 'gpu', quantizer, adapter: a, note: `quantizing on ${a.name} (${a.backend}, ${a.vendor})` };
  } catch (error) {
    return { device: 'cpu', adapter: found.info, note: `quantizing on the CPU: ${(error as Error).message}` };
  }
}
