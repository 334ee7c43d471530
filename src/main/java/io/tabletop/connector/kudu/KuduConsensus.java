package io.tabletop.connector.kudu;

import io.tabletop.connector.ConnectorException;
import io.tabletop.domain.Engine;
import org.apache.kudu.Common.HostPortPB;
import org.apache.kudu.client.AsyncKuduClient;
import org.apache.kudu.client.TabletopServerRpc;
import org.apache.kudu.consensus.Consensus.BulkChangeConfigRequestPB;
import org.apache.kudu.consensus.Consensus.ChangeConfigResponsePB;
import org.apache.kudu.consensus.Consensus.ChangeConfigType;
import org.apache.kudu.consensus.Consensus.GetConsensusStateRequestPB;
import org.apache.kudu.consensus.Consensus.GetConsensusStateResponsePB;
import org.apache.kudu.consensus.Consensus.LeaderStepDownMode;
import org.apache.kudu.consensus.Consensus.LeaderStepDownRequestPB;
import org.apache.kudu.consensus.Consensus.LeaderStepDownResponsePB;
import org.apache.kudu.consensus.Metadata.ConsensusStatePB;
import org.apache.kudu.consensus.Metadata.RaftPeerAttrsPB;
import org.apache.kudu.consensus.Metadata.RaftPeerPB;
import org.apache.kudu.consensus.ReplicaManagement.ReplicaManagementInfoPB;
import org.apache.kudu.shaded.com.google.protobuf.ByteString;
import org.apache.kudu.tserver.Tserver.TabletServerErrorPB;

import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/**
 * A tablet leader's consensus service, called from this process as Kudu's rebalancer calls it
 * ({@code tools/tool_replica_util.cc}: {@code GetConsensusState}, {@code BulkChangeConfig},
 * {@code LeaderStepDown}) instead of one {@code kudu} CLI process per move. One Kudu Java client serves
 * every call of a connector; it negotiates SASL and TLS as the cluster asks.
 */
final class KuduConsensus implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KuduConsensus.class.getName());
    static final String SERVICE = "kudu.consensus.ConsensusService";
    /** Kudu's own default admin operation timeout, which its tools give these calls. */
    static final long CALL_MILLIS = 30_000;

    private final String masters;
    private final KuduKerberos kerberos;
    private AsyncKuduClient client;
    /** Once closed, no client is made again (a background probe may still ask for one). */
    private boolean closed;

    KuduConsensus(String masters, KuduKerberos kerberos) {
        this.masters = masters;
        this.kerberos = kerberos;
    }

    /** A tablet's consensus state as one replica (its leader, normally) has it. */
    record State(String leader, long term, ConsensusStatePB cstate, boolean prepareBeforeEvict) {
        boolean hasPending() {
            return cstate.hasPendingConfig();
        }

        long configIndex() {
            return cstate.getCommittedConfig().getOpidIndex();
        }

        /** The committed config's peer on {@code uuid}, or null. */
        RaftPeerPB peer(String uuid) {
            for (RaftPeerPB p : cstate.getCommittedConfig().getPeersList()) {
                if (p.getPermanentUuid().toStringUtf8().equals(uuid)) {
                    return p;
                }
            }
            return null;
        }
    }

    /** A refusal in the server's words: its error code and status message. */
    static final class Refused extends Exception {
        final TabletServerErrorPB.Code code;

        Refused(TabletServerErrorPB error) {
            super(error.getStatus().getMessage().isEmpty() ? error.getCode().name() : error.getStatus().getMessage());
            this.code = error.getCode();
        }
    }

    private synchronized AsyncKuduClient client() {
        if (closed) {
            throw new IllegalStateException("the connection to the cluster is closed");
        }
        if (client == null) {
            // The masters are never asked: every call goes to a named tserver.
            java.util.function.Supplier<AsyncKuduClient> build = () -> new AsyncKuduClient.AsyncKuduClientBuilder(masters)
                    .defaultAdminOperationTimeoutMs(CALL_MILLIS)
                    .connectionNegotiationTimeoutMs(10_000)
                    .workerCount(2)
                    .disableStatistics()
                    .build();
            javax.security.auth.Subject subject = null;
            if (kerberos != null && kerberos.configured()) {
                try {
                    subject = kerberos.login("Kudu's consensus calls");
                } catch (java.io.IOException e) {
                    LOG.fine(e.getMessage());
                }
            }
            // The client takes its Kerberos credentials from the Subject it is built under (SASL GSSAPI, as the CLI does).
            client = subject == null ? build.get()
                    : javax.security.auth.Subject.doAs(subject, (java.security.PrivilegedAction<AsyncKuduClient>) build::get);
        }
        return client;
    }

    State state(String uuid, String rpcAddress, String tablet) throws ConnectorException, Refused {
        GetConsensusStateRequestPB req = GetConsensusStateRequestPB.newBuilder()
                .setDestUuid(bytes(uuid)).addTabletIds(bytes(tablet)).build();
        GetConsensusStateResponsePB resp = call(uuid, rpcAddress, "GetConsensusState", req, GetConsensusStateResponsePB.newBuilder(),
                "consensus state of " + tablet);
        if (resp.hasError()) {
            throw new Refused(resp.getError());
        }
        if (resp.getTabletsCount() == 0) {
            throw new ConnectorException(Engine.KUDU, "consensus state of " + tablet, uuid + " holds no replica of " + tablet, true, null);
        }
        ConsensusStatePB cs = resp.getTablets(0).getCstate();
        return new State(cs.getLeaderUuid(), cs.getCurrentTerm(), cs,
                resp.getReplicaManagementInfo().getReplacementScheme() == ReplicaManagementInfoPB.ReplacementScheme.PREPARE_REPLACEMENT_BEFORE_EVICTION);
    }

    /**
     * What {@code kudu tablet change_config move_replica} asks of the leader (its {@code ScheduleReplicaMove}):
     * in one config change, mark the source REPLACE and add the destination as a non-voter to be promoted;
     * the leader promotes it once caught up and the leader master then evicts the source.
     */
    void scheduleMove(String leader, String leaderAddress, String tablet, String from, String to, String toAddress, long casIndex)
            throws ConnectorException, Refused {
        HostPort hp = HostPort.of(toAddress);
        BulkChangeConfigRequestPB req = BulkChangeConfigRequestPB.newBuilder()
                .setDestUuid(bytes(leader))
                .setTabletId(bytes(tablet))
                .addConfigChanges(BulkChangeConfigRequestPB.ConfigChangeItemPB.newBuilder()
                        .setType(ChangeConfigType.MODIFY_PEER)
                        .setPeer(RaftPeerPB.newBuilder().setPermanentUuid(bytes(from)).setAttrs(RaftPeerAttrsPB.newBuilder().setReplace(true))))
                .addConfigChanges(BulkChangeConfigRequestPB.ConfigChangeItemPB.newBuilder()
                        .setType(ChangeConfigType.ADD_PEER)
                        .setPeer(RaftPeerPB.newBuilder().setPermanentUuid(bytes(to))
                                .setMemberType(RaftPeerPB.MemberType.NON_VOTER)
                                .setAttrs(RaftPeerAttrsPB.newBuilder().setPromote(true))
                                .setLastKnownAddr(HostPortPB.newBuilder().setHost(hp.host()).setPort(hp.port()))))
                .setCasConfigOpidIndex(casIndex)
                .build();
        ChangeConfigResponsePB resp = call(leader, leaderAddress, "BulkChangeConfig", req, ChangeConfigResponsePB.newBuilder(),
                "move replica " + tablet + " " + from + " → " + to);
        if (resp.hasError()) {
            throw new Refused(resp.getError());
        }
    }

    /** A graceful leader step-down, to {@code newLeader} when given. */
    void stepDown(String leader, String leaderAddress, String tablet, String newLeader) throws ConnectorException, Refused {
        LeaderStepDownRequestPB.Builder req = LeaderStepDownRequestPB.newBuilder()
                .setDestUuid(bytes(leader)).setTabletId(bytes(tablet)).setMode(LeaderStepDownMode.GRACEFUL);
        if (newLeader != null) {
            req.setNewLeaderUuid(bytes(newLeader));
        }
        LeaderStepDownResponsePB resp = call(leader, leaderAddress, "LeaderStepDown", req.build(), LeaderStepDownResponsePB.newBuilder(),
                "leader step-down of " + tablet);
        if (resp.hasError()) {
            throw new Refused(resp.getError());
        }
    }

    @SuppressWarnings("unchecked")
    private <R extends org.apache.kudu.shaded.com.google.protobuf.Message> R call(String uuid, String rpcAddress, String method,
            org.apache.kudu.shaded.com.google.protobuf.Message req, org.apache.kudu.shaded.com.google.protobuf.Message.Builder resp,
            String what) throws ConnectorException {
        HostPort hp = HostPort.of(rpcAddress);
        try {
            return TabletopServerRpc.call(client(), uuid, hp.host(), hp.port(), SERVICE, method, req, resp, CALL_MILLIS);
        } catch (TimeoutException e) {
            throw new ConnectorException(Engine.KUDU, what, uuid + " at " + rpcAddress + " did not answer " + method + " within "
                    + CALL_MILLIS / 1000 + " s", true, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectorException(Engine.KUDU, what, "interrupted", true, null);
        } catch (Exception e) {
            LOG.fine(what + ": " + e);
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new ConnectorException(Engine.KUDU, what, method + " to " + rpcAddress + ": " + msg, true, null);
        }
    }

    private static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }

    /** host:port as the master lists a tserver's RPC address (an IPv6 host in brackets). */
    record HostPort(String host, int port) {
        static HostPort of(String address) throws ConnectorException {
            int colon = address.lastIndexOf(':');
            try {
                String host = address.substring(0, colon);
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                return new HostPort(host, Integer.parseInt(address.substring(colon + 1)));
            } catch (RuntimeException e) {
                throw new ConnectorException(Engine.KUDU, "tserver address", "not host:port: " + address, false, null);
            }
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (client != null) {
            try {
                client.close();
            } catch (Exception e) {
                LOG.fine("closing the Kudu client: " + e);
            }
            client = null;
        }
    }
}
