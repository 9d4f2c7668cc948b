#!/usr/bin/env bash
# --no-verify-ssl against the real store behind a TLS relay with a self-signed certificate:
# without the flag the certificate is refused (exit 5, the reason named); with it (after the
# subcommand, as the AWS CLI allows) ls and cp work and stderr carries one warning; on an http://
# endpoint the flag warns of nothing.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
# shellcheck disable=SC1090
source "${SLUICE_LOCAL_S3_ENV:?}"
sluice=${SLUICE_BINARY:?}
command -v openssl >/dev/null || fail "openssl is missing"
command -v python3 >/dev/null || fail "python3 is missing"
tmp=$(mktemp -d)
bucket=tls-$$-$RANDOM
relay_pid=
cleanup() {
  local rc=$?
  if [[ -n $relay_pid ]]; then kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
  timeout 60 "$sluice" rb --force "s3://$bucket" >/dev/null 2>&1 || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 || fail "cannot make a certificate"
# The relay: TLS on a free loopback port, bytes passed on to the store as they are (the Host
# header is the relay's, which is what the client signed). It ends after 300 s whatever happens.
cat >"$tmp/relay.py" <<'PY'
import signal, socket, ssl, sys, threading
cert, key, upstream, port_file = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
host, port = upstream.split("//")[1].split(":")
signal.alarm(300)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(64)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % srv.getsockname()[1])
import os; os.rename(port_file + ".tmp", port_file)

def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.close()
        except OSError:
            pass

def handle(conn):
    try:
        t = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        conn.close()  # a client that refused the certificate
        return
    u = socket.create_connection((host, int(port.rstrip("/"))))
    threading.Thread(target=pipe, args=(t, u), daemon=True).start()
    pipe(u, t)

while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
PY
python3 "$tmp/relay.py" "$tmp/cert.pem" "$tmp/key.pem" "$AWS_ENDPOINT_URL" "$tmp/port" &
relay_pid=$!
n=100
while ((n-- > 0)) && [[ ! -s $tmp/port ]]; do sleep 0.1; done
[[ -s $tmp/port ]] || fail "the TLS relay did not start"
https=https://127.0.0.1:$(cat "$tmp/port")

head -c 3000000 /dev/urandom >"$tmp/src"
"$sluice" mb "s3://$bucket" >/dev/null
"$sluice" cp -q "$tmp/src" "s3://$bucket/obj"

# The certificate is verified by default: refused, exit 5, the reason named.
set +e
AWS_MAX_ATTEMPTS=2 timeout 60 "$sluice" --endpoint-url "$https" ls "s3://$bucket/" >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[[ $rc == 5 ]] || fail "a self-signed certificate: exit $rc, expected 5: $(cat "$tmp/err")"
grep -qi 'certificate' "$tmp/err" || fail "the refusal does not name the certificate: $(cat "$tmp/err")"
[[ ! -s $tmp/out ]] || fail "something was listed through an unverified connection: $(cat "$tmp/out")"

# --no-verify-ssl after the subcommand: it works, and says once what it does.
timeout 60 "$sluice" ls "s3://$bucket/" --endpoint-url "$https" --no-verify-ssl >"$tmp/out" 2>"$tmp/err" ||
  fail "ls with --no-verify-ssl failed: $(cat "$tmp/err")"
grep -q ' obj$' "$tmp/out" || fail "ls with --no-verify-ssl does not list obj: $(cat "$tmp/out")"
[[ $(grep -c 'sluice: warning: --no-verify-ssl' "$tmp/err") == 1 ]] || fail "no single warning: $(cat "$tmp/err")"
timeout 60 "$sluice" --no-verify-ssl --endpoint-url "$https" cp -q "s3://$bucket/obj" "$tmp/got" 2>"$tmp/err" ||
  fail "cp with --no-verify-ssl failed: $(cat "$tmp/err")"
cmp "$tmp/src" "$tmp/got" || fail "the object came back different through TLS"
grep -q 'sluice: warning: --no-verify-ssl' "$tmp/err" || fail "cp did not warn: $(cat "$tmp/err")"

# On an http:// endpoint there is nothing to verify: no warning.
timeout 60 "$sluice" ls "s3://$bucket/" --no-verify-ssl >"$tmp/out" 2>"$tmp/err" || fail "ls over http failed: $(cat "$tmp/err")"
! grep -q 'warning' "$tmp/err" || fail "a warning for an http:// endpoint: $(cat "$tmp/err")"
echo "tls: ok"
