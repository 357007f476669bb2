#!/usr/bin/env bash
# Installs the Debian packages the tests talk to as real peers (dcmtk, dicom3tools) and the PostgreSQL server
# the test fixture starts a throwaway cluster of. Only when run as root and only what is missing.
set -euo pipefail
need=()
command -v /usr/bin/storescu >/dev/null 2>&1 || need+=(dcmtk)
command -v dciodvfy >/dev/null 2>&1 || need+=(dicom3tools)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "note: missing Debian packages ${need[*]} (run as root or install them; the tests that need them skip)" >&2
  exit 0
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
