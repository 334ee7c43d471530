#!/usr/bin/env bash
# Run from the project root after `mvn package`. By hand, scripted: the real console under Xvfb, a local Kudu cluster started by clicking, a tserver added,
# the scale-out previewed and run with the keyboard. Screenshots to /tmp/kudu-click/. Stops everything.
set -uo pipefail
out=/tmp/kudu-click; mkdir -p $out
disp=:79
Xvfb $disp -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
export DISPLAY=$disp
sleep 1
java -Dtabletop.home="$out/home" -jar target/tabletop.jar > $out/app.log 2>&1 &
app=$!
trap 'kill $app 2>/dev/null; sleep 3; kill $xvfb 2>/dev/null' EXIT
win=$(xdotool search --sync --name "^Tabletop" | head -1)
sleep 4
eval $(xdotool getwindowgeometry --shell $win)
echo "window $WIDTH x $HEIGHT at $X,$Y"
shot() { import -window "$win" "$out/$1.png"; }
click() { xdotool mousemove --window $win $1 $2 click 1; }
shot 0-start
click 119 819          # Start local Apache Kudu cluster
for i in $(seq 1 60); do sleep 2; shot 1-local; if grep -q "Local Kudu" <(xdotool getwindowname $win); then break; fi; done
sleep 8; shot 1-local
click 807 87           # Add a server
sleep 15; shot 2-added
click 540 111          # Balance onto new servers… (below the notice line)
sleep 12; shot 3-precheck
xdotool key --window $win ctrl+p
sleep 3; xdotool type --window $win --delay 60 "scale-out"; sleep 1; shot 4-preview
xdotool key --window $win ctrl+Return
for i in $(seq 1 45); do sleep 2; done
shot 5-done
sleep 20; shot 6-done
