#!/bin/sh
# Verifies the Ed25519 signature over SHA256SUMS with the organisation's release public key, then
# the package's checksum, and only then installs it.
#   verify-and-install.sh RELEASE_PUBLIC_KEY_PEM [--verify-only]
# Config for a silent install: write /etc/icarus-nova/agent.json first (server, enrollmentToken).
set -eu
PUB=${1:?usage: verify-and-install.sh RELEASE_PUBLIC_KEY_PEM [--verify-only]}
DIR=$(cd "$(dirname "$0")" && pwd)
SIG=$(mktemp)
trap 'rm -f "$SIG"' EXIT
base64 -d "$DIR/SHA256SUMS.sig" > "$SIG"
if ! openssl pkeyutl -verify -pubin -inkey "$PUB" -rawin -in "$DIR/SHA256SUMS" -sigfile "$SIG" >/dev/null 2>&1; then
  echo "REFUSED: SHA256SUMS signature does not verify with $PUB" >&2
  exit 2
fi
(cd "$DIR" && sha256sum --check --strict --quiet SHA256SUMS) || { echo "REFUSED: package checksum mismatch" >&2; exit 3; }
DEB=$(cut -d' ' -f3 "$DIR/SHA256SUMS")
echo "verified: $DEB"
[ "${2:-}" = "--verify-only" ] && exit 0
exec dpkg -i "$DIR/$DEB"
