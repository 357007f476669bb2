#!/usr/bin/env bash
# Installs the Debian packages the tests talk to as real peers (dcmtk, dicom3tools) and the PostgreSQL server
# the test fixture starts a throwaway cluster of. Only when run as root and only what is missing.
set -euo pipefail
need=()
command -v /usr/bin/storescu >/dev/null 2>&1 || need+=(dcmtk)
command -v dciodvfy >/dev/null 2>&1 || need+=(dicom3tools)
# tests/pg_cluster.py looks for initdb and pg_ctl on PATH, then in /usr/lib/postgresql/*/bin (Debian keeps them
# there, off PATH); it runs them as the `postgres` user, which the Debian package creates.
have_pg() {
  { command -v initdb && command -v pg_ctl; } >/dev/null 2>&1 && return 0
  local bindir
  for bindir in /usr/lib/postgresql/*/bin; do
    [ -x "$bindir/initdb" ] && [ -x "$bindir/pg_ctl" ] && return 0
  done
  return 1
}
have_pg || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "note: missing Debian packages ${need[*]} (run as root or install them; the tests that need them skip," \
    "except that with CI set a missing PostgreSQL fails them)" >&2
  exit 0
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if [[ " ${need[*]} " == *" postgresql "* ]]; then
  # The tests start their own throwaway cluster: keep the package from creating (and starting) the system one.
  mkdir -p /etc/postgresql-common/createcluster.d
  conf=/etc/postgresql-common/createcluster.d/xds-no-main-cluster.conf
  [ -e "$conf" ] || echo "create_main_cluster = false" > "$conf"
fi
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
if [[ " ${need[*]} " == *" postgresql "* ]] && ! have_pg; then
  echo "error: installed postgresql but found no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin" >&2
  exit 1
fi
