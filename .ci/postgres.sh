# Sourced by .ci/run: a throwaway PostgreSQL cluster for the store contract tests
# (test/store/), on loopback only, in a temp dir, stopped and removed when the sourcing shell exits.
# Exports ENCLAVE_TEST_DATABASE_URL and ENCLAVE_TEST_PG_DATA_DIR. Installs Debian's postgresql when no server binaries exist.

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }; done
  return 1
}

if ! pg_bin >/dev/null; then
  pg_sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $pg_sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $pg_sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
PG_BIN=$(pg_bin)

# initdb refuses to run as root, which is how CI runs: the cluster then belongs to `postgres`.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

PG_DIR=$(mktemp -d)
chmod 755 "$PG_DIR"
[ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
PG_PORT=$(bun -e 'const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }); console.log(s.port); s.stop(true)')

stop_postgres() {
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap stop_postgres EXIT

as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U enclave --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c fsync=off" start >/dev/null
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U enclave enclave_test
export ENCLAVE_TEST_DATABASE_URL="postgres://enclave@127.0.0.1:$PG_PORT/enclave_test"
# The fleet test scans the cluster's files for its ZDR canary.
export ENCLAVE_TEST_PG_DATA_DIR="$PG_DIR/data"
echo "postgres: $("$PG_BIN/postgres" --version) on 127.0.0.1:$PG_PORT"
