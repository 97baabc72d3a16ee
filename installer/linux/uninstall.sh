#!/bin/sh
# Bandeau: uninstall for this user.
#
#   ~/.local/opt/bandeau/uninstall.sh [--remove-data] [--prefix DIR]
#
# Removes the program, the `bandeau` command, the menu entry, its icon and the start at
# login. The journal and the settings stay (the events not yet sent are in the journal):
# --remove-data removes them too, and refuses while a bar is running or events wait.
set -eu

prefix="$HOME/.local/opt/bandeau"
remove_data=""
while [ $# -gt 0 ]; do
    case "$1" in
        --remove-data) remove_data=yes; shift ;;
        --prefix) [ $# -ge 2 ] || { echo "uninstall.sh: --prefix needs a folder" >&2; exit 2; }
                  prefix=$2; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "uninstall.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
config_home=${XDG_CONFIG_HOME:-$HOME/.config}
program="$prefix/bandeau"

if [ -x "$program" ]; then
    if "$program" status >/dev/null 2>&1; then
        echo "uninstall.sh: a bar is running; quit it first (its menu, Quit)" >&2
        exit 1
    fi
    if [ -n "$remove_data" ]; then
        waiting=$("$program" journal unsent 2>/dev/null || echo unknown)
        if [ "${waiting:-0}" != 0 ]; then
            echo "uninstall.sh: $waiting event(s) not yet sent to the store are in the journal;" \
                 "start the bar once connected, or uninstall without --remove-data" >&2
            exit 1
        fi
    fi
fi
rm -f "$config_home/autostart/app.bandeau.Bandeau.desktop"
rm -f "$data_home/applications/app.bandeau.Bandeau.desktop"
rm -f "$data_home/icons/hicolor/scalable/apps/app.bandeau.Bandeau.svg"
if [ -L "$HOME/.local/bin/bandeau" ] && [ "$(readlink "$HOME/.local/bin/bandeau")" = "$program" ]; then
    rm -f "$HOME/.local/bin/bandeau"
fi
rm -rf "$prefix"
command -v update-desktop-database >/dev/null 2>&1 \
    && update-desktop-database -q "$data_home/applications" 2>/dev/null || true
if [ -n "$remove_data" ]; then
    rm -rf "$data_home/bandeau" "$config_home/bandeau"
    echo "Bandeau uninstalled, with its journal and settings."
else
    echo "Bandeau uninstalled. Your journal and settings are kept in $data_home/bandeau and" \
         "$config_home/bandeau (uninstall.sh --remove-data removes them)."
fi
