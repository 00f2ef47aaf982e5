#!/bin/sh
# with_postgres.sh CMD [ARGS...]
#
# Runs CMD against a throw-away PostgreSQL cluster and removes the cluster
# afterwards (also when CMD fails or the script is interrupted).
#
# - Server binaries come from /usr/lib/postgresql/*/bin (newest version);
#   if there are none the script fails with exit status 1 and says so.
# - The cluster lives in a fresh temp dir under $TMPDIR (default /tmp). It
#   runs as an unprivileged user: the invoking user, or, when run as root,
#   the 'postgres' system user (through runuser, or setpriv).
# - It listens on 127.0.0.1 at a free TCP port and on a unix socket in the
#   temp dir. Superuser 'kltest' with a password holding URL-special
#   characters (password auth over TCP, trust on the socket); database
#   'kltest'.
# - CMD inherits these variables:
#     KL_TEST_PG_URL         postgresql://kltest:<pw, percent-encoded>@127.0.0.1:<port>/kltest
#     KL_TEST_PG_SOCKET_URL  postgresql://kltest@/kltest?host=<socket dir>&port=<port>
#     KL_TEST_PG_HOST, KL_TEST_PG_PORT, KL_TEST_PG_SOCKET_DIR, KL_TEST_PG_USER,
#     KL_TEST_PG_PASSWORD, KL_TEST_PG_DB, KL_TEST_PG_BINDIR
#   CMD runs as the invoking user, in the invoking directory, with our
#   standard input; INT/TERM/HUP sent to this script are passed on to it.
# - Exit status: CMD's, or 1 if the cluster could not be set up. The server
#   log is printed to stderr when set-up fails.
set -u

me=with_postgres.sh
if [ $# -eq 0 ]; then
    echo "usage: $me CMD [ARGS...]" >&2
    exit 2
fi

# the glob sorts 10 before 9: pick the highest major version numerically
bindir=$(for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"
done | sort -t/ -k5,5n | tail -n 1)
if [ -z "$bindir" ]; then
    echo "$me: no PostgreSQL server found (/usr/lib/postgresql/*/bin/initdb);" \
        "install the postgresql package" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kl-pg.XXXXXX") || { echo "$me: mktemp failed" >&2; exit 1; }
data=$tmp/data
started=
as_pg() {
    (cd "$tmp" && "$@")
}
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        echo "$me: running as root needs the 'postgres' system user" >&2
        rm -rf "$tmp"
        exit 1
    fi
    chown postgres: "$tmp"
    if command -v runuser >/dev/null 2>&1; then
        as_pg() { (cd "$tmp" && runuser -u postgres -- "$@"); }
    else
        as_pg() { (cd "$tmp" && setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"); }
    fi
fi
chmod 0700 "$tmp"

cleanup() {
    trap - EXIT INT TERM HUP
    if [ -n "$started" ]; then
        if ! as_pg "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 10 >/dev/null 2>&1; then
            pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null)
            case $pid in
            '' | *[!0-9]*) ;;
            *)
                kill -TERM "$pid" 2>/dev/null
                sleep 1
                kill -KILL "$pid" 2>/dev/null
                ;;
            esac
        fi
    fi
    rm -rf "$tmp"
}
child=
on_signal() {
    # pass the signal on to CMD (only our own child), then clean up
    [ -n "$child" ] && kill -"$2" "$child" 2>/dev/null
    exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130 INT' INT
trap 'on_signal 143 TERM' TERM
trap 'on_signal 129 HUP' HUP

fail() {
    echo "$me: $*" >&2
    [ -f "$tmp/server.log" ] && sed 's/^/  server: /' "$tmp/server.log" >&2
    exit 1
}

# characters that need percent-encoding in a URL: @ : / % + space
pw='kl@pw:/%+ x'
pw_enc='kl%40pw%3A%2F%25%2B%20x'
user=kltest
db=kltest

as_pg test -w "$tmp" 2>/dev/null ||
    fail "the temp dir $tmp is not writable by the server's user ($(as_pg id -un 2>/dev/null));" \
        "point TMPDIR at a directory it can reach, such as /tmp"
printf '%s\n' "$pw" >"$tmp/pwfile"
chmod 0600 "$tmp/pwfile"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp/pwfile"
as_pg "$bindir/initdb" -D "$data" -U "$user" --pwfile="$tmp/pwfile" -E UTF8 --locale=C \
    --auth-host=scram-sha-256 --auth-local=trust --no-sync >"$tmp/initdb.log" 2>&1 ||
    { cat "$tmp/initdb.log" >&2; fail "initdb failed"; }
rm -f "$tmp/pwfile"
cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
EOF

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
            2>/dev/null && return
    fi
    echo $((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
}

tries=0
while :; do
    port=$(free_port)
    if as_pg "$bindir/pg_ctl" start -D "$data" -l "$tmp/server.log" -w -t 30 -o "-p $port" \
        >/dev/null 2>&1; then
        started=1
        break
    fi
    # pg_ctl may give up while a postmaster is still there
    [ -f "$data/postmaster.pid" ] && started=1 && fail "server did not start in time"
    tries=$((tries + 1))
    [ $tries -ge 5 ] && fail "server did not start (tried 5 ports)"
done

as_pg "$bindir/createdb" -h "$tmp" -p "$port" -U "$user" "$db" >/dev/null 2>&1 ||
    fail "createdb failed"

export KL_TEST_PG_URL="postgresql://$user:$pw_enc@127.0.0.1:$port/$db"
export KL_TEST_PG_SOCKET_URL="postgresql://$user@/$db?host=$tmp&port=$port"
export KL_TEST_PG_HOST=127.0.0.1 KL_TEST_PG_PORT=$port KL_TEST_PG_SOCKET_DIR=$tmp
export KL_TEST_PG_USER=$user KL_TEST_PG_PASSWORD=$pw KL_TEST_PG_DB=$db KL_TEST_PG_BINDIR=$bindir

# CMD runs in the background so that a signal reaches the traps at once;
# it keeps our standard input
exec 3<&0
"$@" <&3 3<&- &
child=$!
wait "$child"
status=$?
child=
exit $status
