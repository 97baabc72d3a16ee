#!/bin/sh
# Bandeau: install for this user only, no administrator rights needed.
#
#   ./install.sh [--server URL] [--start-at-login] [--prefix DIR]
#
# The program goes to ~/.local/opt/bandeau (an update replaces it; a running bar goes on
# until it restarts), `bandeau` to ~/.local/bin, the menu entry and its icon to
# ~/.local/share. The journal and the settings are the bar's own, elsewhere (~/.local/share/
# bandeau, ~/.config/bandeau): an update or an uninstall leaves them alone.
# IT: --server pre-sets the store's address; --start-at-login starts the bar at each login.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix="$HOME/.local/opt/bandeau"
server=""
at_login=""
while [ $# -gt 0 ]; do
    case "$1" in
        --server) [ $# -ge 2 ] || { echo "install.sh: --server needs an address" >&2; exit 2; }
                  server=$2; shift 2 ;;
        --server=*) server=${1#--server=}; shift ;;
        --start-at-login) at_login=on; shift ;;
        --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }
                  prefix=$2; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" = 0 ]; then
    echo "install.sh: run it as the agent, not as root (it installs for one user)" >&2
    exit 2
fi
[ -x "$here/bandeau/bandeau" ] || { echo "install.sh: no bandeau/ next to this script" >&2; exit 2; }

data_home=${XDG_DATA_HOME:-$HOME/.local/share}
bin_dir="$HOME/.local/bin"
umask 077
mkdir -p "$(dirname "$prefix")" "$bin_dir" "$data_home/applications" \
         "$data_home/icons/hicolor/scalable/apps"

# The new copy beside the old one, then swapped: a failed copy leaves the old one working.
rm -rf "$prefix.new"
cp -R "$here/bandeau" "$prefix.new"
cp "$here/uninstall.sh" "$prefix.new/uninstall.sh"
chmod -R go-w "$prefix.new"
chmod -R go+rX "$prefix.new"
rm -rf "$prefix.old"
[ -e "$prefix" ] && mv "$prefix" "$prefix.old"
mv "$prefix.new" "$prefix"
rm -rf "$prefix.old"
ln -sfn "$prefix/bandeau" "$bin_dir/bandeau"

umask 022
exec_line=$(printf '%s' "$prefix/bandeau" | sed 's/[\\"`$]/\\&/g')
sed "s|^Exec=.*|Exec=\"$exec_line\"|" "$here/app.bandeau.Bandeau.desktop" \
    > "$data_home/applications/app.bandeau.Bandeau.desktop"
cp "$here/app.bandeau.Bandeau.svg" "$data_home/icons/hicolor/scalable/apps/app.bandeau.Bandeau.svg"
command -v update-desktop-database >/dev/null 2>&1 \
    && update-desktop-database -q "$data_home/applications" 2>/dev/null || true

# Settings through the program itself (it checks them and writes bandeau.toml).
if [ -n "$server" ]; then
    "$prefix/bandeau" setting server.url "$server"
fi
if [ -n "$at_login" ]; then
    "$prefix/bandeau" autostart on
fi
echo "Bandeau installed in $prefix."
echo "Start it from the applications menu, or: $bin_dir/bandeau"
echo "Uninstall: $prefix/uninstall.sh (your journal is kept; --remove-data removes it too)"
