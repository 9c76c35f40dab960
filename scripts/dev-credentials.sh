#!/usr/bin/env bash
# Makes throw-away credentials for a tariff-alert server on this machine
# (docs/security.md): a CA, a server certificate for 127.0.0.1/localhost, a
# client certificate for mutual TLS, and four bearer tokens with their
# tokens file. For trying things out and for tests; a real deployment gets
# its certificates from the firm's CA.
#
#   scripts/dev-credentials.sh DIR [CLI]
#
# DIR gets (mode 600 for keys and tokens):
#   ca.pem ca.key                  the CA
#   server.pem server.key          CN=tariff-alertd, SAN 127.0.0.1, ::1, localhost
#   client.pem client.key          CN=desk1 (mutual TLS)
#   publisher.token subscriber.token analyst.token admin.token   one each
#   tokens.txt                     the server's --tokens-file (hashes only)
# CLI is the tariff-alert binary (default build/clients/tariff-alert), whose
# `token new` makes the tokens.
set -euo pipefail
DIR=${1:?usage: dev-credentials.sh DIR [CLI]}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=${2:-$ROOT/build/clients/tariff-alert}
mkdir -p "$DIR"
cd "$DIR"
umask 077
DAYS=${TA_CERT_DAYS:-30}

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -out ca.pem -days "$DAYS" -subj "/O=tariff-alert dev/CN=tariff-alert dev CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

# sign NAME SUBJECT EXTENSIONS: NAME.key and NAME.pem signed by the CA.
sign() {
  local name=$1 subject=$2 ext=$3
  key "$name.key"
  openssl req -new -key "$name.key" -out "$name.csr" -subj "$subject" 2>/dev/null
  printf '%b' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out "$name.pem" -days "$DAYS" -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}
sign server "/O=tariff-alert dev/CN=tariff-alertd" \
  "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
sign client "/O=tariff-alert dev/CN=desk1" "extendedKeyUsage=clientAuth\n"
chmod 644 ca.pem server.pem client.pem

: > tokens.txt
for role in publisher subscriber analyst admin; do
  "$CLI" token new --name "dev-$role" --roles "$role" --line-file tokens.txt > "$role.token"
done
echo "dev-credentials: CA, server and client certificates and 4 tokens in $DIR"
