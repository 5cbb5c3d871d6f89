# shellcheck shell=bash
# Shared by install.sh and uninstall.sh (sourced, never run): their messages,
# the step under way (for the ERR trap's message) and --dry-run.
#
# Before sourcing, set `prog` (the script's name in messages) and `dry_run`
# (1 to print each command run() is given instead of running it).
# shellcheck disable=SC2154,SC2034  # prog and dry_run are the sourcing script's; it reads current

current="starting"
say() { printf '%s: %s\n' "$prog" "$*"; }
warn() { printf '%s: warning: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
step() { current="$*"; printf '\n== %s\n' "$*"; }

# run CMD...: run it, or with --dry-run print it.
run() {
  if ((dry_run)); then
    local words=() word
    for word in "$@"; do words+=("$(printf '%q' "$word")"); done
    printf '  would run: %s\n' "${words[*]}"
  else
    "$@"
  fi
}
