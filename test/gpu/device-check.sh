#!/usr/bin/env bash
# One-shot GPU check for a machine with a real GPU (e.g. the H100 device machine): prints the machine, the Vulkan
# stack and the adapter Dawn picks, runs the GPU tests (test/gpu/*.test.ts: every type byte-identical to the CPU
# path) and the throughput benchmark (bench/quant-gpu/run.ts). Exit status: the tests' status.
#   bash test/gpu/device-check.sh   (MB=64 TYPES=Q8_0,Q4_0,Q4_K,Q6_K RUNS=3 change the benchmark; MB defaults to 64,
#                                    2 on a software adapter)
# On a bare machine, carry node_modules/.device-check made by test/gpu/device-pack.sh: Node, dawn.node and the
# Vulkan loader are unpacked from it when missing. Logs also go to $OUT when that is set.
set -u
cd "$(dirname "$0")/../.."
root=$(pwd)
pack=node_modules/.device-check
log=${OUT:-/tmp}/device-check.log
exec > >(tee "$log") 2>&1

unxz_to() { # unxz_to SRC DEST
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; fi
}

echo "== machine"
uname -srm
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

echo "== node"
if ! command -v node >/dev/null || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=18)?0:1)'; then
  [ -s "$pack/node.xz" ] || { echo "no Node >= 22.18 and no $pack/node.xz: run test/gpu/device-pack.sh and carry $pack"; exit 2; }
  mkdir -p /tmp/device-check-bin && unxz_to "$pack/node.xz" /tmp/device-check-bin/node && chmod +x /tmp/device-check-bin/node
  export PATH=/tmp/device-check-bin:$PATH
fi
node --version
if [ ! -s node_modules/webgpu/dist/linux-x64/dawn.node ]; then
  [ -s "$pack/dawn.node.xz" ] || { echo "no node_modules/webgpu and no $pack/dawn.node.xz"; exit 2; }
  mkdir -p node_modules/webgpu/dist/linux-x64
  cp "$pack/index.js" "$pack/package.json" node_modules/webgpu/
  unxz_to "$pack/dawn.node.xz" node_modules/webgpu/dist/linux-x64/dawn.node
fi

echo "== vulkan"
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
for lib in libvulkan.so.1 libGLdispatch.so.0 libGLX.so.0 libEGL.so.1; do
  if ! "$ldconfig" -p 2>/dev/null | grep -q "$lib "; then
    for f in "$pack"/*.deb; do [ -e "$f" ] && dpkg -x "$f" / && echo "unpacked $f"; done
    "$ldconfig" 2>/dev/null || true
    break
  fi
done
"$ldconfig" -p 2>/dev/null | grep 'libvulkan.so.1 ' || echo "no libvulkan.so.1 in the ldconfig cache"
icds=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json /usr/local/share/vulkan/icd.d/*.json 2>/dev/null | grep -i nvidia || true)
# NVIDIA's container runtime puts the driver's own manifest here; the generic one in /usr/share did not load (H200).
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
echo "ICDs: ${icds:-none in the standard folders}; VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}

echo "== adapter"
node --input-type=module -e "
  const m = await import('$root/src/quant/gpu/device.ts');
  console.log(JSON.stringify({ diagnosis: m.vulkanDiagnosis(), probe: await m.probeGpu() }, null, 1));"

echo "== GPU tests"
node --test --test-reporter=spec test/gpu/*.test.ts
rc=$?
echo "GPU tests exit status: $rc"

echo "== benchmark"
timeout 300 node bench/quant-gpu/run.ts ${MB:+--mb "$MB"} --types "${TYPES:-Q8_0,Q4_0,Q4_K,Q6_K}" --runs "${RUNS:-3}"
echo "benchmark exit status: $?"
exit $rc
