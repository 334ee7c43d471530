#!/bin/sh
# Tabletop's command, installed as bin/tabletop in place of jpackage's native launcher. That launcher asks
# rpm and then dpkg which package owns it, twice, at every start (JDK 17's LinuxLauncher.c): 0.4-0.5 s
# before the JVM starts, more than a command's whole start otherwise. This runs the bundled runtime on the
# application jar, with the start-up archive of this install when make-cds-archive.sh made one (Java 17
# ties the archive to the jar's exact path: both scripts name it by its physical path).
# No arguments: the console; arguments: the command line.
bin="$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)"
app="$(cd "$bin/../lib/app" && pwd -P)"
exec "$bin/../lib/runtime/bin/java" -XX:SharedArchiveFile="$app/tabletop.jsa" -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off \
  -cp "$app/tabletop.jar" io.tabletop.Main "$@"
