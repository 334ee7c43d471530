package io.tabletop.connector.kudu;

import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.Engine;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.logging.Logger;

/**
 * Where the {@code kudu} CLI (and, for local clusters, {@code kudu-master} and {@code kudu-tserver})
 * come from, and the environment they need (their own shared libraries and SASL plugins).
 *
 * <p>Found, in this order: the directory in {@code -Dtabletop.kudu.home} or {@code $KUDU_HOME}; the
 * {@code org.apache.kudu:kudu-binary} jar on the classpath (the tests have it) or in the local Maven
 * repository, unpacked once under {@code <tabletop home>/kudu/}; a {@code kudu} on the PATH (CLI only).
 */
public final class KuduBinary {
    public static final String VERSION = "1.17.1";
    private static final Logger LOG = Logger.getLogger(KuduBinary.class.getName());
    private static final String MARKER = "META-INF/apache-kudu-test-binary.properties";

    private final Path home;
    private final Path cli;
    private final KuduKerberos kerberos;

    private KuduBinary(Path home, Path cli) {
        this(home, cli, KuduKerberos.fromEnvironment());
    }

    private KuduBinary(Path home, Path cli, KuduKerberos kerberos) {
        this.home = home;
        this.cli = cli;
        this.kerberos = kerberos;
    }

    /** The same binary, its processes and web requests using this Kerberos config and ticket cache. */
    public KuduBinary withKerberos(KuduKerberos k) {
        return new KuduBinary(home, cli, k);
    }

    public KuduKerberos kerberos() {
        return kerberos;
    }

    /** The unpacked kudu-binary directory (bin/, lib/, www/), or null when only a PATH kudu was found. */
    public Path home() {
        return home;
    }

    public Path cli() {
        return cli;
    }

    public Path master() {
        return home == null ? null : home.resolve("bin/kudu-master");
    }

    public Path tserver() {
        return home == null ? null : home.resolve("bin/kudu-tserver");
    }

    public Path webRoot() {
        return home == null ? null : home.resolve("www");
    }

    /** Environment for every kudu process: its own libraries and SASL plugins. */
    public void applyEnvironment(Map<String, String> env) {
        if (home != null) {
            env.put("LD_LIBRARY_PATH", home.resolve("lib").toString());
            env.put("SASL_PATH", home.resolve("lib/sasl2").toString());
        }
        kerberos.applyTo(env);
    }

    /** A binary at a known path (for tests of the missing-binary case, or a site's own install). */
    public static KuduBinary at(Path cli) {
        Path parent = cli.getParent() == null ? null : cli.getParent().getParent();
        boolean bundled = parent != null && Files.isDirectory(parent.resolve("lib/sasl2"));
        return new KuduBinary(bundled ? parent : null, cli);
    }

    /** Finds (and if needed unpacks) the binaries; a clear error when there are none. */
    public static KuduBinary locate(Path unpackRoot) throws ConnectorException {
        String configured = System.getProperty("tabletop.kudu.home", System.getenv("KUDU_HOME"));
        if (configured != null && !configured.isBlank()) {
            Path h = Path.of(configured);
            if (Files.isExecutable(h.resolve("bin/kudu"))) {
                return new KuduBinary(h, h.resolve("bin/kudu"));
            }
            throw new ConnectorException(Engine.KUDU, "find the kudu binary", "no executable bin/kudu under " + h
                    + " (from tabletop.kudu.home or KUDU_HOME)");
        }
        try {
            Path jar = bundledJar();
            if (jar != null) {
                Path h = unpack(jar, unpackRoot);
                return new KuduBinary(h, h.resolve("bin/kudu"));
            }
        } catch (IOException e) {
            throw new ConnectorException(Engine.KUDU, "unpack kudu-binary", e.toString(), false, e);
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, "kudu");
            if (!dir.isBlank() && Files.isExecutable(p)) {
                return at(p);
            }
        }
        throw new ConnectorException(Engine.KUDU, "find the kudu binary",
                "no kudu CLI found: not in -Dtabletop.kudu.home or KUDU_HOME, no org.apache.kudu:kudu-binary:" + VERSION
                        + ":linux-x86_64 in the local Maven repository (mvn dependency:get -Dartifact=org.apache.kudu:kudu-binary:"
                        + VERSION + ":jar:linux-x86_64), and none on the PATH");
    }

    /** Whether this platform can run the bundled binaries (Linux x86_64). */
    public static boolean platformSupported() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        return os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    private static Path bundledJar() throws IOException {
        Enumeration<URL> urls = KuduBinary.class.getClassLoader().getResources(MARKER);
        while (urls.hasMoreElements()) {
            URL u = urls.nextElement();
            if (u.getProtocol().equals("jar")) {
                JarURLConnection c = (JarURLConnection) u.openConnection();
                c.setUseCaches(false);
                return Path.of(c.getJarFileURL().getPath());
            }
        }
        String repo = System.getProperty("maven.repo.local",
                Path.of(System.getProperty("user.home"), ".m2", "repository").toString());
        Path jar = Path.of(repo, "org", "apache", "kudu", "kudu-binary", VERSION, "kudu-binary-" + VERSION + "-linux-x86_64.jar");
        if (!Files.isRegularFile(jar) && platformSupported()) {
            fetchWithMaven(repo);
        }
        return Files.isRegularFile(jar) ? jar : null;
    }

    /** Resolves the artifact through Maven when mvn is on the PATH (32 MB, once). */
    private static void fetchWithMaven(String repo) {
        String mvn = null;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isBlank() && Files.isExecutable(Path.of(dir, "mvn"))) {
                mvn = Path.of(dir, "mvn").toString();
                break;
            }
        }
        if (mvn == null) {
            return;
        }
        LOG.info("fetching org.apache.kudu:kudu-binary:" + VERSION + ":linux-x86_64 with Maven");
        try {
            Process p = new ProcessBuilder(mvn, "-q", "-B", "dependency:get",
                    "-Dartifact=org.apache.kudu:kudu-binary:" + VERSION + ":jar:linux-x86_64", "-Dtransitive=false",
                    "-Dmaven.repo.local=" + repo)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            LOG.warning("mvn dependency:get failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Unpacks once; a marker file written last says the unpacking finished. */
    private static synchronized Path unpack(Path jar, Path root) throws IOException {
        Path dir = root.resolve("kudu-binary-" + VERSION + "-linux-x86_64");
        Path done = root.resolve(".unpacked-" + VERSION);
        if (Files.exists(done) && Files.isExecutable(dir.resolve("bin/kudu"))) {
            return dir;
        }
        LOG.info("unpacking " + jar + " into " + root);
        for (Path p : java.util.List.of(root.toAbsolutePath().getParent(), root.toAbsolutePath())) {
            if (p != null && !Files.exists(p)) {
                Files.createDirectories(p);
                try {
                    Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX file system: its defaults apply
                }
            }
        }
        try (JarFile jf = new JarFile(jar.toFile())) {
            Enumeration<JarEntry> entries = jf.entries();
            while (entries.hasMoreElements()) {
                JarEntry e = entries.nextElement();
                if (!e.getName().startsWith("kudu-binary-")) {
                    continue;
                }
                Path target = root.resolve(e.getName()).normalize();
                if (!target.startsWith(root)) {
                    throw new IOException("unsafe entry " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                    continue;
                }
                Files.createDirectories(target.getParent());
                try (InputStream in = jf.getInputStream(e)) {
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
                if (e.getName().contains("/bin/")) {
                    target.toFile().setExecutable(true, false);
                }
            }
        }
        Files.writeString(done, jar.toString());
        return dir;
    }
}
