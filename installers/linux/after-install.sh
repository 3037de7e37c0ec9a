#!/bin/sh
# Electron package (deb/rpm) post-install: start at login for every user via XDG autostart.
set -e
install -D -m 0644 /opt/Icarus\ Nova/resources/icarus-nova.desktop /etc/xdg/autostart/icarus-nova.desktop 2>/dev/null || true
