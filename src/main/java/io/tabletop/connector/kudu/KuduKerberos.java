package io.tabletop.connector.kudu;

import javax.security.auth.Subject;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.ietf.jgss.GSSContext;
import org.ietf.jgss.GSSException;
import org.ietf.jgss.GSSManager;
import org.ietf.jgss.GSSName;
import org.ietf.jgss.Oid;

/**
 * The operator's Kerberos ticket, as the {@code kudu} CLI finds it: {@code KRB5_CONFIG} and
 * {@code KRB5CCNAME} (or the system's defaults). The CLI processes inherit them; the masters' web UIs
 * get a SPNEGO token made from the same ticket cache with the JDK's own GSS-API (no library needed).
 * Tabletop never holds a password or a keytab: with no ticket, it says "run kinit".
 */
public final class KuduKerberos {
    private static final Oid SPNEGO = oid("1.3.6.1.5.5.2");

    /** Null: the JDK's and MIT's defaults (/etc/krb5.conf, FILE:/tmp/krb5cc_UID). */
    private final Path krb5Conf;
    private final String ccache;

    private KuduKerberos(Path krb5Conf, String ccache) {
        this.krb5Conf = krb5Conf;
        this.ccache = ccache == null || ccache.isBlank() ? null : ccache;
    }

    /** As the operator's shell has it. */
    public static KuduKerberos fromEnvironment() {
        String conf = System.getenv("KRB5_CONFIG");
        return new KuduKerberos(conf == null || conf.isBlank() ? null : Path.of(conf.split(":")[0]), System.getenv("KRB5CCNAME"));
    }

    /** A given config and ticket cache ("FILE:/path"), for a process that runs with another environment. */
    public static KuduKerberos of(Path krb5Conf, String ccache) {
        return new KuduKerberos(krb5Conf, ccache);
    }

    /** Puts the config and cache into a child process's environment, where they were given explicitly. */
    void applyTo(Map<String, String> env) {
        if (krb5Conf != null) {
            env.put("KRB5_CONFIG", krb5Conf.toString());
        }
        if (ccache != null) {
            env.put("KRB5CCNAME", ccache);
        }
    }

    /** The ticket cache in words, for messages. */
    String describeCache() {
        return ccache != null ? ccache : "the default ticket cache";
    }

    /**
     * "Negotiate TOKEN" for the web UI at {@code host}, from the ticket cache. An IOException with one line
     * when there is no usable ticket ("run kinit").
     */
    String negotiate(String host) throws IOException {
        Subject subject = login("the web UI at " + host);
        try {
            byte[] token = Subject.doAs(subject, (PrivilegedExceptionAction<byte[]>) () -> {
                GSSManager m = GSSManager.getInstance();
                GSSName server = m.createName("HTTP@" + host, GSSName.NT_HOSTBASED_SERVICE);
                GSSContext ctx = m.createContext(server, SPNEGO, null, GSSContext.DEFAULT_LIFETIME);
                try {
                    ctx.requestMutualAuth(false);
                    ctx.requestCredDeleg(false);
                    return ctx.initSecContext(new byte[0], 0, 0);
                } finally {
                    ctx.dispose();
                }
            });
            return "Negotiate " + Base64.getEncoder().encodeToString(token);
        } catch (PrivilegedActionException e) {
            Throwable c = e.getCause();
            String why = c instanceof GSSException g ? g.getMajorString() + (g.getMinorString() == null ? "" : ": " + g.getMinorString())
                    : String.valueOf(c);
            throw new IOException("no Kerberos service ticket for HTTP/" + host + " (" + why + "); is the ticket in "
                    + describeCache() + " expired? run kinit", c);
        }
    }

    /** Whether a config or a ticket cache was given (else the JDK's and MIT's defaults apply). */
    boolean configured() {
        return krb5Conf != null || ccache != null;
    }

    /**
     * A JAAS login from the ticket cache (never a password or a keytab), for the web UIs' SPNEGO and the
     * Kudu client's SASL. An IOException with one line when there is no usable ticket ("run kinit").
     */
    Subject login(String forWhat) throws IOException {
        Optional<String> file = cacheFile();
        if (ccache != null && file.isEmpty()) {
            throw new IOException("the ticket cache " + ccache + " is not a FILE: cache, which is what Java reads; run: "
                    + "export KRB5CCNAME=FILE:/tmp/krb5cc_$(id -u); kinit");
        }
        if (krb5Conf != null) {
            System.setProperty("java.security.krb5.conf", krb5Conf.toString());
        }
        Map<String, String> options = new HashMap<>();
        options.put("useTicketCache", "true");
        options.put("doNotPrompt", "true");
        options.put("refreshKrb5Config", "true");
        file.ifPresent(f -> options.put("ticketCache", f));
        Configuration conf = new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                return new AppConfigurationEntry[]{new AppConfigurationEntry("com.sun.security.auth.module.Krb5LoginModule",
                        AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, options)};
            }
        };
        try {
            LoginContext lc = new LoginContext("tabletop-kudu", null, null, conf);
            lc.login();
            return lc.getSubject();
        } catch (LoginException e) {
            throw new IOException("no Kerberos ticket in " + describeCache() + " for " + forWhat + ": run kinit", e);
        }
    }

    /** The path of a FILE: cache (a bare path counts as one); empty for other kinds or the default. */
    private Optional<String> cacheFile() {
        if (ccache == null) {
            return Optional.empty();
        }
        if (ccache.startsWith("FILE:")) {
            return Optional.of(ccache.substring(5));
        }
        return ccache.contains(":") ? Optional.empty() : Optional.of(ccache);
    }

    private static Oid oid(String s) {
        try {
            return new Oid(s);
        } catch (GSSException e) {
            throw new IllegalStateException(e);
        }
    }
}
