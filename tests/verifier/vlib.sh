# vlib.sh: sourced by tests/verifier/verifier.sh after tests/tpm/helpers.sh
# (W, TCTI, ok/bad/check/finish), tests/tpm/swtpm.sh and
# tests/daemons/lib.sh (free_port, wait_ready, wait_for, _curl, jget).
# Runs the verifier, the registrar and agents 1 and 2 on loopback, all
# sharing the verifier's CA (<KEYLIME_DIR>/cv_ca); agent 1 on the TPM of
# with_swtpm.sh, agent 2 on a second swtpm in $W/tpm2. KL_TEST_PG_URL
# selects PostgreSQL for the verifier and the registrar.
#   start_verifier / stop_verifier, start_vregistrar / stop_vregistrar
#   start_vagent N / stop_vagent N        agent N (uuid $(uuid N))
#   measure N FILE...                     IMA emulator on agent N's TPM and log
#   tenant ARGS...                        keylime_tenant; out in $W/tenant.out, status $rc
#   check_tenant NAME STATUS TEXT ARGS... as check, for the tenant
#   v METHOD PATH [BODY|@FILE]            verifier API (admin cert), body
#   v_code, v_nocert_code                 HTTP status only
#   vget ID FIELD                         a field of GET /agents/ID (empty on 404)
#   wait_vstate ID STATE SECONDS          until operational_state is STATE
#   wait_attested ID COUNT SECONDS        until attestation_count >= COUNT
#   log_has FILE TEXT SECONDS             until FILE holds TEXT
#   until_ok SECONDS CMD...               until CMD succeeds (every 0.2 s)
KD=$W/kl
V_PID="" R_PID="" A1_PID="" A2_PID="" WH_PID=""
TCTI1=$TCTI
TCTI2=""
API=v2.6
mkdir -p "$KD"
# every program reads this ca.conf, not an installed one
printf '[ca]\npassword = vit-ca-pw\ncert_bits = 2048\n' >"$W/ca.conf"
export KEYLIME_CA_CONFIG="$W/ca.conf"

cleanup_verifier_test() {
    for p in $A1_PID $A2_PID $V_PID $R_PID $WH_PID; do
        kill -CONT "$p" 2>/dev/null
        kill "$p" 2>/dev/null
    done
    sleep 0.3
    for m in $(awk -v w="$W/" 'index($2, w) == 1 { print $2 }' /proc/mounts); do
        umount "$m" 2>/dev/null
    done
    [ -d "$W/tpm2" ] && swtpm_stop "$W/tpm2"
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup_verifier_test EXIT

uuid() { echo "d432fbb3-d2f1-4a97-9ef7-75bd81c0000$1"; }

# until_ok SECONDS CMD...: runs CMD every 0.2 s until it succeeds
until_ok() {
    _t=$(($1 * 5))
    shift
    while [ "$_t" -gt 0 ]; do
        "$@" && return 0
        sleep 0.2
        _t=$((_t - 1))
    done
    return 1
}

ready_lines() { cat "$1" 2>/dev/null | grep -c "ready on"; }

# _more_ready LOG N PID: LOG has more than N "ready on" lines, or PID died
_more_ready() { [ "$(ready_lines "$1")" != "$2" ] || ! kill -0 "$3" 2>/dev/null; }

# started NAME LOG N PID SECONDS: the daemon said "ready on" once more
started() {
    until_ok "$5" _more_ready "$2" "$3" "$4"
    if [ "$(ready_lines "$2")" != "$3" ]; then
        ok "$1"
    else
        bad "$1" "see the log"
        tail -20 "$2"
        finish
    fi
}

# a webhook receiver: each POST body goes to $W/webhook/<n>.json (answer 200)
start_webhook() {
    WH_PORT=$(free_port)
    mkdir -p "$W/webhook"
    python3 - "$WH_PORT" "$W/webhook" >"$W/webhook.log" 2>&1 <<'PY' &
import http.server, os, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        n = len(os.listdir(out))
        with open(os.path.join(out, "%d.json" % n), "wb") as f:
            f.write(body)
        self.send_response(200)
        self.end_headers()
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
    WH_PID=$!
}

start_verifier() {
    VPORT=${VPORT:-$(free_port)}
    [ -n "$WH_PID" ] || start_webhook
    cat >"$W/verifier.conf" <<EOC
[verifier]
ip = 127.0.0.1
port = $VPORT
tls_dir = generate
quote_interval = 1
retry_interval = 1
max_retries = 3
request_timeout = 10
max_upload_size = 2097152
database_url = ${KL_TEST_PG_URL:-sqlite}
measured_boot_policy_name = example
[revocations]
enabled_revocation_notifications = ['agent', 'webhook']
webhook_url = http://127.0.0.1:$WH_PORT/keylime/revocation
EOC
    _n=$(ready_lines "$W/verifier.log")
    KEYLIME_DIR=$KD KEYLIME_VERIFIER_CONFIG=$W/verifier.conf KEYLIME_LOG=info \
        "$VER" >>"$W/verifier.log" 2>&1 &
    V_PID=$!
    started "verifier started" "$W/verifier.log" "$_n" "$V_PID" 20
    VCA=$KD/cv_ca
}

stop_verifier() {
    kill "$V_PID" 2>/dev/null && wait "$V_PID" 2>/dev/null
    V_PID=""
}

# the registrar uses the verifier's CA (tls_dir = default: <KEYLIME_DIR>/cv_ca)
start_vregistrar() {
    RPORT=$(free_port)
    RTLS=$(free_port)
    cat >"$W/registrar.conf" <<EOC
[registrar]
ip = 127.0.0.1
port = $RPORT
tls_port = $RTLS
tls_dir = default
database_url = ${KL_TEST_PG_URL:-sqlite}
EOC
    KEYLIME_DIR=$KD KEYLIME_REGISTRAR_CONFIG=$W/registrar.conf KEYLIME_LOG=info \
        "$REG" >>"$W/reg.log" 2>&1 &
    R_PID=$!
    wait_ready "$W/reg.log" "$R_PID" 20 && ok "registrar started" ||
        { bad "registrar started" "see above"; finish; }
}

stop_vregistrar() {
    kill "$R_PID" 2>/dev/null && wait "$R_PID" 2>/dev/null
    R_PID=""
}

# start_vagent N: agent N on TPM N, IMA list $W/ima$N.log, boot log
# $W/boot$N.bin (absent unless the test made it), payload actions run from
# the payload only
start_vagent() {
    _a=$1
    eval "_port=\${A${_a}_PORT:-}"
    [ -n "$_port" ] || _port=$(free_port)
    eval "A${_a}_PORT=$_port"
    eval "_tcti=\$TCTI$_a"
    mkdir -p "$W/agent$_a" "$W/actions$_a"
    cat >"$W/agent$_a.conf" <<EOC
[agent]
uuid = "$(uuid "$_a")"
ip = "127.0.0.1"
port = $_port
contact_ip = "127.0.0.1"
contact_port = $_port
registrar_ip = "127.0.0.1"
registrar_port = $RPORT
keylime_dir = "$W/agent$_a"
trusted_client_ca = "$KD/cv_ca/cacert.crt"
ima_ml_path = "$W/ima$_a.log"
measuredboot_ml_path = "$W/boot$_a.bin"
revocation_actions_dir = "$W/actions$_a"
run_as = ""
tcti = "$_tcti"
EOC
    _n=$(ready_lines "$W/agent$_a.log")
    KEYLIME_AGENT_CONFIG=$W/agent$_a.conf KEYLIME_LOG=info "$AGENT" >>"$W/agent$_a.log" 2>&1 &
    eval "A${_a}_PID=$!"
    started "agent $_a started and registered" "$W/agent$_a.log" "$_n" "$!" 60
}

stop_vagent() {
    eval "_pid=\$A$1_PID"
    kill "$_pid" 2>/dev/null && wait "$_pid" 2>/dev/null
    eval "A$1_PID="
    if grep -q " $W/agent$1/secure " /proc/mounts 2>/dev/null; then
        umount "$W/agent$1/secure" 2>/dev/null
    fi
}

measure() {
    _a=$1
    shift
    eval "_tcti=\$TCTI$_a"
    "$EMU" -q -T "$_tcti" -f "$W/ima$_a.log" measure "$@" >>"$W/emu.log" 2>&1
}

# tenant.conf: the verifier, the registrar's TLS port, both swtpm CAs
write_tenant_conf() {
    mkdir -p "$W/tpm_cert_store"
    for _d in "$KL_TEST_SWTPM_DIR" "$W/tpm2"; do
        for _f in "$_d"/ca/*cert*.pem; do
            [ -e "$_f" ] && cp "$_f" "$W/tpm_cert_store/$(basename "$_d")-$(basename "$_f")"
        done
    done
    cat >"$W/tenant.conf" <<EOC
[tenant]
verifier_ip = 127.0.0.1
verifier_port = $VPORT
registrar_ip = 127.0.0.1
registrar_port = $RTLS
tls_dir = default
tpm_cert_store = $W/tpm_cert_store
require_ek_cert = True
max_retries = 3
retry_interval = 1
request_timeout = 30
EOC
}

tenant() {
    echo "=== keylime_tenant $*" >>"$W/tenant.log"
    (cd "$W" && KEYLIME_DIR=$KD KEYLIME_TENANT_CONFIG=$W/tenant.conf \
        KEYLIME_LOG=info timeout 120 "$TEN" "$@") \
        >"$W/tenant.out" 2>&1
    rc=$?
    cat "$W/tenant.out" >>"$W/tenant.log"
    return $rc
}

check_tenant() {
    _n=$1 _s=$2 _t=$3
    shift 3
    tenant "$@"
    if [ "$rc" -ne "$_s" ]; then
        bad "$_n" "tenant exit $rc, expected $_s"
        tail -15 "$W/tenant.out"
    elif [ -n "$_t" ] && ! grep -qF -- "$_t" "$W/tenant.out"; then
        bad "$_n" "tenant output lacks: $_t"
        tail -15 "$W/tenant.out"
    else
        ok "$_n"
    fi
}

V_CERTS() {
    echo "--cacert $VCA/cacert.crt --cert $VCA/client-cert.crt --key $VCA/client-private.pem"
}
v() { _curl "https://127.0.0.1:$VPORT" "$(V_CERTS)" "$@"; }
v_code() { _curl "https://127.0.0.1:$VPORT" "$(V_CERTS) -o /dev/null -w %{http_code}" "$@"; }
v_nocert_code() {
    _curl "https://127.0.0.1:$VPORT" "--cacert $VCA/cacert.crt -o /dev/null -w %{http_code}" "$@"
}

# vget ID FIELD: a field of the agent's status (results.FIELD), "" on error
vget() {
    v GET "/$API/agents/$1" >"$W/vget.json" 2>/dev/null || return 1
    jget "$W/vget.json" "results.$2" 2>/dev/null
}

_state_is() { [ "$(vget "$1" operational_state)" = "$2" ]; }
wait_vstate() { until_ok "$3" _state_is "$1" "$2"; }

_count_ge() {
    _c=$(vget "$1" attestation_count)
    [ -n "$_c" ] && [ "$_c" -ge "$2" ]
}
wait_attested() { until_ok "$3" _count_ge "$1" "$2"; }

log_has() { until_ok "$3" grep -qF -- "$2" "$1"; }
