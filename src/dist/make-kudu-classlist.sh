#!/bin/sh
# Regenerates src/main/resources/io/tabletop/cds/kudu-apply.classlist: the classes a removal on a real Kudu
# cluster loads beyond the JDK's own start-up archive (Kudu's Java client and its Netty, TLS and SASL, the HTTP
# client, Tabletop's Kudu connector and executor). The package's class-data archive is made where Tabletop is
# installed, by a training run that has no cluster (make-cds-archive.sh): it loads these classes by name, so
# that `tabletop apply` on Kudu finds them in the archive instead of reading and verifying them from the jar.
# A class of the list that no longer exists is skipped there (CdsClassListTest says when the list has drifted).
#
# Run from a checkout after `mvn package -DskipTests`; starts a local Kudu cluster (loopback only), removes
# one tablet server with `apply`, and stops the cluster, also when a step fails.
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
jar="$root/target/tabletop.jar"
out="$root/src/main/resources/io/tabletop/cds/kudu-apply.classlist"
[ -f "$jar" ] || { echo "no $jar: run mvn package -DskipTests first" >&2; exit 1; }
name="classlist-$$"
log="$(mktemp)"
trap 'java -jar "$jar" local-kudu stop --name "$name" >/dev/null 2>&1 || true; rm -f "$log"' EXIT
uri="$(java -jar "$jar" local-kudu start --name "$name" | grep '^kudu://' | head -1)"
tserver="$(java -jar "$jar" local-kudu status --name "$name" | awk '$1 == "tserver-1" { print $2 }')"
# as the package runs a command: the client compiler only (the classes loaded do not depend on it)
java -XX:TieredStopAtLevel=1 "-Xlog:class+load=info:file=$log:none" -jar "$jar" \
  apply --connect "$uri" --remove "$tserver" --yes --stop-local >/dev/null
{
  echo "# Classes a removal on a real Kudu cluster loads beyond the JDK's start-up archive, for the package's"
  echo "# class-data archive (src/dist/linux/make-cds-archive.sh). Made by src/dist/make-kudu-classlist.sh; do not edit."
  grep -v 'source: shared objects file' "$log" | grep -v 'source: __' | sed -n 's/^\([^ ]*\) source: .*/\1/p' \
    | grep -v -e '/' -e '\$\$Lambda' | LC_ALL=C sort -u
} > "$out"
echo "$(grep -vc '^#' "$out") classes written to $out"
