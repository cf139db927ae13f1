#!/bin/sh
# Installs what skiff and its tests need on Debian/Ubuntu (run as root, e.g. with sudo).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Runtime: id mapping helpers, util-linux (unshare, nsenter), OCI runtimes, overlay and network helpers, gnupg
# (image sign, and pulls whose signature policy says signedBy).
# Build: a C compiler and make for native/, zlib's and OpenSSL's headers (the addon calls Node's); clang-format for
# `npm run lint`. Tests: a registry, busybox-static for fixtures, htpasswd, openssl, xz-utils and bzip2 (ADD's
# archives), zstd (push --compression-format zstd), and skopeo and podman (to check that what skiff writes, other tools read; never used by skiff), openssh (image scp: ssh, and a test sshd).
apt-get install -y -qq --no-install-recommends \
  uidmap util-linux procps iproute2 nftables crun runc catatonit fuse-overlayfs passt slirp4netns gnupg \
  gcc make libc6-dev musl-tools zlib1g-dev libssl-dev clang-format ca-certificates \
  docker-registry busybox-static apache2-utils openssl xz-utils bzip2 zstd skopeo podman openssh-server openssh-client >/dev/null
# Node.js with npm and the N-API headers; a Node that did not come from Debian brings its own headers.
if ! command -v node >/dev/null 2>&1; then
  apt-get install -y -qq --no-install-recommends nodejs npm libnode-dev >/dev/null
elif [ ! -f /usr/include/node/node_api.h ] && [ ! -f "$(dirname "$(command -v node)")/../include/node/node_api.h" ]; then
  apt-get install -y -qq --no-install-recommends libnode-dev >/dev/null
fi
# The docker-registry package starts a system service on :5000 where systemd runs; skiff's tests
# start their own registries on free loopback ports and do not need it.
# Distributions ship these device nodes world-writable; some minimal hosts and containers do not.
chmod 0666 /dev/fuse /dev/net/tun 2>/dev/null || true
echo "skiff dependencies installed"
