#!/bin/sh
# Makes Tabletop's class-data-sharing archive of the console's start, where Tabletop is installed: Java 17
# ties the archive to the exact path of the application jar, so the package's postinst runs this (and
# src/dist/smoke.sh does, for its scratch install). It starts the console once, off screen (Monocle), with
# the installed runtime and the same class path as the launcher, and at the first window goes on with the
# command line's path (a removal on the sandbox, a Kudu connection that finds no master, and by name the
# classes a removal on a real Kudu cluster loads: src/main/resources/io/tabletop/cds/kudu-apply.classlist,
# made by src/dist/make-kudu-classlist.sh). Without the archive the launcher starts as well, only slower
# (-Xshare:auto, its warnings off).
app="$(cd "$(dirname "$0")" && pwd -P)"   # .../lib/app, as bin/tabletop names it
java="$app/../runtime/bin/java"
tmp="$(mktemp -d)"
rm -f "$app/tabletop.jsa"
HOME="$tmp" TABLETOP_STARTUP_PROBE="$tmp/window.png" TABLETOP_CDS_TRAINING=1 timeout 120 "$java" -XX:ArchiveClassesAtExit="$app/tabletop.jsa" \
  -Dglass.platform=Monocle -Dmonocle.platform=Headless -Dprism.order=sw -Dheadless.geometry=1920x1200-32 \
  -Djava.class.path="$app/tabletop.jar" io.tabletop.Main >/dev/null 2>&1 || true
rm -rf "$tmp"
[ -f "$app/tabletop.jsa" ]
