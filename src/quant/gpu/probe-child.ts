/**
 * Run as a child process by probeGpu: looks for an adapter in this process and writes the outcome as one JSON line
 * on stdout. Dawn and the Vulkan loader print to file descriptor 2 while they look (limit warnings on lavapipe,
 * `vkCreateInstance failed` where no driver is installed); in a child their output reaches the parent as data,
 * which the parent shows only when asked (DEBUG=llama*).
 */
import { writeSync } from 'node:fs';
import { probeGpuHere } from './device.ts';

const found = await probeGpuHere();
const line = found.ok ? { ok: true, info: found.info } : { ok: false, error: found.error.toJSON() };
writeSync(1, `${JSON.stringify(line)}\n`);
// dawn.node keeps the event loop alive as long as the runtime exists
process.exit(0);
