package dev.blockpull.api.export;

import dev.blockpull.api.Paging;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.nbd.ExportRegistry;
import dev.blockpull.nbd.NbdExport;
import dev.blockpull.ops.BlockpullProperties;
import dev.blockpull.ops.state.StateRecorder;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import javax.security.auth.x500.X500Principal;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Service;

/** The use-cases behind {@code /exports}: the registry does the work, this maps to views. */
@Service
class ExportCatalog {

    private final ExportRegistry registry;
    private final Duration maxDrainWait;
    private final boolean clientCertificatesVerified;
    private final StateRecorder recorder;

    ExportCatalog(ExportRegistry registry, BlockpullProperties properties, StateRecorder recorder) {
        this.registry = registry;
        this.maxDrainWait = properties.graph().maxDrainWait();
        this.clientCertificatesVerified = properties.nbd().tls().ca() != null;
        this.recorder = recorder;
    }

    ExportView create(CreateExportRequest r) {
        List<String> subjects = Objects.requireNonNullElse(r.allowedClientSubjects(), List.of());
        if (!subjects.isEmpty() && !clientCertificatesVerified) {
            // no client could ever open it: say so now rather than at every refused connection
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "allowedClientSubjects needs verified client"
                            + " certificates: configure NBD over TLS with blockpull.nbd.tls.ca");
        }
        ExportView created = view(registry.add(r.id(), r.nodeName(), Boolean.TRUE.equals(r.writable()), subjects));
        recorder.exportAdded(created.id(), created.nodeName(), created.writable(), created.allowedClientSubjects());
        return created;
    }

    Paging.Page<ExportView> list(int pageSize, @Nullable String pageToken) {
        Paging.Page<NbdExport> page = Paging.page(registry.list(), NbdExport::id, pageSize, pageToken);
        return new Paging.Page<>(page.items().stream().map(ExportCatalog::view).toList(), page.nextPageToken());
    }

    ExportView get(String id) {
        return view(registry.get(id));
    }

    void delete(String id) {
        registry.remove(id, maxDrainWait);
        recorder.exportRemoved(id);
    }

    private static ExportView view(NbdExport e) {
        return new ExportView(
                e.id(),
                e.nodeName(),
                e.writable(),
                e.size(),
                e.clientCount(),
                e.inFlightRequests(),
                e.allowedClientSubjects().stream().map(X500Principal::getName).toList());
    }
}
