#!/usr/bin/env bash
# Fails loudly when MariaDB or PostgreSQL cannot be reached: CI must never
# pass by skipping the integration suites.
set -uo pipefail
ok=1
if ! mysql -uroot -h127.0.0.1 -P"${PU_TEST_MYSQL_PORT:-3306}" -e 'SELECT 1' >/dev/null 2>&1; then
  echo "MariaDB is unreachable at 127.0.0.1:${PU_TEST_MYSQL_PORT:-3306} (user root)." >&2
  echo "  start it: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd" >&2
  ok=0
fi
if ! psql -h127.0.0.1 -p"${PU_TEST_PG_PORT:-5432}" -Upostgres -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
  echo "PostgreSQL is unreachable at 127.0.0.1:${PU_TEST_PG_PORT:-5432} (user postgres)." >&2
  echo "  start it: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
  ok=0
fi
[ "$ok" -eq 1 ] && echo "MariaDB and PostgreSQL answer." || exit 1
