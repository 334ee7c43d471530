#!/bin/sh
# Tabletop's command, installed as bin/tabletop in place of jpackage's native launcher. That launcher asks
# rpm and then dpkg which package owns it, twice, at every start (JDK 17's LinuxLauncher.c): 0.4-0.5 s
# before the JVM starts, more than a command's whole start otherwise. This runs the bundled runtime on the
# application jar, with the start-up archive of this install when make-cds-archive.sh made one (Java 17
# ties the archive to the jar's exact path: both scripts name it by its physical path).
# No arguments: the console; arguments: the command line.
# A command (but a benchmark) runs with the client compiler only: C2 compiling beside the cluster's read and
# the kudu CLI processes on a small machine delayed a run's first step by about 0.5 s (1.3-2.0 s from the
# process's start against 1.1-1.3 s, on 2 cores), and a command's work is mostly waiting on the cluster.
# What it costs is the planner on very large clusters: 1.05 s against 0.53 s for 1M replicas (bench planner).
# The console keeps both compilers.
bin="$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)"
app="$(cd "$bin/../lib/app" && pwd -P)"
jit=""
if [ $# -gt 0 ] && [ "$1" != bench ]; then
  jit="-XX:TieredStopAtLevel=1"
fi
exec "$bin/../lib/runtime/bin/java" -XX:SharedArchiveFile="$app/tabletop.jsa" -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off $jit \
  -cp "$app/tabletop.jar" io.tabletop.Main "$@"
