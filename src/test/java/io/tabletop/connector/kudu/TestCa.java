package io.tabletop.connector.kudu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A test CA and a certificate for 127.0.0.1 signed by it, made with openssl in a directory of the test's. */
record TestCa(Path dir, Path ca, Path cert, Path key) {
    /** A CA named {@code name} and a server certificate for IP 127.0.0.1 signed by it. */
    static TestCa make(Path dir, String name) throws Exception {
        Path ca = selfSigned(dir, name);
        Path key = dir.resolve(name + "-server.key");
        Path cert = dir.resolve(name + "-server.pem");
        Path csr = dir.resolve(name + "-server.csr");
        openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out", csr.toString(), "-subj", "/CN=127.0.0.1");
        Files.writeString(dir.resolve("ext"), "subjectAltName=IP:127.0.0.1\n");
        openssl(dir, "x509", "-req", "-in", csr.toString(), "-CA", ca.toString(), "-CAkey", dir.resolve(name + ".key").toString(),
                "-CAcreateserial", "-out", cert.toString(), "-days", "2", "-extfile", dir.resolve("ext").toString());
        return new TestCa(dir, ca, cert, key);
    }

    /** A self-signed CA certificate (PEM), its key beside it. */
    static Path selfSigned(Path dir, String name) throws Exception {
        Path pem = dir.resolve(name + ".pem");
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.resolve(name + ".key").toString(), "-out", pem.toString(),
                "-days", "2", "-subj", "/CN=Tabletop test " + name);
        return pem;
    }

    /** Kudu's flags for a TLS web UI with this certificate. */
    List<String> webFlags() {
        return List.of("--webserver_certificate_file=" + cert, "--webserver_private_key_file=" + key);
    }

    private static void openssl(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process proc = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(proc.getInputStream().readAllBytes());
        if (!proc.waitFor(60, TimeUnit.SECONDS) || proc.exitValue() != 0) {
            proc.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + ": " + out);
        }
    }
}
