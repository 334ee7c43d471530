#!/usr/bin/env bash
# Builds Tabletop's installable packages from target/tabletop.jar with the JDK's jpackage: a Linux app image
# carrying a jlinked runtime (only the modules Tabletop needs), a .deb, and an .rpm where rpmbuild exists.
# Run by `mvn -Pdist package`; the pom's version is the first argument.
set -euo pipefail
version="${1:?the pom version}"
app_version="${version%%-*}"  # jpackage takes digits and dots only: 0.1.0-SNAPSHOT -> 0.1.0
root="$(cd "$(dirname "$0")/../.." && pwd)"
java_home="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
jpackage="$java_home/bin/jpackage"
dist="$root/target/dist"
# What jdeps --print-module-deps finds in target/tabletop.jar, plus what is loaded by name or needed at run
# time only: java.desktop (PNG export), jdk.security.auth (Kerberos login), jdk.crypto.ec (TLS), java.xml, java.logging.
modules=java.base,java.desktop,java.logging,java.management,java.naming,java.security.jgss,java.security.sasl,java.sql,java.xml,jdk.crypto.ec,jdk.jfr,jdk.security.auth,jdk.unsupported,jdk.unsupported.desktop
common=(--name tabletop --app-version "$app_version" --vendor "Tabletop"
        --description "Take tablet servers out of a distributed database (Kudu, Couchbase, OpenMLDB) without losing data"
        --icon "$root/icons/tabletop-256.png")

rm -rf "$dist"
mkdir -p "$dist/input"
cp "$root/target/tabletop.jar" "$root/src/dist/linux/make-cds-archive.sh" "$dist/input/"
"$jpackage" --type app-image "${common[@]}" --input "$dist/input" --main-jar tabletop.jar --main-class io.tabletop.Main \
  --add-modules "$modules" --jlink-options "--strip-debug --no-man-pages --no-header-files --compress=2 --generate-cds-archive" --dest "$dist"
# Class data sharing for a faster start: jlink makes the runtime's base archive; the classes the console loads
# up to its first window, and a command line's, go into an archive made at install time (postinst runs
# make-cds-archive.sh), since Java 17 ties it to the jar's installed path. The launcher is a shell script
# (src/dist/linux/tabletop-launcher.sh): jpackage's native one spends 0.4-0.5 s asking rpm and dpkg which
# package owns it before every start. It uses the archive when it is there and says nothing when not.
cp "$root/src/dist/linux/tabletop-launcher.sh" "$dist/tabletop/bin/tabletop"
chmod 755 "$dist/tabletop/bin/tabletop"
echo "app image: $dist/tabletop ($(du -sh "$dist/tabletop" | cut -f1))"

if command -v dpkg-deb >/dev/null && command -v fakeroot >/dev/null; then
  "$jpackage" --type deb "${common[@]}" --app-image "$dist/tabletop" --resource-dir "$root/src/dist/linux" \
    --linux-shortcut --linux-menu-group "Development;Database" --linux-app-category database \
    --linux-deb-maintainer "tabletop@example.org" --linux-package-deps "libgtk-3-0, libxtst6, libgl1" --dest "$dist"
  ls -1 "$dist"/*.deb
else
  echo "no .deb: dpkg-deb and fakeroot are needed (apt-get install dpkg-dev fakeroot)"
fi
if command -v rpmbuild >/dev/null; then
  "$jpackage" --type rpm "${common[@]}" --app-image "$dist/tabletop" --linux-shortcut --linux-menu-group "Development;Database" \
    --linux-app-category database --dest "$dist"
  ls -1 "$dist"/*.rpm
else
  echo "no .rpm: rpmbuild is not installed here"
fi
