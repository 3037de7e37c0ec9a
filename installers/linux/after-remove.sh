#!/bin/sh
# Removes the autostart entry; per-user data under ~/.local/share/icarus-nova is the person's and stays.
rm -f /etc/xdg/autostart/icarus-nova.desktop
