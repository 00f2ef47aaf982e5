# swtpm.sh: software TPMs for tests (POSIX sh, sourced).
#
#   swtpm_start DIR [BANKS]  manufacture a TPM in DIR (swtpm_setup with EK
#                            certificates from a CA of its own in DIR/ca,
#                            PCR banks BANKS, default sha1,sha256), start
#                            swtpm on a unix socket in DIR and print its
#                            TCTI string (swtpm:path=DIR/swtpm.sock)
#   swtpm_restart DIR        stop it and start it again on the same state
#                            (PCRs are reset, as at a reboot)
#   swtpm_stop DIR           stop it: TPM2_Shutdown (tpm2_shutdown), then
#                            SIGTERM to the pid in DIR/swtpm.pid, SIGKILL to
#                            that pid if it lingers
#
# Only processes whose pid this file recorded are ever signalled. Failures
# print the reason on stderr and return non-zero; swtpm's own log is kept
# in DIR/swtpm.log.

swtpm_start() {
    _d=$1
    _banks=${2:-sha1,sha256}
    mkdir -p "$_d/conf" "$_d/ca" "$_d/state" || return 1
    cat >"$_d/conf/swtpm_setup.conf" <<EOF
create_certs_tool = /usr/bin/swtpm_localca
create_certs_tool_config = $_d/conf/swtpm-localca.conf
create_certs_tool_options = $_d/conf/swtpm-localca.options
active_pcr_banks = $_banks
EOF
    cat >"$_d/conf/swtpm-localca.conf" <<EOF
statedir = $_d/ca
signingkey = $_d/ca/signkey.pem
issuercert = $_d/ca/issuercert.pem
certserial = $_d/ca/certserial
EOF
    printf '%s\n' '--platform-manufacturer keylime-c' '--platform-version 2.1' \
        '--platform-model swtpm' >"$_d/conf/swtpm-localca.options"
    if ! swtpm_setup --tpm2 --tpmstate "$_d/state" --config "$_d/conf/swtpm_setup.conf" \
        --create-ek-cert --create-platform-cert --pcr-banks "$_banks" --overwrite \
        >"$_d/setup.log" 2>&1; then
        echo "swtpm_setup failed:" >&2
        cat "$_d/setup.log" >&2
        return 1
    fi
    _swtpm_run "$_d" || return 1
    echo "swtpm:path=$_d/swtpm.sock"
}

_swtpm_run() {
    rm -f "$_d/swtpm.pid" "$_d/swtpm.sock" "$_d/swtpm.sock.ctrl"
    if ! swtpm socket --tpm2 --tpmstate dir="$_d/state" \
        --server type=unixio,path="$_d/swtpm.sock" \
        --ctrl type=unixio,path="$_d/swtpm.sock.ctrl" \
        --flags not-need-init,startup-clear \
        --pid file="$_d/swtpm.pid" --log file="$_d/swtpm.log",level=1 --daemon; then
        echo "swtpm did not start:" >&2
        cat "$_d/swtpm.log" >&2 2>/dev/null
        return 1
    fi
    _i=0
    while [ ! -S "$_d/swtpm.sock" ] || [ ! -s "$_d/swtpm.pid" ]; do
        _i=$((_i + 1))
        if [ $_i -gt 100 ]; then
            echo "swtpm: no socket in $_d after 10 s" >&2
            return 1
        fi
        sleep 0.1
    done
}

swtpm_stop() {
    _d=$1
    [ -s "$_d/swtpm.pid" ] || return 0
    _pid=$(cat "$_d/swtpm.pid")
    case $_pid in '' | *[!0-9]*) return 1 ;; esac
    # an orderly TPM2_Shutdown first, as an OS does before a reboot: without
    # it each restart counts as a dictionary-attack failure, and a few
    # restarts lock the AK out (TPM_RC_LOCKOUT)
    TPM2TOOLS_TCTI="swtpm:path=$_d/swtpm.sock" tpm2_shutdown -c >/dev/null 2>&1
    kill -TERM "$_pid" 2>/dev/null || {
        rm -f "$_d/swtpm.pid"
        return 0
    }
    _i=0
    while kill -0 "$_pid" 2>/dev/null; do
        _i=$((_i + 1))
        if [ $_i -gt 50 ]; then
            kill -KILL "$_pid" 2>/dev/null
            break
        fi
        sleep 0.1
    done
    rm -f "$_d/swtpm.pid"
}

swtpm_restart() {
    _d=$1
    swtpm_stop "$_d" && _swtpm_run "$_d"
}
