package dev.blockpull.ops.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Helm chart of conventions.md §10, linted and rendered by Helm's own engine (helm-java bundles
 * Helm's Go SDK) for the default values and the deployments that matter, then read back as
 * Kubernetes objects (fabric8 models) so that the assertions are about fields, not text.
 */
class HelmChartTests {

    static final Path CHART = Path.of("helm", "blockpull");
    static final String RELEASE = "bp";
    static final String FULLNAME = "bp-blockpull";
    static final List<String> METRICS = List.of(
            "blockpull_job_progress_ratio",
            "blockpull_job_throughput_bytes_per_second",
            "blockpull_stream_copied_bytes_total",
            "blockpull_jobs",
            "blockpull_node_inflight_requests",
            "blockpull_drain_in_progress");

    private static final KubernetesSerialization K8S = new KubernetesSerialization();
    private static final JsonMapper JSON = JsonMapper.builder().build();

    // ---- lint -----------------------------------------------------------------------------------

    @Test
    void chartLintsCleanWithDefaultValues() {
        LintResult lint = new Helm(CHART).lint().strict().call();

        assertThat(lint.isFailed())
                .as("helm lint --strict: %s", lint.getMessages())
                .isFalse();
    }

    @Test
    void chartLintsCleanWithNonDefaultValues(@TempDir Path dir) throws IOException {
        // helm lint takes no values of its own: lint a copy whose values.yaml has the overrides.
        Path copy = copyChart(dir);
        Map<String, Object> values = loadYaml(copy.resolve("values.yaml"));
        put(values, "security.token.enabled", true);
        put(values, "security.token.existingSecret", "blockpull-api");
        put(values, "security.protectMetrics", true);
        put(values, "metrics.serviceMonitor.enabled", true);
        put(values, "metrics.serviceMonitor.labels", Map.of("release", "kube-prometheus-stack"));
        put(values, "metrics.dashboard.enabled", true);
        put(values, "persistence.existingClaim", "images");
        put(values, "nbd.enabled", false);
        put(values, "jsonLogs", "");
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        Files.writeString(copy.resolve("values.yaml"), new Yaml(options).dump(values));

        LintResult lint = new Helm(copy).lint().strict().call();

        assertThat(lint.isFailed())
                .as("helm lint --strict: %s", lint.getMessages())
                .isFalse();
    }

    // ---- default values -------------------------------------------------------------------------

    @Test
    void defaultsRenderTheCoreObjectsOnly() {
        Rendered r = render(Map.of());

        // `helm template` through helm-java leaves out hooks, such as the `helm test` pod.
        assertThat(r.kinds())
                .containsExactlyInAnyOrder(
                        "ServiceAccount", "ConfigMap", "Service", "PersistentVolumeClaim", "Deployment");
    }

    @Test
    void helmTestPodProbesReadinessThroughTheService(@TempDir Path dir) throws IOException {
        // Render the hook as an ordinary object: copy the chart and drop the hook annotations.
        Path copy = copyChart(dir);
        Path test = copy.resolve("templates/tests/test-connection.yaml");
        Files.writeString(test, Files.readString(test).replaceAll("(?m)^\\s*\"helm\\.sh/hook.*$\\n?", ""));
        Pod pod =
                Rendered.of(new Helm(copy).template().withName(RELEASE).call()).one(Pod.class);
        Container c = pod.getSpec().getContainers().get(0);

        assertThat(Files.readString(CHART.resolve("templates/tests/test-connection.yaml")))
                .contains("\"helm.sh/hook\": test");
        assertThat(String.join(" ", c.getCommand()) + " " + String.join(" ", c.getArgs()))
                .contains("http://" + FULLNAME + ":8080/actuator/health/readiness");
        assertThat(pod.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    }

    @Test
    void everyObjectCarriesTheRecommendedLabels() {
        Rendered r = render(Map.ofEntries(
                Map.entry("metrics.serviceMonitor.enabled", "true"),
                Map.entry("metrics.dashboard.enabled", "true"),
                Map.entry("metrics.prometheusRule.enabled", "true"),
                Map.entry("security.token.enabled", "true"),
                Map.entry("security.token.value", "s3cret"),
                Map.entry("networkPolicy.enabled", "true"),
                Map.entry("podDisruptionBudget.enabled", "true"),
                Map.entry("nbd.tls.enabled", "true"),
                Map.entry("nbd.tls.certManager.issuerRef.name", "ca")));

        assertThat(r.objects()).hasSize(13);
        for (HasMetadata o : r.objects()) {
            assertThat(o.getMetadata().getLabels())
                    .as(o.getKind())
                    .containsEntry("app.kubernetes.io/name", "blockpull")
                    .containsEntry("app.kubernetes.io/instance", RELEASE)
                    .containsEntry("app.kubernetes.io/version", "0.1.0-SNAPSHOT")
                    .containsEntry("app.kubernetes.io/managed-by", "Helm")
                    .containsEntry("helm.sh/chart", "blockpull-0.1.0");
        }
    }

    @Test
    void deploymentRunsOnePodWithRecreateAndAVersionlessSelector() {
        Deployment d = render(Map.of()).deployment();

        assertThat(d.getMetadata().getName()).isEqualTo(FULLNAME);
        assertThat(d.getSpec().getReplicas()).isEqualTo(1);
        assertThat(d.getSpec().getStrategy().getType()).isEqualTo("Recreate");
        assertThat(d.getSpec().getSelector().getMatchLabels())
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of("app.kubernetes.io/name", "blockpull", "app.kubernetes.io/instance", RELEASE));
        assertThat(d.getSpec().getTemplate().getMetadata().getLabels())
                .containsAllEntriesOf(d.getSpec().getSelector().getMatchLabels());
        assertThat(d.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
                .as("longer than the two 30 s shutdown phases")
                .isGreaterThan(60);
    }

    @Test
    void probesUseTheActuatorGroupsOnTheNamedHttpPort() {
        Container c = container(render(Map.of()).deployment());

        assertProbe(c.getStartupProbe(), "/actuator/health/liveness");
        assertProbe(c.getLivenessProbe(), "/actuator/health/liveness");
        assertProbe(c.getReadinessProbe(), "/actuator/health/readiness");
    }

    @Test
    void containerExposesTheNamedHttpPortAndRunsNbdOnItsPort() {
        Container c = container(render(Map.of()).deployment());

        // NBD stays inside the pod until TLS or allowInsecure exposes it (HelmChartOnEveryNodeTests).
        assertThat(c.getPorts())
                .extracting(ContainerPort::getName, ContainerPort::getContainerPort)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("http", 8080));
        assertThat(env(c)).containsEntry("BLOCKPULL_NBD_PORT", "10809");
    }

    @Test
    void podAndContainerAreLockedDown() {
        PodSpec pod = render(Map.of()).deployment().getSpec().getTemplate().getSpec();
        PodSecurityContext psc = pod.getSecurityContext();
        SecurityContext sc = pod.getContainers().get(0).getSecurityContext();

        assertThat(psc.getRunAsNonRoot()).isTrue();
        assertThat(psc.getRunAsUser()).isEqualTo(10001L);
        assertThat(psc.getRunAsGroup()).isEqualTo(10001L);
        assertThat(psc.getFsGroup()).isEqualTo(10001L);
        assertThat(psc.getFsGroupChangePolicy()).isEqualTo("OnRootMismatch");
        assertThat(psc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
        assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
        assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(pod.getAutomountServiceAccountToken()).isFalse();
        assertThat(pod.getServiceAccountName()).isEqualTo(FULLNAME);
    }

    @Test
    void dataRootIsTheClaimAndTmpIsAnEmptyDir() {
        Rendered r = render(Map.of());
        PodSpec pod = r.deployment().getSpec().getTemplate().getSpec();
        PersistentVolumeClaim pvc = r.one(PersistentVolumeClaim.class);

        assertThat(mountPath(pod, "data")).isEqualTo("/data");
        assertThat(volume(pod, "data").getPersistentVolumeClaim().getClaimName())
                .isEqualTo(pvc.getMetadata().getName())
                .isEqualTo(FULLNAME + "-data");
        assertThat(pvc.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
        assertThat(pvc.getSpec().getResources().getRequests()).containsEntry("storage", new Quantity("20Gi"));
        assertThat(pvc.getMetadata().getAnnotations()).containsEntry("helm.sh/resource-policy", "keep");
        assertThat(mountPath(pod, "tmp")).isEqualTo("/tmp");
        assertThat(volume(pod, "tmp").getEmptyDir()).isNotNull();
    }

    @Test
    void memoryRequestEqualsTheLimit() {
        Container c = container(render(Map.of()).deployment());

        assertThat(c.getResources().getRequests().get("memory"))
                .isEqualTo(c.getResources().getLimits().get("memory"));
    }

    @Test
    void jvmOptionsAreTheImagesOwn() throws IOException {
        Matcher image = Pattern.compile("(?m)^ENV JAVA_TOOL_OPTIONS=\"(.*)\"$")
                .matcher(Files.readString(Path.of("Dockerfile")));

        assertThat(image.find()).as("JAVA_TOOL_OPTIONS in the Dockerfile").isTrue();
        assertThat(envVar(container(render(Map.of()).deployment()), "JAVA_TOOL_OPTIONS")
                        .getValue())
                .isEqualTo(image.group(1));
    }

    @Test
    void imageTagDefaultsToTheAppVersion() {
        assertThat(container(render(Map.of()).deployment()).getImage())
                .isEqualTo("ghcr.io/blockpull/blockpull:0.1.0-SNAPSHOT");
        assertThat(container(render(Map.of("image.tag", "1.2.3")).deployment()).getImage())
                .isEqualTo("ghcr.io/blockpull/blockpull:1.2.3");
    }

    @Test
    void serviceSelectsThePodAndNamesItsPorts() {
        Rendered r = render(Map.of());
        Service s = r.one(Service.class);

        assertThat(s.getSpec().getType()).isEqualTo("ClusterIP");
        assertThat(s.getSpec().getSelector())
                .isEqualTo(r.deployment().getSpec().getSelector().getMatchLabels());
        assertThat(s.getSpec().getPorts())
                .extracting(
                        ServicePort::getName,
                        ServicePort::getPort,
                        p -> p.getTargetPort().getStrVal())
                .containsExactly(org.assertj.core.groups.Tuple.tuple("http", 8080, "http"));
        assertThat(s.getSpec().getInternalTrafficPolicy()).isNull();
    }

    @Test
    void configMapCarriesTheSettingsAndIsMountedForSpringBoot() throws IOException {
        Rendered r = render(Map.of("config.blockpull\\.jobs\\.history-size", "1000000"));
        Properties p = configProperties(r);
        Container c = container(r.deployment());

        assertThat(p)
                .containsEntry("blockpull.jobs.history-size", "1000000")
                .containsEntry("blockpull.graph.drain-timeout", "30s")
                .containsEntry("blockpull.io.direct", "false")
                .doesNotContainKey("blockpull.data-root");
        assertThat(env(c)).containsEntry("SPRING_CONFIG_ADDITIONAL_LOCATION", "optional:file:/config/");
        assertThat(mountPath(r.deployment().getSpec().getTemplate().getSpec(), "config"))
                .isEqualTo("/config");
        assertThat(volume(r.deployment().getSpec().getTemplate().getSpec(), "config")
                        .getConfigMap()
                        .getName())
                .isEqualTo(r.one(io.fabric8.kubernetes.api.model.ConfigMap.class)
                        .getMetadata()
                        .getName());
    }

    @Test
    void wholeNumbersInConfigAreNotWrittenWithAnExponent(@TempDir Path dir) throws IOException {
        // values.yaml numbers reach the templates as float64; --set ones as int64. Check the former.
        Path copy = copyChart(dir);
        Map<String, Object> values = loadYaml(copy.resolve("values.yaml"));
        put(values, "config", Map.of("blockpull.jobs.history-size", 2000000, "some.ratio", 0.5));
        Files.writeString(copy.resolve("values.yaml"), new Yaml().dump(values));

        Properties p = configProperties(
                Rendered.of(new Helm(copy).template().withName(RELEASE).call()));

        assertThat(p).containsEntry("blockpull.jobs.history-size", "2000000").containsEntry("some.ratio", "0.5");
    }

    @Test
    void checksumAnnotationFollowsTheConfig() {
        String before = checksum(render(Map.of()));
        String same = checksum(render(Map.of()));
        String after = checksum(render(Map.of("config.blockpull\\.jobs\\.history-size", "5")));

        assertThat(before).matches("[0-9a-f]{64}").isEqualTo(same).isNotEqualTo(after);
    }

    @Test
    void jsonLogsAreOnByDefaultAndCanBeTurnedOff() {
        assertThat(env(container(render(Map.of()).deployment())))
                .containsEntry("LOGGING_STRUCTURED_FORMAT_CONSOLE", "ecs");
        assertThat(env(container(render(Map.of("jsonLogs", "")).deployment())))
                .doesNotContainKey("LOGGING_STRUCTURED_FORMAT_CONSOLE");
    }

    // ---- non-default values ---------------------------------------------------------------------

    @Test
    void tokenFromAnExistingSecretIsPassedAsEnvironmentVariable() {
        Rendered r = render(Map.of(
                "security.token.enabled",
                "true",
                "security.token.existingSecret",
                "blockpull-api",
                "security.token.existingSecretKey",
                "api-token"));
        EnvVar token = envVar(container(r.deployment()), "BLOCKPULL_SECURITY_TOKEN");

        assertThat(r.kinds()).doesNotContain("Secret");
        assertThat(token.getValue()).isNull();
        assertThat(token.getValueFrom().getSecretKeyRef().getName()).isEqualTo("blockpull-api");
        assertThat(token.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("api-token");
    }

    @Test
    void tokenGivenAsValueGoesIntoAChartSecret() {
        Rendered r = render(Map.of("security.token.enabled", "true", "security.token.value", "s3cret"));
        Secret secret = r.one(Secret.class);
        EnvVar token = envVar(container(r.deployment()), "BLOCKPULL_SECURITY_TOKEN");

        assertThat(new String(Base64.getDecoder().decode(secret.getData().get("token")), StandardCharsets.UTF_8))
                .isEqualTo("s3cret");
        assertThat(token.getValueFrom().getSecretKeyRef().getName())
                .isEqualTo(secret.getMetadata().getName());
        assertThat(token.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("token");
        assertThat(r.deployment().getSpec().getTemplate().getMetadata().getAnnotations())
                .containsKey("checksum/secret");
    }

    @Test
    void tokenEnabledWithoutSecretOrValueFailsToRender() {
        assertThatThrownBy(() -> render(Map.of("security.token.enabled", "true")))
                .hasMessageContaining("security.token.existingSecret or security.token.value");
    }

    @Test
    void noTokenMeansNoTokenVariable() {
        assertThat(env(container(render(Map.of()).deployment()))).doesNotContainKey("BLOCKPULL_SECURITY_TOKEN");
    }

    @Test
    void serviceMonitorScrapesPrometheusOnTheHttpPort() {
        Rendered r = render(Map.of(
                "metrics.serviceMonitor.enabled",
                "true",
                "metrics.serviceMonitor.labels.release",
                "kube-prometheus-stack"));
        GenericKubernetesResource sm = r.generic("ServiceMonitor");
        Map<String, Object> endpoint = endpoint(sm);

        assertThat(sm.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(sm.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack");
        assertThat(endpoint)
                .containsEntry("port", "http")
                .containsEntry("path", "/actuator/prometheus")
                .containsEntry("interval", "30s")
                .doesNotContainKey("authorization");
        assertThat(sm.<Map<String, Object>>get("spec", "selector", "matchLabels"))
                .isEqualTo(Map.of("app.kubernetes.io/name", "blockpull", "app.kubernetes.io/instance", RELEASE));
    }

    @Test
    void protectedMetricsAreScrapedWithTheToken() throws IOException {
        Rendered r = render(Map.of(
                "metrics.serviceMonitor.enabled",
                "true",
                "security.protectMetrics",
                "true",
                "security.token.enabled",
                "true",
                "security.token.existingSecret",
                "blockpull-api"));

        assertThat(endpoint(r.generic("ServiceMonitor")).get("authorization"))
                .isEqualTo(Map.of("type", "Bearer", "credentials", Map.of("name", "blockpull-api", "key", "token")));
        assertThat(configProperties(r)).containsEntry("blockpull.security.protect-metrics", "true");
    }

    @Test
    void existingClaimIsMountedAndNoClaimIsCreated() {
        Rendered r = render(Map.of("persistence.existingClaim", "images"));
        PodSpec pod = r.deployment().getSpec().getTemplate().getSpec();

        assertThat(r.kinds()).doesNotContain("PersistentVolumeClaim");
        assertThat(volume(pod, "data").getPersistentVolumeClaim().getClaimName())
                .isEqualTo("images");
    }

    @Test
    void withoutPersistenceTheDataRootIsAnEmptyDir() {
        Rendered r = render(Map.of("persistence.enabled", "false"));

        assertThat(r.kinds()).doesNotContain("PersistentVolumeClaim");
        assertThat(volume(r.deployment().getSpec().getTemplate().getSpec(), "data")
                        .getEmptyDir())
                .isNotNull();
    }

    @Test
    void storageClassDashMeansNoStorageClass() {
        assertThat(render(Map.of("persistence.storageClass", "-"))
                        .one(PersistentVolumeClaim.class)
                        .getSpec()
                        .getStorageClassName())
                .isEmpty();
        assertThat(render(Map.of("persistence.storageClass", "fast"))
                        .one(PersistentVolumeClaim.class)
                        .getSpec()
                        .getStorageClassName())
                .isEqualTo("fast");
    }

    @Test
    void nbdDisabledRemovesThePortsAndTurnsTheServerOff() throws IOException {
        Rendered r = render(Map.of("nbd.enabled", "false", "nbd.allowInsecure", "true"));
        Container c = container(r.deployment());

        assertThat(c.getPorts()).extracting(ContainerPort::getName).containsExactly("http");
        assertThat(r.one(Service.class).getSpec().getPorts())
                .extracting(ServicePort::getName)
                .containsExactly("http");
        assertThat(env(c)).containsEntry("BLOCKPULL_NBD_PORT", "0");
        assertThat(configProperties(r).stringPropertyNames()).noneMatch(k -> k.startsWith("blockpull.nbd."));
    }

    @Test
    void dashboardConfigMapShipsTheDashboardForGrafana() throws IOException {
        Rendered r = render(Map.of("metrics.dashboard.enabled", "true"));
        io.fabric8.kubernetes.api.model.ConfigMap cm = r.objects().stream()
                .filter(o -> o instanceof io.fabric8.kubernetes.api.model.ConfigMap)
                .map(io.fabric8.kubernetes.api.model.ConfigMap.class::cast)
                .filter(o -> o.getMetadata().getName().endsWith("-dashboard"))
                .findFirst()
                .orElseThrow();

        assertThat(cm.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
        assertThat(JSON.readTree(cm.getData().get("blockpull.json")))
                .isEqualTo(
                        JSON.readTree(CHART.resolve("dashboards/blockpull.json").toFile()));
    }

    @Test
    void dashboardPlotsProgressThroughputStatusInflightAndDrains() {
        JsonNode dashboard =
                JSON.readTree(CHART.resolve("dashboards/blockpull.json").toFile());
        List<String> exprs = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                exprs.add(target.get("expr").asString());
            }
        }

        assertThat(dashboard.get("uid").asString()).isNotBlank();
        for (String metric : METRICS) {
            assertThat(exprs).as(metric).anyMatch(e -> e.contains(metric));
        }
        assertThat(exprs).anyMatch(e -> e.matches("(?s).*rate\\(blockpull_stream_copied_bytes_total.*"));
    }

    @Test
    void dashboardHasFailurePanels() {
        JsonNode dashboard =
                JSON.readTree(CHART.resolve("dashboards/blockpull.json").toFile());
        Map<String, String> exprByTitle = new HashMap<>();
        for (JsonNode panel : dashboard.get("panels")) {
            exprByTitle.put(
                    panel.get("title").asString(),
                    panel.get("targets").get(0).get("expr").asString());
        }

        assertThat(exprByTitle.get("Jobs failed"))
                .contains("blockpull_jobs_finished_total")
                .contains("result=\"failed\"");
        assertThat(exprByTitle.get("Job I/O errors by action"))
                .contains("blockpull_job_io_errors_total")
                .contains("by (action");
        assertThat(exprByTitle.get("Oldest drain wait")).contains("blockpull_drain_longest_wait_seconds");
    }

    @Test
    void longReleaseNamesAreCutTo63Characters() {
        // Helm allows release names of up to 53 characters; with the name appended, the cut at 63
        // falls right after a '-', which must go too.
        String release = "a".repeat(53);
        Deployment d = Rendered.of(new Helm(CHART)
                        .template()
                        .withName(release)
                        .set("nameOverride", "abcdefgh-ijklmnop")
                        .call())
                .deployment();

        assertThat(d.getMetadata().getName()).isEqualTo(release + "-abcdefgh");
    }

    // ---- values and schema ----------------------------------------------------------------------

    @Test
    void schemaRejectsBadValues() {
        assertThatThrownBy(() -> render(Map.of("nbd.port", "70000"))).hasMessageContaining("nbd");
        assertThatThrownBy(() -> render(Map.of("image.pullPolicy", "Sometimes")))
                .hasMessageContaining("pullPolicy");
        assertThatThrownBy(() -> render(Map.of("replicaCount", "2"))).hasMessageContaining("replicaCount");
        assertThatThrownBy(() -> render(Map.of("config.blockpull\\.data-root", "/elsewhere")))
                .hasMessageContaining("blockpull.data-root");
    }

    @Test
    void everyKeyOfValuesYamlIsCommented() throws IOException {
        List<String> lines = Files.readAllLines(CHART.resolve("values.yaml"));
        Pattern key = Pattern.compile("^(\\s*)[A-Za-z][A-Za-z0-9.-]*:.*");
        List<String> uncommented = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = key.matcher(lines.get(i));
            if (m.matches() && (i == 0 || !lines.get(i - 1).trim().startsWith("#"))) {
                uncommented.add((i + 1) + ": " + lines.get(i));
            }
        }

        assertThat(uncommented).isEmpty();
    }

    @Test
    void schemaDescribesEveryKeyOfValuesYaml() throws IOException {
        JsonNode schema = JSON.readTree(CHART.resolve("values.schema.json").toFile());
        List<String> missing = new ArrayList<>();
        collectMissing(loadYaml(CHART.resolve("values.yaml")), schema, "", missing);

        assertThat(missing).isEmpty();
    }

    @Test
    void chartMetadataFollowsTheConventions() throws IOException {
        Map<String, Object> chart = loadYaml(CHART.resolve("Chart.yaml"));

        assertThat(chart).containsEntry("apiVersion", "v2").containsEntry("name", "blockpull");
        assertThat((String) chart.get("version")).matches("\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?");
        assertThat(chart.get("appVersion"))
                .as("appVersion = the version in pom.xml")
                .isEqualTo(PomVersion.read());
        for (String file : List.of(
                "values.yaml",
                "values.schema.json",
                ".helmignore",
                "templates/_helpers.tpl",
                "templates/deployment.yaml",
                "templates/daemonset.yaml",
                "templates/_pod.yaml",
                "templates/service.yaml",
                "templates/nbd-service.yaml",
                "templates/certificate.yaml",
                "templates/networkpolicy.yaml",
                "templates/poddisruptionbudget.yaml",
                "templates/prometheusrule.yaml",
                "templates/serviceaccount.yaml",
                "templates/pvc.yaml",
                "templates/configmap.yaml",
                "templates/secret.yaml",
                "templates/servicemonitor.yaml",
                "templates/NOTES.txt",
                "templates/tests/test-connection.yaml",
                "dashboards/blockpull.json")) {
            assertThat(CHART.resolve(file)).as(file).isRegularFile();
        }
        String helpers = Files.readString(CHART.resolve("templates/_helpers.tpl"));
        for (String name : List.of(
                "blockpull.name",
                "blockpull.fullname",
                "blockpull.chart",
                "blockpull.labels",
                "blockpull.selectorLabels",
                "blockpull.serviceAccountName")) {
            assertThat(helpers).contains("define \"" + name + "\"");
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** Rendered documents of one `helm template`, parsed as Kubernetes objects. */
    record Rendered(List<HasMetadata> objects) {

        static Rendered of(String manifest) {
            List<HasMetadata> objects = new ArrayList<>();
            for (String doc : manifest.split("(?m)^---\\s*$")) {
                if (doc.lines().anyMatch(l -> l.startsWith("kind:"))) {
                    objects.add(K8S.unmarshal(doc, HasMetadata.class));
                }
            }
            return new Rendered(objects);
        }

        List<String> kinds() {
            return objects.stream().map(HasMetadata::getKind).collect(Collectors.toList());
        }

        <T extends HasMetadata> T one(Class<T> type) {
            List<T> found =
                    objects.stream().filter(type::isInstance).map(type::cast).collect(Collectors.toList());
            assertThat(found).as("objects of type %s", type.getSimpleName()).hasSize(1);
            return found.get(0);
        }

        Deployment deployment() {
            return one(Deployment.class);
        }

        GenericKubernetesResource generic(String kind) {
            return objects.stream()
                    .filter(o -> kind.equals(o.getKind()))
                    .map(GenericKubernetesResource.class::cast)
                    .findFirst()
                    .orElseThrow();
        }
    }

    static Rendered render(Map<String, String> values) {
        var template = new Helm(CHART).template().withName(RELEASE).withNamespace("storage");
        values.forEach(template::set);
        return Rendered.of(template.call());
    }

    static Container container(Deployment d) {
        List<Container> containers = d.getSpec().getTemplate().getSpec().getContainers();
        assertThat(containers).hasSize(1);
        return containers.get(0);
    }

    static void assertProbe(Probe probe, String path) {
        assertThat(probe).isNotNull();
        assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
        assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("http");
    }

    static Map<String, String> env(Container c) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar e : c.getEnv()) {
            env.put(e.getName(), e.getValue());
        }
        return env;
    }

    static EnvVar envVar(Container c, String name) {
        return c.getEnv().stream()
                .filter(e -> e.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no env " + name + " in " + c.getEnv()));
    }

    static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream()
                .filter(v -> v.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    static String mountPath(PodSpec pod, String volume) {
        return pod.getContainers().get(0).getVolumeMounts().stream()
                .filter(m -> m.getName().equals(volume))
                .map(VolumeMount::getMountPath)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no mount " + volume));
    }

    static String checksum(Rendered r) {
        return r.deployment()
                .getSpec()
                .getTemplate()
                .getMetadata()
                .getAnnotations()
                .get("checksum/config");
    }

    static Properties configProperties(Rendered r) throws IOException {
        io.fabric8.kubernetes.api.model.ConfigMap cm = r.objects().stream()
                .filter(o -> o instanceof io.fabric8.kubernetes.api.model.ConfigMap)
                .map(io.fabric8.kubernetes.api.model.ConfigMap.class::cast)
                .filter(o -> o.getMetadata().getName().equals(FULLNAME))
                .findFirst()
                .orElseThrow();
        Properties p = new Properties();
        p.load(new StringReader(cm.getData().get("application.properties")));
        return p;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> endpoint(GenericKubernetesResource sm) {
        List<Map<String, Object>> endpoints = sm.get("spec", "endpoints");
        assertThat(endpoints).hasSize(1);
        return endpoints.get(0);
    }

    static Path copyChart(Path dir) throws IOException {
        Path copy = dir.resolve("blockpull");
        try (Stream<Path> files = Files.walk(CHART)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path target = copy.resolve(CHART.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
        return copy;
    }

    static Map<String, Object> loadYaml(Path file) throws IOException {
        return new Yaml().load(Files.readString(file));
    }

    @SuppressWarnings("unchecked")
    static void put(Map<String, Object> values, String dotted, Object value) {
        String[] parts = dotted.split("\\.");
        Map<String, Object> m = values;
        for (int i = 0; i < parts.length - 1; i++) {
            m = (Map<String, Object>) m.computeIfAbsent(parts[i], k -> new LinkedHashMap<>());
        }
        m.put(parts[parts.length - 1], value);
    }

    @SuppressWarnings("unchecked")
    static void collectMissing(Map<String, Object> values, JsonNode schema, String prefix, List<String> missing) {
        JsonNode properties = schema.get("properties");
        for (Map.Entry<String, Object> e : values.entrySet()) {
            String path = prefix + e.getKey();
            JsonNode property = properties == null ? null : properties.get(e.getKey());
            if (property == null) {
                JsonNode additional = schema.get("additionalProperties");
                if (additional == null || !additional.isObject()) {
                    missing.add(path);
                }
                continue;
            }
            if (e.getValue() instanceof Map<?, ?> nested && property.has("properties")) {
                collectMissing((Map<String, Object>) nested, property, path + ".", missing);
            }
        }
    }
}
