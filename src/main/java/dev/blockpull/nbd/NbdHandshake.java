package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fixed-newstyle handshake and option haggling of one client, up to the transmission phase
 * (NBD_OPT_GO or NBD_OPT_EXPORT_NAME). Options this server does not know are answered with
 * NBD_REP_ERR_UNSUP; a client that breaks the framing is disconnected. With TLS credentials the
 * client must start TLS first (NBD_OPT_STARTTLS), and an export with an allow-list of client
 * certificate subjects is neither listed nor opened for a client outside it.
 */
final class NbdHandshake {

    private static final Logger log = LoggerFactory.getLogger(NbdHandshake.class);

    /** What the client negotiated, and the channel to go on with (TLS after NBD_OPT_STARTTLS). */
    record Negotiated(
            NbdExport export,
            NbdChannel channel,
            boolean structuredReplies,
            boolean baseAllocation,
            boolean allocationDepth) {}

    private final SocketChannel socket;
    private NbdChannel ch;
    private final @Nullable TlsCredentials tls;
    private final ExportRegistry registry;
    private final NbdConnection connection;
    private final int maxRequestSize;
    private boolean structured;
    private boolean noZeroes;
    private final Set<String> metaContexts = new LinkedHashSet<>();
    private @Nullable String metaContextExport;

    /** @param tls the server's credentials; with them, every option but NBD_OPT_STARTTLS needs TLS first */
    NbdHandshake(
            SocketChannel socket,
            @Nullable TlsCredentials tls,
            ExportRegistry registry,
            NbdConnection connection,
            NbdServerSettings settings)
            throws IOException {
        this.socket = socket;
        this.ch = new PlainChannel(socket, new BusyPoll(socket, settings.busyPoll(), connection::quiet));
        this.tls = tls;
        this.registry = registry;
        this.connection = connection;
        this.maxRequestSize = settings.maxRequestSize();
    }

    /** Negotiates; null when the client aborted. */
    @Nullable
    Negotiated run() throws IOException, NbdProtocolException {
        ch.write(greeting());
        ByteBuffer flags = ByteBuffer.allocate(4);
        Wire.readFully(ch, flags);
        int clientFlags = flags.getInt(0);
        if ((clientFlags & ~(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES)) != 0) {
            throw new NbdProtocolException("unknown client flags 0x" + Integer.toHexString(clientFlags));
        }
        noZeroes = (clientFlags & CLIENT_FLAG_NO_ZEROES) != 0;
        ByteBuffer header = ByteBuffer.allocate(16);
        while (true) {
            header.clear();
            Wire.readFully(ch, header);
            header.flip();
            long magic = header.getLong();
            int option = header.getInt();
            long length = Integer.toUnsignedLong(header.getInt());
            if (magic != IHAVEOPT) {
                throw new NbdProtocolException("bad option magic 0x" + Long.toHexString(magic));
            }
            if (length > MAX_OPTION_LENGTH) {
                throw new NbdProtocolException("option " + option + " with " + length + " bytes of data");
            }
            ByteBuffer data = ByteBuffer.allocate((int) length);
            Wire.readFully(ch, data);
            data.flip();
            if (tls != null && ch instanceof PlainChannel) {
                if (!beforeTls(option, data)) {
                    return null;
                }
                continue;
            }
            switch (option) {
                case OPT_EXPORT_NAME -> {
                    return exportName(data);
                }
                case OPT_ABORT -> {
                    reply(option, REP_ACK, null);
                    return null;
                }
                case OPT_LIST -> list(option, data);
                case OPT_STARTTLS ->
                    error(
                            option,
                            tls == null ? REP_ERR_POLICY : REP_ERR_INVALID,
                            tls == null ? "TLS is not configured on this server" : "TLS is already on");
                case OPT_INFO, OPT_GO -> {
                    Negotiated n = infoOrGo(option, data);
                    if (n != null) {
                        return n;
                    }
                }
                case OPT_STRUCTURED_REPLY -> {
                    if (data.hasRemaining()) {
                        error(option, REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                    } else {
                        structured = true;
                        reply(option, REP_ACK, null);
                    }
                }
                case OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT -> metaContext(option, data);
                default -> error(option, REP_ERR_UNSUP, "option " + option + " is not supported");
            }
        }
    }

    // ------------------------------------------------------------------ TLS

    /**
     * An option while TLS is configured but not started, answered as qemu-nbd does: STARTTLS
     * starts it, EXPORT_NAME (which has no error reply) hangs up, anything else gets
     * NBD_REP_ERR_TLS_REQD and the client may go on. False when the client aborted.
     */
    private boolean beforeTls(int option, ByteBuffer data) throws IOException, NbdProtocolException {
        switch (option) {
            case OPT_STARTTLS -> {
                if (data.hasRemaining()) {
                    error(option, REP_ERR_INVALID, "NBD_OPT_STARTTLS takes no data");
                    throw new NbdProtocolException("NBD_OPT_STARTTLS with data");
                }
                reply(option, REP_ACK, null);
                TlsCredentials credentials = Objects.requireNonNull(tls);
                ch = TlsChannel.accept(socket, credentials.context(), credentials.verifiesClients());
                log.debug("Client {} started TLS (client certificate: {})", connection, ch.peer());
                return true;
            }
            case OPT_EXPORT_NAME -> throw new NbdProtocolException("NBD_OPT_EXPORT_NAME before TLS");
            default -> {
                error(
                        option,
                        REP_ERR_TLS_REQD,
                        "Option 0x" + Integer.toHexString(option) + " not permitted before TLS");
                return option != OPT_ABORT;
            }
        }
    }

    // ------------------------------------------------------------------ options

    private @Nullable Negotiated exportName(ByteBuffer data) throws IOException, NbdProtocolException {
        String name = NbdStrings.read(data, data.remaining());
        NbdExport export = name == null ? null : registry.lookup(name);
        if (export == null || !export.admits(ch.peer()) || !export.addClient(connection)) {
            // NBD_OPT_EXPORT_NAME has no error reply: the only answer is to hang up
            throw new NbdProtocolException("unknown export '" + name + "' asked with NBD_OPT_EXPORT_NAME");
        }
        try {
            ch.write(new ExportInfo(export, structured).exportNameReply(noZeroes));
        } catch (IOException e) {
            export.removeClient(connection);
            throw e;
        }
        return negotiated(export, name);
    }

    private void list(int option, ByteBuffer data) throws IOException {
        if (data.hasRemaining()) {
            error(option, REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
            return;
        }
        for (NbdExport e : registry.list()) {
            if (!e.admits(ch.peer())) {
                continue; // what a client may not open, it does not see
            }
            reply(option, REP_SERVER, new ExportInfo(e, structured).listEntry());
        }
        reply(option, REP_ACK, null);
    }

    private @Nullable Negotiated infoOrGo(int option, ByteBuffer data) throws IOException {
        if (data.remaining() < 6) {
            error(option, REP_ERR_INVALID, "option data too short");
            return null;
        }
        int nameLength = data.getInt();
        if (nameLength < 0 || nameLength > data.remaining() - 2) {
            error(
                    option,
                    REP_ERR_INVALID,
                    "export name length " + Integer.toUnsignedString(nameLength) + " does not fit the option data");
            return null;
        }
        String name = NbdStrings.read(data, nameLength);
        int requests = Short.toUnsignedInt(data.getShort());
        if (data.remaining() != requests * 2 || name == null) {
            error(
                    option,
                    REP_ERR_INVALID,
                    name == null
                            ? "export name is not UTF-8"
                            : "number of information requests does not match the option data");
            return null;
        }
        Set<Integer> wanted = new LinkedHashSet<>();
        for (int i = 0; i < requests; i++) {
            wanted.add(Short.toUnsignedInt(data.getShort()));
        }
        NbdExport export = registry.lookup(name);
        if (export == null || export.isClosing()) {
            error(option, REP_ERR_UNKNOWN, "export '" + name + "' not found; NBD_OPT_LIST shows the exports");
            return null;
        }
        if (!export.admits(ch.peer())) {
            error(option, REP_ERR_POLICY, notAdmitted(export));
            return null;
        }
        ExportInfo info = new ExportInfo(export, structured);
        reply(option, REP_INFO, info.exportInfo());
        if (wanted.contains(INFO_NAME)) {
            reply(option, REP_INFO, info.nameInfo());
        }
        if (wanted.contains(INFO_DESCRIPTION)) {
            reply(option, REP_INFO, info.descriptionInfo());
        }
        reply(option, REP_INFO, ExportInfo.blockSizeInfo(maxRequestSize)); // always sent
        if (option == OPT_INFO) {
            reply(option, REP_ACK, null);
            return null;
        }
        if (!export.addClient(connection)) {
            error(option, REP_ERR_UNKNOWN, "export '" + name + "' is being removed");
            return null;
        }
        try {
            reply(option, REP_ACK, null);
        } catch (IOException e) {
            export.removeClient(connection);
            throw e;
        }
        return negotiated(export, name);
    }

    private void metaContext(int option, ByteBuffer data) throws IOException {
        boolean set = option == OPT_SET_META_CONTEXT;
        if (set && !structured) {
            error(option, REP_ERR_INVALID, "negotiate NBD_OPT_STRUCTURED_REPLY before NBD_OPT_SET_META_CONTEXT");
            return;
        }
        MetaContextRequest request = MetaContextRequest.parse(data);
        if (request == null) {
            error(option, REP_ERR_INVALID, "malformed meta context option data");
            return;
        }
        String name = request.exportName();
        NbdExport export = registry.lookup(name);
        if (export == null) {
            error(option, REP_ERR_UNKNOWN, "export '" + name + "' not found");
            return;
        }
        if (!export.admits(ch.peer())) {
            error(option, REP_ERR_POLICY, notAdmitted(export));
            return;
        }
        Set<String> matched = request.matched(set);
        if (set) {
            metaContexts.clear();
            metaContexts.addAll(matched);
            metaContextExport = name;
        }
        for (String m : matched) {
            reply(option, REP_META_CONTEXT, MetaContextRequest.replyData(m));
        }
        reply(option, REP_ACK, null);
    }

    // ------------------------------------------------------------------ helpers

    private Negotiated negotiated(NbdExport export, String name) {
        boolean sameExport = name.equals(metaContextExport) || export.id().equals(metaContextExport);
        boolean base = structured && sameExport && metaContexts.contains(CONTEXT_BASE_ALLOCATION);
        boolean depth = structured && sameExport && metaContexts.contains(CONTEXT_ALLOCATION_DEPTH);
        log.debug(
                "Client {} negotiated export '{}' (structured replies: {}, contexts: {})",
                connection,
                export.id(),
                structured,
                metaContexts);
        return new Negotiated(export, ch, structured, base, depth);
    }

    private String notAdmitted(NbdExport export) {
        X500Principal peer = ch.peer();
        log.info(
                "NBD client {} ({}) refused export '{}': not in its allowedClientSubjects",
                connection,
                peer == null ? "no client certificate" : peer.getName(),
                export.id());
        return "export '" + export.id() + "' admits only the client certificates in its allowedClientSubjects; "
                + (peer == null ? "this client sent no certificate" : "this client is " + peer.getName());
    }

    private void reply(int option, int type, @Nullable ByteBuffer data) throws IOException {
        ByteBuffer h = optionReplyHeader(option, type, data == null ? 0 : data.remaining());
        if (data == null) {
            ch.write(h);
        } else {
            ch.write(h, data);
        }
    }

    private void error(int option, int type, String message) throws IOException {
        log.debug("Client {}: option {} refused: {}", connection, option, message);
        reply(option, type, ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)));
    }
}
