#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (Debian's postgresql, ../shared/FACTS.md):
#   tests/postgres.sh start DIR   initdb + start on a free loopback port; prints the URL
#   tests/postgres.sh restart DIR restart it (every connection is cut; same port)
#   tests/postgres.sh stop DIR    stop it (the directory is left for inspection)
# initdb refuses root, so the cluster runs as the `postgres` user. C collation: text sorts
# byte-wise, as in SQLite.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_postgres() { if [ "$(id -un)" = root ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-}" in
  start)
    dir=$2
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir" && chmod 700 "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-locale -E UTF8 >"$dir/initdb.log"
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  restart)
    as_postgres "$bin/pg_ctl" -D "$2/data" -l "$2/server.log" -m fast -w restart >/dev/null
    ;;
  stop)
    as_postgres "$bin/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null
    ;;
  *)
    echo "usage: $0 start DIR | restart DIR | stop DIR" >&2
    exit 2
    ;;
esac
