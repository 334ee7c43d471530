#!/usr/bin/env bash
# Takes the README's main-window screenshot of the real console in a window under Xvfb, on the
# built-in sandbox. Run from the project root after `mvn package`.
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
shot() { sleep "${2:-1.5}"; import -window "$win" "$out/$1.png"; }

# The real window, as an operator first sees it. The removal flow's screens are rendered headless by
# ScreenshotTourUiTest (target/screenshots/ on every mvn verify), which clicks by id, not by pixel.
shot main-window 4
echo "screenshots in $out"
