#!/usr/bin/env bash
# Takes the README's screenshots of the real console in a window under Xvfb, clicking through a
# removal of ts-3 on the built-in sandbox. Run from the project root after `mvn package`.
# Needs Debian's xvfb, imagemagick, xdotool and libgtk-3-0. Stops everything it started.
set -euo pipefail
out=src/docs/screenshots
disp=:${DISPLAY_NUMBER:-77}
mkdir -p "$out"
Xvfb "$disp" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
app=
trap 'kill $app $xvfb 2>/dev/null || true' EXIT
export DISPLAY=$disp
sleep 1
java -jar target/tabletop.jar &
app=$!
win=$(xdotool search --sync --name "^Tabletop" | head -1)
click() { xdotool mousemove --window "$win" "$1" "$2" click 1; }
shot() { sleep "${2:-1.5}"; import -window "$win" "$out/$1.png"; }

shot main-window 4
click 267 185            # tick ts-3
sleep 0.3
click 1339 17            # Remove selected…
shot precheck 2.5
click 1362 846           # Preview plan →
sleep 1.5
xdotool type --delay 50 "ts-3"
shot preview 1
xdotool key Return       # Run
shot run 12
shot verify 30
echo "screenshots in $out"
