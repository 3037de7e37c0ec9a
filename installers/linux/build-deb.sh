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
# The binding's ABI (NODE_MODULE_VERSION) changes with each Node major and only then, so the
# package depends on exactly the major it is built with: dpkg refuses it next to any other Node.
NODE_MAJOR=$(node -p "process.versions.node.split('.')[0]")
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
# Staged as debian/<package> so dpkg-shlibdeps (step 6) finds the binary where it expects it.
PKG="$STAGE/debian/icarus-nova-agent"
LIB="$PKG/usr/lib/icarus-nova"
mkdir -p "$OUT" "$LIB/node_modules" "$PKG/usr/bin" "$PKG/usr/lib/systemd/user" "$PKG/usr/lib/systemd/system" "$PKG/etc/xdg/autostart" \
  "$PKG/usr/share/doc/icarus-nova-agent" "$PKG/DEBIAN"

# 1. The agent as one ESM file (core + CLI + shared + zod + jose...), and the screens.
cd "$ROOT"
npx tsx desktop-agent/scripts/bundle.ts "$LIB/icarus-agent.mjs" >/dev/null
npx tsx -e "import('./desktop-agent/src/ui/build.ts').then((m) => m.buildUi('$LIB/ui'))"

# 2. Packages that cannot be bundled: better-sqlite3 is a native addon, so its .node binding,
#    built for this Node ABI ($NODE_ABI), ships in the package; get-windows loads per-OS files.
#    Only what runs on Linux is copied: no docs, tests, npm ignore files or macOS/Windows binaries
#    (their licences are in /usr/share/doc/icarus-nova-agent/copyright).
NM="$ROOT/node_modules"
copy_files() { mod=$1; shift; for f in "$@"; do install -D -m 0644 "$NM/$mod/$f" "$LIB/node_modules/$mod/$f"; done; }
copy_files better-sqlite3 package.json $(cd "$NM/better-sqlite3" && find lib -type f -name '*.js' | sort)
copy_files bindings package.json bindings.js
copy_files file-uri-to-path package.json index.js
copy_files get-windows package.json index.js lib/linux.js lib/macos.js lib/windows.js
# The binding is a shared object: not executable, stripped of debug symbols like any packaged library.
BINDING="$LIB/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
install -D -m 0644 "$NM/better-sqlite3/build/Release/better_sqlite3.node" "$BINDING"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$BINDING"
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
# Signed updates: the agent stages them, this root path unit hands them to `icarus-agent install-update`.
cp "$HERE/icarus-agent-update.path" "$HERE/icarus-agent-update.service" "$PKG/usr/lib/systemd/system/"
cp "$HERE/agent.json" "$PKG/usr/share/doc/icarus-nova-agent/agent.json.example"
cp "$HERE/agent.schema.json" "$PKG/usr/share/doc/icarus-nova-agent/agent.schema.json"

# 5. What Debian expects of every package: copyright, changelog (this is a native package, so
#    changelog.gz), and a manual page for the command. gzip -n: no timestamp, reproducible.
install -m 0644 "$HERE/copyright" "$PKG/usr/share/doc/icarus-nova-agent/copyright"
CHANGELOG_VERSION=$(dpkg-parsechangelog -l "$HERE/changelog" -S Version)
if [ "$CHANGELOG_VERSION" != "$VERSION" ]; then
  echo "build-deb.sh: installers/linux/changelog is at $CHANGELOG_VERSION but the agent is $VERSION: add an entry" >&2
  exit 1
fi
gzip -9n < "$HERE/changelog" > "$PKG/usr/share/doc/icarus-nova-agent/changelog.gz"
mkdir -p "$PKG/usr/share/man/man1"
gzip -9n < "$HERE/icarus-agent.1" > "$PKG/usr/share/man/man1/icarus-agent.1.gz"
chmod 0644 "$PKG/usr/share/doc/icarus-nova-agent/changelog.gz" "$PKG/usr/share/man/man1/icarus-agent.1.gz"

# 6. Control files. The binding's own library needs (libc6, libstdc++6...) come from
#    dpkg-shlibdeps, which wants a debian/control to read: a minimal one next to the staging tree.
printf 'Source: icarus-nova-agent\n\nPackage: icarus-nova-agent\nArchitecture: any\n' > "$STAGE/debian/control"
# The binding's V8 and Node symbols come from the node executable itself, so they are in no
# library: --warnings=0 silences those ~70 expected notes; a missing library still fails the build.
SHLIBS=$(cd "$STAGE" && dpkg-shlibdeps --warnings=0 -O "$BINDING" | sed -n 's/^shlibs:Depends=//p')
[ -n "$SHLIBS" ] || { echo "build-deb.sh: dpkg-shlibdeps found no dependencies for $BINDING" >&2; exit 1; }
SIZE=$(du -sk "$PKG" | cut -f1)
cat > "$PKG/DEBIAN/control" <<CTL
Package: icarus-nova-agent
Version: $VERSION
Architecture: $ARCH
Maintainer: Icarus Nova <it@icarusnova.example>
Depends: nodejs (>= $NODE_MAJOR), nodejs (<< $((NODE_MAJOR + 1))), $SHLIBS
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
# IT may edit the autostart entry (Hidden=true turns it off): an upgrade keeps their change.
echo /etc/xdg/autostart/icarus-agent.desktop > "$PKG/DEBIAN/conffiles"
chmod 0644 "$PKG/DEBIAN/conffiles"
(cd "$PKG" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum > DEBIAN/md5sums)
find "$PKG" -type d -exec chmod 0755 {} +

DEB="icarus-nova-agent_${VERSION}_${ARCH}.deb"
dpkg-deb --build --root-owner-group "$PKG" "$OUT/$DEB" >/dev/null

# 7. Signed checksums: Ed25519 over SHA256SUMS, verified by verify-and-install.sh before dpkg -i.
(cd "$OUT" && sha256sum "$DEB" > SHA256SUMS)
openssl pkeyutl -sign -inkey "$KEY" -rawin -in "$OUT/SHA256SUMS" | base64 -w0 > "$OUT/SHA256SUMS.sig"
cp "$HERE/verify-and-install.sh" "$OUT/verify-and-install.sh"
echo "$OUT/$DEB"
