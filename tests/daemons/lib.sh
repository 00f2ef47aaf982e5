# lib.sh: sourced by the daemon tests after tests/tpm/helpers.sh (which
# gives W, TCTI and the assertions). Starts and stops the registrar and the
# agent on free loopback ports, and calls them as the tenant and verifier
# would (curl). Needs REG, AGENT, UUID; KL_TEST_PG_URL selects PostgreSQL.
#   start_registrar / stop_registrar, start_agent / stop_agent
#   admin|plain|agent METHOD PATH [BODY|@FILE]   body of the answer
#   admin_code|plain_code|nocert_code|agent_code ...   HTTP status only
#   agent_nocert, agent_plain                    the two TLS refusals
#   jget FILE a.b.c                              a JSON value (strings raw)
#   wait_for FILE SECONDS                        until FILE exists
REG_PID="" AGENT_PID=""

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cleanup_daemons() {
    [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null
    [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null
    sleep 0.2
    if [ -d "$W/agent/secure" ] && grep -q " $W/agent/secure " /proc/mounts 2>/dev/null; then
        umount "$W/agent/secure" 2>/dev/null
    fi
    rm -rf "$W"
}
trap cleanup_daemons EXIT

# wait_ready LOG PID SECONDS: until LOG says "ready", or fail
wait_ready() {
    _i=0
    while [ "$_i" -lt $(($3 * 10)) ]; do
        grep -q "ready on" "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
        _i=$((_i + 1))
    done
    echo "--- $1"
    tail -20 "$1"
    return 1
}

wait_for() {
    _i=0
    while [ "$_i" -lt $(($2 * 10)) ]; do
        [ -e "$1" ] && return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}

start_registrar() {
    RPORT=$(free_port)
    RTLS=$(free_port)
    mkdir -p "$W/reg"
    {
        echo "[registrar]"
        echo "ip = 127.0.0.1"
        echo "port = $RPORT"
        echo "tls_port = $RTLS"
        echo "tls_dir = generate"
        echo "database_url = ${KL_TEST_PG_URL:-sqlite}"
    } >"$W/registrar.conf"
    KEYLIME_DIR=$W/reg KEYLIME_REGISTRAR_CONFIG=$W/registrar.conf KEYLIME_LOG=info \
        "$REG" >>"$W/reg.log" 2>&1 &
    REG_PID=$!
    CA=$W/reg/reg_ca
    wait_ready "$W/reg.log" "$REG_PID" 20 && ok "registrar started" ||
        { bad "registrar started" "see above"; finish; }
}

stop_registrar() {
    kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
    REG_PID=""
}

start_agent() {
    APORT=${APORT:-$(free_port)}
    mkdir -p "$W/agent"
    cat >"$W/agent.conf" <<EOC
[agent]
uuid = "$UUID"
ip = "127.0.0.1"
port = $APORT
contact_ip = "127.0.0.1"
contact_port = $APORT
registrar_ip = "127.0.0.1"
registrar_port = $RPORT
keylime_dir = "$W/agent"
trusted_client_ca = "$CA/cacert.crt"
ima_ml_path = "$W/ima.log"
measuredboot_ml_path = "$KL_TEST_DATA/eventlog/mb_log.bin"
revocation_actions_dir = "$W/no-actions"
run_as = ""
tcti = "$TCTI"
EOC
    KEYLIME_AGENT_CONFIG=$W/agent.conf KEYLIME_LOG=info "$AGENT" >>"$W/agent.log" 2>&1 &
    AGENT_PID=$!
    _n=$(ready_count)
    _i=0
    while [ "$(ready_count)" = "$_n" ] && [ "$_i" -lt 600 ]; do
        kill -0 "$AGENT_PID" 2>/dev/null || break
        sleep 0.1
        _i=$((_i + 1))
    done
    if [ "$(ready_count)" != "$_n" ]; then
        ok "agent started and registered"
    else
        bad "agent started and registered" "see the log"
        tail -20 "$W/agent.log"
        finish
    fi
}

ready_count() { cat "$W/agent.log" 2>/dev/null | grep -c "ready on"; }

stop_agent() {
    kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
    AGENT_PID=""
    if grep -q " $W/agent/secure " /proc/mounts 2>/dev/null; then
        umount "$W/agent/secure" 2>/dev/null
    fi
}

# _curl URL_BASE CERTOPTS METHOD PATH [BODY]
_curl() {
    _base=$1 _certs=$2 _m=$3 _p=$4
    shift 4
    if [ $# -gt 0 ]; then
        # shellcheck disable=SC2086
        curl -sS -m 20 $_certs -X "$_m" -H "Content-Type: application/json" \
            --data-binary "$1" "$_base$_p"
    else
        # shellcheck disable=SC2086
        curl -sS -m 20 $_certs -X "$_m" "$_base$_p"
    fi
}

ADMIN_CERTS() { echo "--cacert $CA/cacert.crt --cert $CA/client-cert.crt --key $CA/client-private.pem"; }
AGENT_CERTS() { echo "-k --cert $CA/client-cert.crt --key $CA/client-private.pem"; }

admin() { _curl "https://127.0.0.1:$RTLS" "$(ADMIN_CERTS)" "$@"; }
admin_code() { _curl "https://127.0.0.1:$RTLS" "$(ADMIN_CERTS) -o /dev/null -w %{http_code}" "$@"; }
plain() { _curl "http://127.0.0.1:$RPORT" "" "$@"; }
plain_code() { _curl "http://127.0.0.1:$RPORT" "-o /dev/null -w %{http_code}" "$@"; }
nocert_code() { _curl "https://127.0.0.1:$RTLS" "--cacert $CA/cacert.crt -o /dev/null -w %{http_code}" "$@"; }
agent() { _curl "https://127.0.0.1:$APORT" "$(AGENT_CERTS)" "$@"; }
agent_code() { _curl "https://127.0.0.1:$APORT" "$(AGENT_CERTS) -o /dev/null -w %{http_code}" "$@"; }

agent_nocert() {
    if curl -sS -m 10 -k "https://127.0.0.1:$APORT$2" >/dev/null 2>&1; then
        echo "answered without a client certificate"
        return 1
    fi
    echo "refused"
}

# plain HTTP to the TLS port: a 400, or the connection closed; never a hang
agent_plain() {
    _code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APORT/version" 2>/dev/null)
    _rc=$?
    if [ "$_rc" -eq 28 ]; then
        echo "hung"
        return 1
    fi
    case "$_code" in 400 | 000) echo "ok" ;; *) echo "answered $_code" ;; esac
}

jget() {
    python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d = d[k]
print(d if isinstance(d, str) else json.dumps(d), end="")
PY
}
