package org.apache.kudu.client;

import com.stumbleupon.async.Deferred;
import org.apache.kudu.shaded.com.google.protobuf.Message;
import org.apache.kudu.util.Pair;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Tabletop's one door into the Kudu Java client's RPC layer: a call of a named service method on one
 * named server, the way Kudu's own tools call a tablet leader's {@code ConsensusService}
 * ({@code tools/tool_replica_util.cc}: GetConsensusState, BulkChangeConfig, LeaderStepDown).
 *
 * <p>The client's public API has no consensus calls, and its RPC classes are package-private; this class
 * lives in the client's package for that reason alone. It adds nothing but the call: connection, SASL
 * (Kerberos or plain), TLS, framing and timeouts are the client's own. Only {@code connector.kudu} uses it.
 */
public final class TabletopServerRpc<R extends Message> extends KuduRpc<R> {
    private final String service;
    private final String method;
    private final Message request;
    private final Message.Builder response;

    private TabletopServerRpc(AsyncKuduClient client, String service, String method, Message request, Message.Builder response,
                              long timeoutMillis) {
        super(null, client.getTimer(), timeoutMillis);
        this.service = service;
        this.method = method;
        this.request = request;
        this.response = response;
    }

    /**
     * Sends {@code request} to {@code service.method} on the server {@code uuid} at {@code host:port} and
     * returns its response (its own {@code error} field, if any, is for the caller to read). Throws what
     * the client throws: a {@link KuduException} for a refused call or a lost connection, and
     * {@link java.util.concurrent.TimeoutException} when no answer came within {@code timeoutMillis}.
     */
    @SuppressWarnings("unchecked")
    public static <R extends Message> R call(AsyncKuduClient client, String uuid, String host, int port, String service, String method,
                                             Message request, Message.Builder response, long timeoutMillis) throws Exception {
        InetAddress addr;
        try {
            addr = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new UnknownHostException("cannot resolve " + host);
        }
        TabletopServerRpc<R> rpc = new TabletopServerRpc<>(client, service, method, request, response, timeoutMillis);
        Deferred<R> answer = rpc.getDeferred();
        client.newRpcProxy(new ServerInfo(uuid, new HostAndPort(host, port), addr, "")).sendRpc(rpc);
        return answer.join(timeoutMillis);
    }

    @Override
    Message createRequestPB() {
        return request;
    }

    @Override
    String serviceName() {
        return service;
    }

    @Override
    String method() {
        return method;
    }

    @Override
    @SuppressWarnings("unchecked")
    Pair<R, Object> deserialize(CallResponse callResponse, String tsUuid) {
        Message.Builder b = response.clone();
        readProtobuf(callResponse.getPBMessage(), b);
        return new Pair<>((R) b.build(), null);
    }
}
