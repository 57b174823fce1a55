/** `--device` of `llama quantize` (and `quantize.device` in the configuration): where the quantizers may run. */
export const QUANT_DEVICE_MODES = ['auto', 'cpu', 'gpu'] as const;
export type QuantDeviceMode = (typeof QUANT_DEVICE_MODES)[number];
/** Where a run's quantizers did run: `auto` resolves to one of these. */
export type QuantDevice = Exclude<QuantDeviceMode, 'auto'>;
