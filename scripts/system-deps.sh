#!/usr/bin/env bash
# Debian packages the project uses: graphviz (the `dot` binary, to render graphs) and chromium
# (the browser tests). Installed with apt when missing and apt is usable; otherwise a message.
set -u
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
if [ "${SKIP_CHROMIUM:-0}" != 1 ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
  if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
    echo "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    exit 0
  fi
fi
echo "note: missing ${missing[*]}; install them with your package manager" \
     "(Debian/Ubuntu: apt-get install ${missing[*]}). Graph rendering or browser tests will be skipped." >&2
exit 0
