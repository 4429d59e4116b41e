#!/usr/bin/env bash
# Debian packages the test suite uses beyond Node: the real placement 8.0.0
# (Zed) with placement-manage, to prove interoperability, and the MySQL and
# PostgreSQL drivers it needs; nova 26 (Zed, python3-nova) whose own
# migrations create the real nova_api schema the fixtures are compared with;
# pgloader, the MariaDB->PostgreSQL reference of the benchmarks (both together
# add about 80 s to a fresh install); GNU time for the benchmarks' peak RSS;
# placement's API service under Debian's uwsgi, for the API differential tests
# and the api-serve benchmark; openssl, which makes the self-signed CA and
# certificates of the TLS tests (their MariaDB and PostgreSQL servers are the
# ones the suite already uses); ansible-core, which runs the README's playbook
# (examples/ansible); galera-4, rsync and socat for the three-node Galera
# cluster of the tests (scripts/galera-cluster.sh; its mariadbd is the
# machine's own binary, run in datadirs and ports of its own). Idempotent;
# skips what is already installed.
set -euo pipefail
packages=(python3-placement placement-common python3-pymysql python3-psycopg2 python3-nova pgloader time
  placement-api uwsgi-core uwsgi-plugin-python3 openssl ansible-core galera-4 rsync socat mariadb-server)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "all present: ${packages[*]}"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
