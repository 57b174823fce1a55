#!/usr/bin/env bash
# Prepare what test/gpu/device-check.sh needs on a bare GPU machine that has no Node, no npm packages and maybe no
# Vulkan loader: Node (xz), the linux-x64 dawn.node of the "webgpu" package (xz) with its index.js/package.json, and
# Debian's libvulkan1 and glvnd .debs. Everything goes to node_modules/.device-check/ (ignored by git, ~36 MB), which is the
# one path to carry. Run here, in the repository root or anywhere below it: test/gpu/device-pack.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
pack=node_modules/.device-check
mkdir -p "$pack"
node_bin=$(readlink -f "$(command -v node)")
[ -s "$pack/node.xz" ] || xz -T0 -6 -c "$node_bin" > "$pack/node.xz"
[ -s "$pack/dawn.node.xz" ] || xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$pack/dawn.node.xz"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$pack/"
node --version > "$pack/node-version.txt"
# The Vulkan loader, and the glvnd libraries NVIDIA's Vulkan driver (libGLX_nvidia.so.0) loads: without them the
# loader reports "Could not get 'vkCreateInstance' … for ICD libGLX_nvidia.so.0" and Dawn sees no adapter (seen on
# the H200 device machine).
for deb in libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2; do
  if ! ls "$pack/${deb}"_*.deb >/dev/null 2>&1; then
    (cd "$pack" && apt-get -oAPT::Architecture=amd64 download "$deb") || echo "warning: could not download $deb" >&2
  fi
done
du -sh "$pack"
echo "carry: [\"$pack\"]   command: bash test/gpu/device-check.sh"
