package io.tabletop.connector;

import io.tabletop.domain.Engine;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;

/** TLS for the engines' HTTP endpoints: trust the certificates of a CA file the operator gives (PEM or DER). */
public final class TlsTrust {
    private TlsTrust() {
    }

    /** A socket factory and its trust manager, for an HTTP client (OkHttp's {@code sslSocketFactory(f, tm)}). */
    public record Trust(SSLSocketFactory factory, X509TrustManager manager) {
    }

    /** Trusting only the certificates in {@code caFile}; host names are still checked by the client. */
    public static Trust of(Engine engine, Path caFile) throws ConnectorException {
        X509TrustManager tm = trustManager(engine, caFile);
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new X509TrustManager[]{tm}, null);
            return new Trust(ctx.getSocketFactory(), tm);
        } catch (GeneralSecurityException e) {
            throw new ConnectorException(engine, "TLS", "cannot set up TLS: " + e.getMessage(), false, e);
        }
    }

    /** Trusts the certificates in a PEM or DER file; a file with none, or not a certificate file, is one line. */
    static X509TrustManager trustManager(Engine engine, Path caFile) throws ConnectorException {
        try (InputStream in = Files.newInputStream(caFile)) {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int n = 0;
            for (Certificate c : cf.generateCertificates(in)) {
                ks.setCertificateEntry("ca-" + n++, c);
            }
            if (n == 0) {
                throw new ConnectorException(engine, "TLS", caFile + " holds no certificate", false, null);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            return (X509TrustManager) tmf.getTrustManagers()[0];
        } catch (IOException e) {
            throw new ConnectorException(engine, "TLS", "cannot read the CA file " + caFile + ": " + e.getMessage(), false, e);
        } catch (GeneralSecurityException e) {
            throw new ConnectorException(engine, "TLS", caFile + " is not a certificate file (PEM or DER): " + e.getMessage(), false, e);
        }
    }
}
