#!/usr/bin/env bash
# Take the Wall Hinge Station off this Raspberry Pi.
#
#   sudo deploy/uninstall.sh                        # services, units, kiosk, the installed station
#   sudo deploy/uninstall.sh --purge                # also the database, backups, configuration,
#                                                   # certificate and the wallhinge user
#   sudo deploy/uninstall.sh --remove-librealsense  # also librealsense and its udev rules
#   deploy/uninstall.sh --dry-run                   # print every action, change nothing
#
# Without --purge the data stays: the database and its backups in the data
# folder, /etc/wallhinge (configuration, certificate) and the wallhinge user,
# so install.sh can bring the station back as it was. Debian packages are
# never removed (other software may use them). The files to remove are the
# ones deploy/render.py generates: the same list install.sh writes.
set -Eeuo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
lrs_src="/usr/local/src/librealsense"
lrs_stamp="/usr/local/share/wallhinge/librealsense-tag"

dry_run=0
files_only=0
purge=0
remove_lrs=0
root=/
sets=()
desktop_user=""
desktop_home=""

usage() { sed -n '2,16s/^# \{0,1\}//p' "$0"; }

while (($#)); do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --files-only) files_only=1 ;;
    --purge) purge=1 ;;
    --remove-librealsense) remove_lrs=1 ;;
    --root) root="${2:?--root needs a folder}"; shift ;;
    --prefix) sets+=(--set "prefix=${2:?--prefix needs a folder}"); shift ;;
    --desktop-user) desktop_user="${2:?--desktop-user needs a name}"; shift ;;
    --desktop-home) desktop_home="${2:?--desktop-home needs a folder}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) printf 'uninstall: unknown option %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
  shift
done

prog=uninstall
# shellcheck source=deploy/common.sh disable=SC1091  # say, warn, die, step, run
source "$here/common.sh"
trap 'die "failed while: $current (line $LINENO); run uninstall.sh again once the cause is fixed"' ERR

root="${root%/}/"
target() { printf '%s%s' "${root%/}" "$1"; }
if [[ $root != / ]] && ((!dry_run && !files_only)); then
  die "--root is for --files-only or --dry-run"
fi
if ((!dry_run && !files_only)) && [[ $(id -u) -ne 0 ]]; then
  die "run it as root: sudo deploy/uninstall.sh (or --dry-run to see what it would do)"
fi

# The kiosk block lives in the desktop user's labwc autostart.
if [[ -z $desktop_user ]]; then
  if [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
    desktop_user="$SUDO_USER"
  else
    desktop_user="$(getent passwd 1000 | cut -d: -f1 || true)"
  fi
fi
if [[ -n $desktop_user && -z $desktop_home ]]; then
  desktop_home="$(getent passwd "$desktop_user" | cut -d: -f6 || true)"
fi
if [[ -n $desktop_user && -n $desktop_home ]]; then
  sets+=(--set "desktop_user=$desktop_user" --set "desktop_home=$desktop_home")
fi

render() { "$python" "$here/render.py" --root "$root" "${sets[@]}" "$@"; }
vars_text="$(render vars)" || die "cannot work out the station's settings (see the line above)"
declare -A V=()
while IFS='=' read -r key value; do V[$key]="$value"; done <<<"$vars_text"
((dry_run)) && say "dry run: nothing is changed; every action is printed"

if ((!files_only)); then
  step "Stopping the services"
  for unit in wallhinge-station.service wallhinge-backup.timer; do
    if systemctl cat "$unit" >/dev/null 2>&1 || ((dry_run)); then
      run systemctl disable --now "$unit"
    fi
  done
  # A unit of an earlier release (wallhinge-web.service) left by an install never upgraded.
  read -r -a retired_units <<<"${V[retired_units]}"
  for unit in "${retired_units[@]}"; do
    if [[ -e $(target "${V[unit_dir]}/$unit") ]]; then
      run systemctl disable --now "$unit"
    fi
  done
  # Started by the timer only (no [Install] section): stopping is enough.
  if systemctl cat wallhinge-backup.service >/dev/null 2>&1 || ((dry_run)); then
    run systemctl stop wallhinge-backup.service
  fi
fi

step "Removing the generated files"
remove_args=()
((dry_run)) && remove_args+=(--dry-run)
((purge)) && remove_args+=(--purge)
render remove "${remove_args[@]}"
if [[ -L $(target /etc/nginx/sites-enabled/wallhinge) ]] || ((dry_run)); then
  run rm -f "$(target /etc/nginx/sites-enabled/wallhinge)"
  if [[ -e $(target /etc/nginx/sites-available/default) && ! -e $(target /etc/nginx/sites-enabled/default) ]] || ((dry_run)); then
    run ln -s /etc/nginx/sites-available/default "$(target /etc/nginx/sites-enabled/default)"
  fi
fi

step "Removing the installed station ${V[prefix]}"
run rm -rf "$(target "${V[prefix]}")"

if ((purge)); then
  step "Purging the data: ${V[data_dir]}, $(dirname "${V[config]}")"
  run rm -rf "$(target "${V[data_dir]}")" "$(target "$(dirname "${V[config]}")")" "$(target "${V[tls_dir]}")"
  if ((!files_only)) && { getent passwd "${V[user]}" >/dev/null || ((dry_run)); }; then
    run userdel "${V[user]}"
  fi
else
  say "kept: the database and backups in ${V[data_dir]}, ${V[config]}, the certificate and user ${V[user]} (--purge removes them)"
fi

if ((remove_lrs)); then
  step "Removing librealsense"
  manifest="$lrs_src/build/install_manifest.txt"
  if [[ -f $manifest ]]; then
    while IFS= read -r file; do
      [[ -n $file ]] && run rm -f "$(target "$file")"
    done <"$manifest"
  elif ((!dry_run)); then
    say "no $manifest: librealsense's files in /usr/local stay"
  else
    say "would remove every file listed in $manifest"
  fi
  run rm -rf "$(target "$lrs_src")" "$(target "$lrs_stamp")"
  run rm -f "$(target /etc/udev/rules.d/99-realsense-libusb.rules)"
fi

if ((!files_only)); then
  step "Reloading systemd, journald, udev and nginx"
  run systemctl daemon-reload
  run systemctl restart systemd-journald.service
  ((remove_lrs)) && run udevadm control --reload-rules
  ((remove_lrs)) && run ldconfig
  if systemctl is-active --quiet nginx.service 2>/dev/null || ((dry_run)); then
    run systemctl reload-or-restart nginx.service
  fi
fi
current="finishing"
if ((dry_run)); then
  say "dry run finished: nothing was changed"
  exit 0
fi
say "done. Debian packages (chromium, nginx, build tools ...) were left installed."
