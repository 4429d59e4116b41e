#!/usr/bin/env bash
# A three-node MariaDB Galera cluster of the tests' own, on 127.0.0.1, in a
# directory of its own: the machine's MariaDB (3306) is never touched, and
# no option file of the machine is read (--defaults-file).
#
#   scripts/galera-cluster.sh start         bootstrap node 1, join 2 and 3 (rsync SST); waits
#                                           until all three are Synced in one Primary component
#   scripts/galera-cluster.sh stop          shut every node down (the data stays)
#   scripts/galera-cluster.sh destroy       stop, then remove the directory
#   scripts/galera-cluster.sh status        each node's wsrep state, one line per node
#   scripts/galera-cluster.sh kill N        kill -9 node N (a crash, not a shutdown)
#   scripts/galera-cluster.sh start-node N  start node N again: it rejoins (IST or SST)
#   scripts/galera-cluster.sh isolate N     cut node N off the others (gmcast.isolate): it
#                                           leaves the Primary Component and refuses work
#   scripts/galera-cluster.sh rejoin N      undo isolate; waits until node N is Synced again
#
# Environment:
#   PU_GALERA_DIR        where the nodes live      (default /tmp/pu-galera)
#   PU_GALERA_BASE_PORT  node N listens on BASE+N  (default 3400: 3401, 3402, 3403)
#   PU_GALERA_WSREP_OPTS extra [mariadbd] lines for every node, ';'-separated,
#                        read at start (e.g. 'wsrep_max_ws_rows=1000')
#
# Node N uses port BASE+N for SQL, BASE+1170+N for group communication,
# BASE+1180+N for IST and BASE+1190+N for SST (rsync). The root user has no
# password, over TCP from 127.0.0.1 as on the machine's own server. Tests
# read $PU_GALERA_DIR/cluster.env (written by start) to find the nodes.
#
# Exit: 0 done; 1 a node did not start or the cluster did not form (the
# node's error log is printed); 2 usage.
set -uo pipefail

DIR="${PU_GALERA_DIR:-/tmp/pu-galera}"
BASE="${PU_GALERA_BASE_PORT:-3400}"
NODES=(1 2 3)
PROVIDER=/usr/lib/galera/libgalera_smm.so
FORM_TIMEOUT=120

sql_port() { echo $((BASE + $1)); }
gcomm_port() { echo $((BASE + 1170 + $1)); }
ist_port() { echo $((BASE + 1180 + $1)); }
sst_port() { echo $((BASE + 1190 + $1)); }
node_dir() { echo "$DIR/node$1"; }

die() {
  echo "galera-cluster: $*" >&2
  exit 1
}

client() {
  local n=$1
  shift
  mariadb --no-defaults -uroot -S "$(node_dir "$n")/mysqld.sock" -N -B "$@"
}

write_config() {
  local n=$1 d
  d="$(node_dir "$n")"
  local members=()
  for m in "${NODES[@]}"; do members+=("127.0.0.1:$(gcomm_port "$m")"); done
  local address
  address="$(IFS=,; echo "${members[*]}")"
  {
    echo "[mariadbd]"
    echo "datadir=$d/data"
    echo "socket=$d/mysqld.sock"
    echo "pid-file=$d/mysqld.pid"
    echo "log-error=$d/error.log"
    echo "port=$(sql_port "$n")"
    echo "bind-address=127.0.0.1"
    # As root, the nodes run as mysql: rsync SST's daemon would otherwise
    # write the joiner's files as nobody, which may not.
    [ "$(id -u)" -eq 0 ] && echo "user=mysql"
    echo "character-set-server=utf8mb4"
    echo "collation-server=utf8mb4_general_ci"
    echo "innodb_buffer_pool_size=64M"
    echo "innodb_log_file_size=32M"
    echo "innodb_flush_log_at_trx_commit=2"
    echo "max_connections=300"
    echo "binlog_format=ROW"
    echo "default_storage_engine=InnoDB"
    echo "innodb_autoinc_lock_mode=2"
    echo "wsrep_on=ON"
    echo "wsrep_provider=$PROVIDER"
    echo "wsrep_cluster_name=pu_test_cluster"
    echo "wsrep_cluster_address=gcomm://$address"
    echo "wsrep_node_name=node$n"
    echo "wsrep_node_address=127.0.0.1:$(gcomm_port "$n")"
    echo "wsrep_node_incoming_address=127.0.0.1:$(sql_port "$n")"
    echo "wsrep_provider_options=\"gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$n");ist.recv_addr=127.0.0.1:$(ist_port "$n");gcache.size=64M;pc.recovery=FALSE\""
    echo "wsrep_sst_method=rsync"
    echo "wsrep_sst_receive_address=127.0.0.1:$(sst_port "$n")"
    echo "wsrep_slave_threads=2"
    if [ -n "${PU_GALERA_WSREP_OPTS:-}" ]; then
      tr ';' '\n' <<<"$PU_GALERA_WSREP_OPTS"
    fi
  } >"$d/my.cnf"
}

# Seconds until node N answers with wsrep_local_state_comment = Synced and
# wsrep_ready = ON, or exit 1 with its error log.
wait_synced() {
  local n=$1 deadline=$((SECONDS + FORM_TIMEOUT)) state
  while [ $SECONDS -lt $deadline ]; do
    if ! node_running "$n"; then
      echo "galera-cluster: node $n stopped while starting; its error log:" >&2
      tail -n 40 "$(node_dir "$n")/error.log" >&2
      exit 1
    fi
    state="$(client "$n" -e "SELECT CONCAT(VARIABLE_VALUE) FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT'" 2>/dev/null)"
    if [ "$state" = "Synced" ]; then return 0; fi
    sleep 0.5
  done
  echo "galera-cluster: node $n not Synced after ${FORM_TIMEOUT}s (state: ${state:-no answer}); its error log:" >&2
  tail -n 40 "$(node_dir "$n")/error.log" >&2
  exit 1
}

node_pid() { cat "$(node_dir "$1")/node.pid" 2>/dev/null; }

# Running means alive: a killed node can linger a moment as a zombie.
node_running() {
  local pid state
  pid="$(node_pid "$1")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)"
  [ -n "$state" ] && [ "$state" != "Z" ]
}

launch() {
  local n=$1
  shift
  local d
  d="$(node_dir "$n")"
  # setsid: the node outlives the shell that started it and gets none of its signals.
  setsid mariadbd --defaults-file="$d/my.cnf" "$@" </dev/null >>"$d/error.log" 2>&1 &
  # setsid execs mariadbd (this shell's jobs lead no process group), so $! is its pid,
  # known before the server writes its own pid file.
  echo $! >"$d/node.pid"
}

start_node() {
  local n=$1
  node_running "$n" && return 0
  write_config "$n"
  launch "$n"
  wait_synced "$n"
}

cmd_start() {
  command -v mariadbd >/dev/null || die "mariadbd is not installed (apt-get install mariadb-server)"
  [ -f "$PROVIDER" ] || die "$PROVIDER is missing (apt-get install galera-4)"
  command -v rsync >/dev/null || die "rsync is missing (apt-get install rsync): the nodes join by rsync SST"
  local running=0
  for n in "${NODES[@]}"; do node_running "$n" && running=$((running + 1)); done
  if [ "$running" -eq 3 ]; then
    echo "galera-cluster: already running in $DIR"
    write_env
    return 0
  fi
  [ "$running" -gt 0 ] && die "only $running of 3 nodes run in $DIR: '$0 destroy' first"
  rm -rf "$DIR"
  for n in "${NODES[@]}"; do mkdir -p "$(node_dir "$n")/data"; done
  if [ "$(id -u)" -eq 0 ]; then
    id mysql >/dev/null 2>&1 || die "there is no mysql user to run the nodes as (apt-get install mariadb-server)"
    chown -R mysql:mysql "$DIR"
  fi
  local started=$SECONDS
  write_config 1
  mariadb-install-db --defaults-file="$(node_dir 1)/my.cnf" --auth-root-authentication-method=normal \
    --skip-test-db >"$(node_dir 1)/install.log" 2>&1 ||
    { cat "$(node_dir 1)/install.log" >&2; die "mariadb-install-db failed"; }
  launch 1 --wsrep-new-cluster
  wait_synced 1
  # Root over TCP from 127.0.0.1, as the machine's server allows; replicated to the joiners by SST.
  client 1 -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;" ||
    die "could not create root@127.0.0.1 on node 1"
  for n in 2 3; do
    write_config "$n"
    launch "$n"
    wait_synced "$n"
  done
  local size
  size="$(client 1 -e "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_CLUSTER_SIZE'")"
  [ "$size" = "3" ] || die "the cluster has $size nodes, not 3"
  write_env
  echo "galera-cluster: 3 nodes Synced on 127.0.0.1:$(sql_port 1),$(sql_port 2),$(sql_port 3) in $((SECONDS - started)) s ($DIR)"
}

write_env() {
  {
    echo "PU_GALERA_DIR=$DIR"
    echo "PU_GALERA_PORTS=$(sql_port 1),$(sql_port 2),$(sql_port 3)"
  } >"$DIR/cluster.env"
}

stop_node() {
  local n=$1 pid
  pid="$(node_pid "$n")"
  node_running "$n" || return 0
  client "$n" -e "SHUTDOWN" >/dev/null 2>&1 || kill "$pid" 2>/dev/null
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  kill -9 "$pid" 2>/dev/null
}

cmd_stop() {
  # The last node down is the one to bootstrap from next time; stop in reverse.
  for n in 3 2 1; do stop_node "$n"; done
  echo "galera-cluster: stopped ($DIR)"
}

cmd_status() {
  for n in "${NODES[@]}"; do
    if node_running "$n"; then
      local s
      s="$(client "$n" -e "SELECT GROUP_CONCAT(CONCAT(LOWER(VARIABLE_NAME), '=', VARIABLE_VALUE) ORDER BY VARIABLE_NAME SEPARATOR ' ') FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('WSREP_CLUSTER_SIZE', 'WSREP_CLUSTER_STATUS', 'WSREP_LOCAL_STATE_COMMENT', 'WSREP_READY')" 2>/dev/null)"
      echo "node$n 127.0.0.1:$(sql_port "$n") pid $(node_pid "$n"): ${s:-not answering}"
    else
      echo "node$n 127.0.0.1:$(sql_port "$n"): down"
    fi
  done
}

check_node() {
  [[ "${1:-}" =~ ^[123]$ ]] || {
    echo "usage: $0 kill|start-node|isolate|rejoin 1|2|3" >&2
    exit 2
  }
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  destroy)
    cmd_stop
    rm -rf "$DIR"
    ;;
  status) cmd_status ;;
  kill)
    check_node "${2:-}"
    pid="$(node_pid "$2")"
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    for _ in $(seq 1 100); do
      node_running "$2" || break
      sleep 0.1
    done
    node_running "$2" && die "node $2 (pid $pid) is still alive after kill -9"
    echo "galera-cluster: node $2 killed"
    ;;
  isolate)
    check_node "${2:-}"
    client "$2" -e "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'" || die "node $2 did not answer"
    echo "galera-cluster: node $2 isolated"
    ;;
  rejoin)
    check_node "${2:-}"
    client "$2" -e "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'" || die "node $2 did not answer"
    wait_synced "$2"
    echo "galera-cluster: node $2 Synced"
    ;;
  start-node)
    check_node "${2:-}"
    start_node "$2"
    echo "galera-cluster: node $2 Synced"
    ;;
  *)
    sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
