package dev.blockpull.api.export;

import dev.blockpull.api.Paging;
import dev.blockpull.nbd.ExportRegistry;
import dev.blockpull.nbd.NbdExport;
import dev.blockpull.ops.BlockpullProperties;
import dev.blockpull.ops.state.StateRecorder;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Service;

import java.time.Duration;

/** The use-cases behind {@code /exports}: the registry does the work, this maps to views. */
@Service
class ExportCatalog {

    private final ExportRegistry registry;
    private final Duration maxDrainWait;
    private final StateRecorder recorder;

    ExportCatalog(ExportRegistry registry, BlockpullProperties properties, StateRecorder recorder) {
        this.registry = registry;
        this.maxDrainWait = properties.graph().drainTimeout().multipliedBy(2);
        this.recorder = recorder;
    }

    ExportView create(CreateExportRequest r) {
        ExportView created = view(registry.add(r.id(), r.nodeName(), Boolean.TRUE.equals(r.writable())));
        recorder.exportAdded(created.id(), created.nodeName(), created.writable());
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
        return new ExportView(e.id(), e.nodeName(), e.writable(), e.size(), e.clientCount(), e.inFlightRequests());
    }
}
