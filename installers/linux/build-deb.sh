#!/bin/sh
# Builds the headless agent's .deb with dpkg-deb, then SHA256SUMS and its Ed25519 signature.
#   installers/linux/build-deb.sh OUT_DIR SIGNING_KEY_PEM
# The signing key (Ed25519 PKCS#8 PEM) comes from the release environment (CI secret); it is never
# in the repository. Output: OUT_DIR/icarus-nova-agent_<version>_<arch>.deb, SHA256SUMS,
# SHA256SUMS.sig (raw Ed25519 signature, base64) and verify-and-install.sh.
set -eu
OUT=${1:?usage: build-deb.sh OUT_DIR SIGNING_KEY_PEM}
KEY=${2:?usage: build-deb.sh OUT_DIR SIGNING_KEY_PEM}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VERSION=$(node -p "require('$ROOT/desktop-agent/package.json').version")
ARCH=$(dpkg --print-architecture)
NODE_ABI=$(node -p process.versions.modules)
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
PKG="$STAGE/icarus-nova-agent"
LIB="$PKG/usr/lib/icarus-nova"
mkdir -p "$OUT" "$LIB/node_modules" "$PKG/usr/bin" "$PKG/usr/lib/systemd/user" "$PKG/etc/xdg/autostart" \
  "$PKG/usr/share/doc/icarus-nova-agent" "$PKG/DEBIAN"

# 1. The agent as one ESM file (core + CLI + shared + zod + jose...), and the screens.
cd "$ROOT"
npx tsx desktop-agent/scripts/bundle.ts "$LIB/icarus-agent.mjs" >/dev/null
npx tsx -e "import('./desktop-agent/src/ui/build.ts').then((m) => m.buildUi('$LIB/ui'))"

# 2. Packages that cannot be bundled: better-sqlite3 is a native addon, so its .node binding,
#    built for this Node ABI ($NODE_ABI), ships in the package; get-windows loads per-OS files.
copy_module() { mkdir -p "$LIB/node_modules/$1" && cp -r "$ROOT/node_modules/$1/." "$LIB/node_modules/$1/"; }
mkdir -p "$LIB/node_modules/better-sqlite3/build/Release"
cp -r "$ROOT/node_modules/better-sqlite3/lib" "$ROOT/node_modules/better-sqlite3/package.json" "$LIB/node_modules/better-sqlite3/"
cp "$ROOT/node_modules/better-sqlite3/build/Release/better_sqlite3.node" "$LIB/node_modules/better-sqlite3/build/Release/"
copy_module bindings
copy_module file-uri-to-path
mkdir -p "$LIB/node_modules/get-windows"
cp -r "$ROOT/node_modules/get-windows/index.js" "$ROOT/node_modules/get-windows/lib" "$ROOT/node_modules/get-windows/package.json" "$LIB/node_modules/get-windows/"
echo "$NODE_ABI" > "$LIB/NODE_ABI"

# 3. Launcher on the system node; refuses clearly when that node's ABI differs from the binding's.
cat > "$PKG/usr/bin/icarus-agent" <<'SH'
#!/bin/sh
want=$(cat /usr/lib/icarus-nova/NODE_ABI)
have=$(/usr/bin/node -p process.versions.modules)
if [ "$want" != "$have" ]; then
  echo "icarus-agent: built for Node ABI $want but /usr/bin/node is ABI $have; reinstall the package matching your nodejs" >&2
  exit 70
fi
exec /usr/bin/node /usr/lib/icarus-nova/icarus-agent.mjs "$@"
SH
chmod 0755 "$PKG/usr/bin/icarus-agent"

# 4. Start at login: a systemd user unit (headless, VDI) and an XDG autostart entry (desktops).
cp "$HERE/icarus-agent.service" "$PKG/usr/lib/systemd/user/icarus-agent.service"
cp "$HERE/icarus-agent.desktop" "$PKG/etc/xdg/autostart/icarus-agent.desktop"
cp "$HERE/agent.json" "$PKG/usr/share/doc/icarus-nova-agent/agent.json.example"
cp "$HERE/agent.schema.json" "$PKG/usr/share/doc/icarus-nova-agent/agent.schema.json"

# 5. Control files.
SIZE=$(du -sk "$PKG" | cut -f1)
cat > "$PKG/DEBIAN/control" <<CTL
Package: icarus-nova-agent
Version: $VERSION
Architecture: $ARCH
Maintainer: Icarus Nova <it@icarusnova.example>
Depends: nodejs (>= 20)
Installed-Size: $SIZE
Section: utils
Priority: optional
Homepage: https://icarusnova.example
Description: Icarus Nova headless activity agent (consent first)
 Records which application is in front and idle time, only after the person
 consents on the device, keeps it in a local SQLite file and syncs it to the
 organisation's Icarus Nova server. No screenshots, no keystrokes, ever.
CTL
install -m 0755 "$HERE/postinst" "$PKG/DEBIAN/postinst"
install -m 0755 "$HERE/prerm" "$PKG/DEBIAN/prerm"
install -m 0755 "$HERE/postrm" "$PKG/DEBIAN/postrm"
(cd "$PKG" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum > DEBIAN/md5sums)
find "$PKG" -type d -exec chmod 0755 {} +

DEB="icarus-nova-agent_${VERSION}_${ARCH}.deb"
dpkg-deb --build --root-owner-group "$PKG" "$OUT/$DEB" >/dev/null

# 6. Signed checksums: Ed25519 over SHA256SUMS, verified by verify-and-install.sh before dpkg -i.
(cd "$OUT" && sha256sum "$DEB" > SHA256SUMS)
openssl pkeyutl -sign -inkey "$KEY" -rawin -in "$OUT/SHA256SUMS" | base64 -w0 > "$OUT/SHA256SUMS.sig"
cp "$HERE/verify-and-install.sh" "$OUT/verify-and-install.sh"
echo "$OUT/$DEB"
