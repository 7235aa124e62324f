#!/usr/bin/env bash
# Installs the real third-party peers the interop tests talk to: coturn (a STUN/TURN server),
# Chromium (a browser ICE agent), libnice (GNOME's ICE library, driven from Debian's Python
# through GObject introspection), nftables (real Linux NATs between network namespaces) and
# Vovida's stund/stun (classic RFC 3489 STUN server and client).
# Debian packages; needs root (CI is root).
set -u
need=()
command -v turnserver >/dev/null 2>&1 || need+=(coturn)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
/usr/bin/python3 -c 'import gi; gi.require_version("Nice", "0.1")' >/dev/null 2>&1 ||
  need+=(python3-gi gir1.2-nice-0.1)
command -v nft >/dev/null 2>&1 || need+=(nftables)
[ -x /usr/sbin/stund ] || need+=(stun-server)
# Not `command -v stun`: under pnpm, node_modules/.bin/stun (the npm package's tool) comes first.
[ -x /usr/bin/stun ] || need+=(stun-client)
[ ${#need[@]} -eq 0 ] && {
  echo "setup-peers: coturn, chromium, iproute2, libnice (python3-gi), nftables and Vovida stun are present"
  exit 0
}
if [ "$(id -u)" != 0 ]; then
  echo "setup-peers: missing ${need[*]}; run as root or: sudo apt-get install -y ${need[*]}" >&2
  echo "setup-peers: tests that need them will fail with a clear message" >&2
  exit 0
fi
echo "setup-peers: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "setup-peers: apt-get failed to install ${need[*]}; the interop and browser tests will fail" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
# Debian starts coturn (and stund) as services on install; tests start their own on free ports.
systemctl stop coturn >/dev/null 2>&1 || service coturn stop >/dev/null 2>&1 || true
systemctl stop stun-server >/dev/null 2>&1 || service stun-server stop >/dev/null 2>&1 || true
echo "setup-peers: done"
