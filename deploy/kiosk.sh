#!/usr/bin/env bash
# Wall Hinge Station kiosk: Chromium full screen on the station's kiosk page, for good.
#
#   wallhinge-kiosk [URL]        (default http://localhost:8080/kiosk)
#
# Installed as /opt/wallhinge/bin/wallhinge-kiosk and started by the desktop
# user's labwc autostart (deploy/templates/labwc-autostart). It waits for the
# dashboard service to answer, keeps the screen on, and starts Chromium again
# whenever it exits (a crash, an out-of-memory kill, Alt+F4), as FullPageOS does.
# It ends when the desktop session ends. Its log: journalctl -t wallhinge-kiosk
#
# Environment (for trying it out): WALLHINGE_KIOSK_PROFILE (Chromium profile
# folder), WALLHINGE_KIOSK_RETRY_S (pause after a browser that died at once, 5).
set -uo pipefail   # no -e: one failing command must not end the kiosk

url="${1:-http://localhost:8080/kiosk}"
profile="${WALLHINGE_KIOSK_PROFILE:-${XDG_STATE_HOME:-$HOME/.local/state}/wallhinge-kiosk}"
retry_s="${WALLHINGE_KIOSK_RETRY_S:-5}"

log() { logger -t wallhinge-kiosk -- "$*" 2>/dev/null || printf 'wallhinge-kiosk: %s\n' "$*" >&2; }

browser=""
for candidate in chromium-browser chromium; do
  if command -v "$candidate" >/dev/null 2>&1; then
    browser="$(command -v "$candidate")"
    break
  fi
done
if [[ -z $browser ]]; then
  log "neither chromium-browser nor chromium is installed: run deploy/install.sh again"
  exit 1
fi

# One kiosk per session: a second start leaves the first in charge.
exec 9>"${XDG_RUNTIME_DIR:-/tmp}/wallhinge-kiosk.lock"
if ! flock -n 9; then
  log "a kiosk is already running in this session"
  exit 0
fi

session_alive() {
  # Under labwc the Wayland socket lives in XDG_RUNTIME_DIR; it goes with the session.
  [[ -z ${WAYLAND_DISPLAY:-} ]] || [[ -S ${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/${WAYLAND_DISPLAY} ]]
}

screen_on() {
  # Blanking is turned off at install (raspi-config nonint do_blanking 1); wake
  # the outputs anyway, in case something put them to sleep.
  if command -v wlopm >/dev/null 2>&1; then
    wlopm --on '*' >/dev/null 2>&1
  fi
  if pgrep -u "$(id -u)" -x swayidle >/dev/null 2>&1; then
    log "swayidle is running and will blank the screen: run 'sudo raspi-config nonint do_blanking 1' and log in again"
  fi
}

wait_for_page() {
  local waited=0
  until curl -fsS -o /dev/null --max-time 3 "$url" 2>/dev/null; do
    session_alive || return 1
    if ((waited % 60 == 0)); then
      log "waiting for the dashboard at $url (systemctl status wallhinge-station)"
    fi
    sleep 2
    waited=$((waited + 2))
  done
}

mark_clean_exit() {
  # After a crash or a power cut Chromium offers to restore the last session;
  # tell its profile the last exit was a clean one.
  local preferences="$profile/Default/Preferences"
  [[ -f $preferences ]] || return 0
  sed -i -e 's/"exited_cleanly":false/"exited_cleanly":true/' \
    -e 's/"exit_type":"[A-Za-z]*"/"exit_type":"Normal"/' "$preferences"
}

flags=(
  --kiosk                                  # full screen, no address bar, no way out by mouse
  --noerrdialogs                           # no error dialogs
  --disable-infobars                       # no "Chrome is being controlled" style bars
  --disable-session-crashed-bubble         # no "Restore pages?" (with mark_clean_exit)
  --no-first-run                           # no first-run screens
  --no-default-browser-check
  "--disable-features=Translate,TranslateUI" # no translate bar
  --password-store=basic                   # no keyring prompt on a desktop without one
  --check-for-update-interval=31536000     # no "update Chromium" nag
  --ozone-platform=wayland                 # labwc is a Wayland compositor
  --start-maximized
  --touch-events=enabled                   # touch screens: taps and swipes
  --disable-pinch                          # a senior's palm must not zoom the page
  --overscroll-history-navigation=0        # a swipe must not go "back"
  --autoplay-policy=no-user-gesture-required
  "--user-data-dir=$profile"
)

log "kiosk for $url with $browser"
while session_alive; do
  wait_for_page || break
  screen_on
  mark_clean_exit
  started=$SECONDS
  "$browser" "${flags[@]}" "$url" >/dev/null 2>&1
  status=$?
  session_alive || break
  log "the browser exited (status $status) after $((SECONDS - started)) s: starting it again"
  # A browser that dies at once, again and again, must not spin the CPU.
  if ((SECONDS - started < 10)); then sleep "$retry_s"; else sleep 1; fi
done
log "the desktop session ended: kiosk stopped"
