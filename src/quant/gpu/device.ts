/**
 * GPU adapter discovery through the bundled WebGPU runtime (the `webgpu` package: Dawn for Node).
 *
 * API
 * - `openGpu({ allowSoftware? })`: the adapter and a device on it, with `GpuAdapterInfo` (name, backend, vendor,
 *   architecture, software). Throws EnvironmentError GPU_UNAVAILABLE (exit 7) when there is no adapter, naming what
 *   is missing: the runtime (dawn.node), the Vulkan loader (libvulkan.so.1), a Vulkan driver (ICD file), or an
 *   adapter Dawn refused; GPU_SOFTWARE_ONLY when only a software adapter exists and `allowSoftware` is false.
 * - `probeGpu({ env?, onRuntimeOutput? })`: the same discovery without throwing, in a child process (so Dawn's and the
 *   Vulkan loader's messages reach `onRuntimeOutput`, not the terminal): `{ ok: true, info }` or `{ ok: false, error }`,
 *   for `--device auto` (which must treat a software adapter as no GPU: check `info.software`).
 * - `isSoftwareAdapter(info)`: llvmpipe / lavapipe / SwiftShader / WARP and Dawn's fallback adapters count as software.
 * - `vulkanDiagnosis()`: what this machine has of the Vulkan stack (loader found where, ICD manifests found);
 *   `missingGpuError(diagnosis)`: the exit-7 error that names the missing piece.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError, type ErrorJson } from '../../errors.ts';

export interface GpuAdapterInfo {
  /** Human-readable adapter name (Dawn's description, e.g. "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)"). */
  name: string;
  /** Graphics API Dawn drives it through: vulkan, metal, d3d12. */
  backend: string;
  /** Vendor as Dawn reports it (nvidia, amd, intel, apple, mesa, …). */
  vendor: string;
  architecture: string;
  device: string;
  /** A CPU rasterizer (llvmpipe/lavapipe, SwiftShader, WARP) or Dawn's fallback adapter: never picked by auto. */
  software: boolean;
}

export interface OpenedGpu {
  adapter: GPUAdapter;
  device: GPUDevice;
  info: GpuAdapterInfo;
}

const SOFTWARE_NAME = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|\bwarp\b/i;

export function isSoftwareAdapter(info: Omit<GpuAdapterInfo, 'software'> & { fallback?: boolean }): boolean {
  if (info.fallback === true) return true;
  if (info.architecture.toLowerCase() === 'software') return true;
  return SOFTWARE_NAME.test(`${info.name} ${info.device} ${info.vendor}`);
}

function backendForPlatform(): string {
  if (process.platform === 'darwin') return 'metal';
  if (process.platform === 'win32') return 'd3d12';
  return 'vulkan';
}

export interface VulkanDiagnosis {
  /** Not Linux: the Vulkan checks do not apply (Metal / D3D12 come with the OS). */
  applicable: boolean;
  /** Where libvulkan.so.1 was found, or null. */
  loader: string | null;
  /** ICD manifest files found (each names one Vulkan driver). */
  icds: string[];
  /** Set when VK_DRIVER_FILES / VK_ICD_FILENAMES chose the drivers: the variable's name. */
  driverEnv?: string;
}

function ldConfigDirs(): string[] {
  const dirs: string[] = [];
  try {
    const confDir = '/etc/ld.so.conf.d';
    for (const f of readdirSync(confDir)) {
      if (!f.endsWith('.conf')) continue;
      for (const line of readFileSync(join(confDir, f), 'utf8').split('\n')) {
        const t = line.trim();
        if (t.startsWith('/')) dirs.push(t);
      }
    }
  } catch {
    // no ld.so.conf.d: the default directories below still apply
  }
  return dirs;
}

/** Look for the pieces of the Vulkan stack the dynamic loader and the Vulkan loader would use. */
export function vulkanDiagnosis(env: NodeJS.ProcessEnv = process.env): VulkanDiagnosis {
  if (process.platform !== 'linux') return { applicable: false, loader: null, icds: [] };
  const libDirs = [
    ...(env.LD_LIBRARY_PATH ?? '').split(delimiter).filter((d) => d !== ''),
    ...ldConfigDirs(),
    '/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib',
    `/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
    `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
  ];
  const loader = libDirs.map((d) => join(d, 'libvulkan.so.1')).find((p) => existsSync(p)) ?? null;
  const icds: string[] = [];
  const driverEnv = env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : env.VK_ICD_FILENAMES ? 'VK_ICD_FILENAMES' : undefined;
  if (driverEnv !== undefined) {
    for (const p of (env[driverEnv] ?? '').split(delimiter)) if (existsSync(p)) icds.push(p);
    return { applicable: true, loader, icds, driverEnv };
  } else {
    const dataDirs = (env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(delimiter);
    const icdDirs = ['/etc/vulkan/icd.d', ...dataDirs.map((d) => join(d, 'vulkan', 'icd.d'))];
    for (const dir of new Set(icdDirs)) {
      try {
        for (const f of readdirSync(dir)) if (f.endsWith('.json')) icds.push(join(dir, f));
      } catch {
        // directory absent
      }
    }
  }
  return { applicable: true, loader, icds };
}

type WebGpuModule = { create: (options: string[]) => GPU; globals: object };

let runtime: { gpu: GPU } | undefined;

async function loadRuntime(): Promise<GPU> {
  if (runtime !== undefined) return runtime.gpu;
  let mod: WebGpuModule;
  try {
    mod = (await import('webgpu')) as WebGpuModule;
  } catch (error) {
    throw new EnvironmentError('GPU_RUNTIME_MISSING', `The bundled WebGPU runtime (dawn.node from the "webgpu" package) could not be loaded on ${process.platform}-${process.arch}: ${(error as Error).message}`, {
      hint: 'Use --device cpu, or reinstall llama-dist on a platform the "webgpu" package ships binaries for (linux-x64, linux-arm64, darwin, win32).',
      cause: error,
    });
  }
  // The runner uses GPUBufferUsage / GPUMapMode; Dawn exposes them as globals only through this object.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  // Held for the life of the process: dawn.node lives as long as the object create() returns.
  runtime = { gpu: mod.create([]) };
  return runtime.gpu;
}

/** The exit-7 error for "no adapter", naming the missing piece from a Vulkan diagnosis. */
export function missingGpuError(diag: VulkanDiagnosis): EnvironmentError {
  if (diag.applicable && diag.loader === null) {
    return new EnvironmentError('GPU_UNAVAILABLE', 'No GPU adapter: the Vulkan loader libvulkan.so.1 was not found.', {
      hint: 'Install the Vulkan loader (Debian/Ubuntu: apt-get install libvulkan1) and your GPU vendor\'s Vulkan driver, or use --device cpu.',
      details: { missing: 'vulkan-loader', backend: 'vulkan' },
    });
  }
  if (diag.applicable && diag.icds.length === 0) {
    const where = diag.driverEnv !== undefined
      ? `${diag.driverEnv} names no existing ICD manifest`
      : 'no ICD manifest in /usr/share/vulkan/icd.d, /etc/vulkan/icd.d';
    return new EnvironmentError('GPU_UNAVAILABLE', `No GPU adapter: the Vulkan loader is present (${diag.loader}) but no Vulkan driver is installed (${where}).`, {
      hint: 'Install the Vulkan driver for your GPU (NVIDIA: the proprietary driver\'s Vulkan ICD; AMD/Intel: mesa-vulkan-drivers), or use --device cpu.',
      details: { missing: 'vulkan-driver', loader: diag.loader, backend: 'vulkan' },
    });
  }
  if (diag.applicable) {
    return new EnvironmentError('GPU_UNAVAILABLE', `No GPU adapter: Vulkan drivers are installed (${diag.icds.join(', ')}) but none offered an adapter that WebGPU accepts.`, {
      hint: 'The driver may be too old for Dawn (Mesa before 23 lacks required features; Debian 12: install mesa-vulkan-drivers from bookworm-backports) or the GPU is not accessible to this user (check /dev/dri permissions, `vulkaninfo --summary`). Otherwise use --device cpu.',
      details: { missing: 'adapter-refused', loader: diag.loader, icds: diag.icds, backend: 'vulkan' },
    });
  }
  const backend = backendForPlatform();
  return new EnvironmentError('GPU_UNAVAILABLE', `No GPU adapter: ${backend} offered no adapter that WebGPU accepts.`, {
    hint: 'Check that the GPU driver is installed and the GPU is usable from this session, or use --device cpu.',
    details: { missing: 'adapter', backend },
  });
}

function describe(adapter: GPUAdapter): GpuAdapterInfo {
  const i = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const base = {
    name: i.description !== '' ? i.description : i.device !== '' ? i.device : i.vendor,
    backend: backendForPlatform(),
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
  };
  return { ...base, software: isSoftwareAdapter({ ...base, fallback: i.isFallbackAdapter === true }) };
}

export interface OpenGpuOptions {
  /** Accept llvmpipe / SwiftShader (tests, CI); `--device gpu` accepts them too, `--device auto` does not. */
  allowSoftware?: boolean;
}

export async function openGpu(options: OpenGpuOptions = {}): Promise<OpenedGpu> {
  const gpu = await loadRuntime();
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    adapter = null;
  }
  if (adapter === null) throw missingGpuError(vulkanDiagnosis());
  const info = describe(adapter);
  if (info.software && options.allowSoftware === false) {
    throw new EnvironmentError('GPU_SOFTWARE_ONLY', `The only GPU adapter is a software renderer (${info.name}).`, {
      hint: 'Install the driver for a hardware GPU, or use --device cpu (faster than a software renderer).',
      details: { adapter: info },
    });
  }
  // Ask for the adapter's own maxima: the defaults (128 MiB bindings, 256 MiB buffers) are below what GPUs offer.
  const l = adapter.limits;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      },
    });
  } catch (error) {
    throw new EnvironmentError('GPU_UNAVAILABLE', `The GPU adapter ${info.name} refused to create a device: ${(error as Error).message}`, {
      hint: 'Check the GPU driver installation, or use --device cpu.',
      details: { adapter: info },
      cause: error,
    });
  }
  return { adapter, device, info };
}

export type GpuProbe = { ok: true; info: GpuAdapterInfo } | { ok: false; error: EnvironmentError };

/** Discovery in this process, without throwing and without keeping a device (what probe-child.ts runs). */
export async function probeGpuHere(): Promise<GpuProbe> {
  try {
    const gpu = await loadRuntime();
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter === null) return { ok: false, error: missingGpuError(vulkanDiagnosis()) };
    return { ok: true, info: describe(adapter) };
  } catch (error) {
    if (error instanceof EnvironmentError) return { ok: false, error };
    return { ok: false, error: missingGpuError(vulkanDiagnosis()) };
  }
}

export interface ProbeGpuOptions {
  /** The environment the GPU stack reads (VK_DRIVER_FILES, XDG_RUNTIME_DIR, …); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Receives what Dawn and the Vulkan loader printed while looking (the CLI shows it with DEBUG=llama*). */
  onRuntimeOutput?: (text: string) => void;
}

const PROBE_CHILD = new URL(import.meta.url.endsWith('.ts') ? './probe-child.ts' : './probe-child.js', import.meta.url);
/** A driver that hangs in discovery must not hang `--device auto`: after this long the probe counts as no GPU. */
const PROBE_TIMEOUT_MS = 60_000;

/**
 * Discovery without throwing and without keeping a device: what `--device auto` asks before choosing. It runs in a
 * child process, so that the GPU runtime's own output (on file descriptor 2, which a Node program cannot redirect)
 * goes to `onRuntimeOutput` instead of the user's terminal.
 */
export async function probeGpu(options: ProbeGpuOptions = {}): Promise<GpuProbe> {
  const env = options.env ?? process.env;
  const { stdout, stderr, failure } = await new Promise<{ stdout: string; stderr: string; failure?: string }>((resolve) => {
    execFile(process.execPath, [fileURLToPath(PROBE_CHILD)], { env, timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' }, (error, out, err) => {
      resolve({ stdout: out, stderr: err, ...(error !== null ? { failure: error.killed ? `timed out after ${PROBE_TIMEOUT_MS / 1000} s` : error.message } : {}) });
    });
  });
  if (stderr !== '') options.onRuntimeOutput?.(stderr);
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (failure === undefined && line !== undefined) {
    const found = JSON.parse(line) as { ok: true; info: GpuAdapterInfo } | { ok: false; error: ErrorJson };
    if (found.ok) return found;
    const { code, message, hint, details } = found.error;
    return { ok: false, error: new EnvironmentError(code, message, { hint, ...(details !== undefined ? { details } : {}) }) };
  }
  // the probe itself failed (a driver that crashes or hangs in discovery): no usable GPU, and why
  const error = missingGpuError(vulkanDiagnosis(env));
  return {
    ok: false,
    error: new EnvironmentError(error.code, `${error.message} (the adapter probe failed: ${failure ?? 'no answer'})`, {
      hint: error.hint, details: { ...error.details, probe: failure ?? 'no answer' },
    }),
  };
}
