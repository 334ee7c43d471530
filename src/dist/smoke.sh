#!/usr/bin/env bash
# Smoke test of the Linux package, run by .ci/run after `mvn verify` where jpackage is available: builds the
# .deb, unpacks it into a scratch root (dpkg -x), and runs the installed launcher with no JAVA_HOME and no
# Java of the machine's: --version, a snapshot of the sandbox, and the console's first window under Xvfb.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if ! command -v jpackage >/dev/null && [ ! -x "${JAVA_HOME:-/nonexistent}/bin/jpackage" ]; then
  echo "package smoke test skipped: no jpackage in this JDK"; exit 0
fi
mvn -B -ntp -q -Pdist package -DskipTests
deb="$(ls target/dist/tabletop_*.deb)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
dpkg -x "$deb" "$scratch/root"
bin="$scratch/root/opt/tabletop/bin/tabletop"
run() { env -i HOME="$scratch/home" PATH=/usr/bin:/bin LANG=C.UTF-8 ${DISPLAY:+DISPLAY=$DISPLAY} "$@"; }
mkdir -p "$scratch/home"
want="tabletop $(grep -m1 -A1 '<artifactId>tabletop</artifactId>' pom.xml | sed -n 's:.*<version>\(.*\)</version>.*:\1:p')"
# As postinst does: the start-up archive for this install's path.
"$scratch/root/opt/tabletop/lib/app/make-cds-archive.sh" && echo "start-up archive: $(du -h "$scratch/root/opt/tabletop/lib/app/tabletop.jsa" | cut -f1)"
got="$(run "$bin" --version)"
echo "installed: $got ($(du -sh "$scratch/root/opt/tabletop" | cut -f1) installed, $(du -h "$deb" | cut -f1) .deb)"
[ "$got" = "$want" ] || { echo "version: got '$got', want '$want'"; exit 1; }
run "$bin" snapshot --connect sandbox --out "$scratch/home/sandbox.json"
grep -q '"partitions"' "$scratch/home/sandbox.json"
if command -v xvfb-run >/dev/null; then
  out="$(run env TABLETOP_STARTUP_PROBE="$scratch/home/window.png" xvfb-run -a -s "-screen 0 1920x1200x24" "$bin" 2>&1 | tail -1)"
  echo "console: $out"
  java "$root/src/dist/PngCheck.java" "$scratch/home/window.png"
else
  echo "console window check skipped: no xvfb-run here (apt-get install xvfb)"
fi
echo "package smoke test passed"
