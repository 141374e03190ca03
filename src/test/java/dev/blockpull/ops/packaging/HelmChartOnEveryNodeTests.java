package dev.blockpull.ops.packaging;

import static dev.blockpull.ops.packaging.HelmChartTests.CHART;
import static dev.blockpull.ops.packaging.HelmChartTests.FULLNAME;
import static dev.blockpull.ops.packaging.HelmChartTests.RELEASE;
import static dev.blockpull.ops.packaging.HelmChartTests.configProperties;
import static dev.blockpull.ops.packaging.HelmChartTests.copyChart;
import static dev.blockpull.ops.packaging.HelmChartTests.loadYaml;
import static dev.blockpull.ops.packaging.HelmChartTests.mountPath;
import static dev.blockpull.ops.packaging.HelmChartTests.put;
import static dev.blockpull.ops.packaging.HelmChartTests.render;
import static dev.blockpull.ops.packaging.HelmChartTests.volume;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import dev.blockpull.ops.packaging.HelmChartTests.Rendered;
import dev.blockpull.testsupport.AlertRules;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The chart on the hosts of a cluster (issue 13): {@code mode: daemonset} (one pod per node on a
 * hostPath) next to the default Deployment, NBD exposed only over TLS or when insecure NBD is asked
 * for, the NetworkPolicy, the PodDisruptionBudget and the PrometheusRule, rendered by Helm and
 * read back through fabric8's Kubernetes models.
 */
class HelmChartOnEveryNodeTests {

    static final Map<String, String> DAEMONSET = Map.of("mode", "daemonset");
    static final Map<String, String> TLS_FROM_SECRET =
            Map.of("nbd.tls.enabled", "true", "nbd.tls.existingSecret", "nbd-cert");
    static final String TLS_DIR = "/etc/blockpull/nbd-tls";

    // ---- lint -----------------------------------------------------------------------------------

    @Test
    void chartLintsCleanInDaemonSetModeWithEveryOption(@TempDir Path dir) throws IOException {
        Path copy = copyChart(dir);
        Map<String, Object> values = loadYaml(copy.resolve("values.yaml"));
        put(values, "mode", "daemonset");
        put(values, "daemonset.hostNetwork", true);
        put(values, "nodeSelector", Map.of("blockpull.dev/images", "true"));
        put(values, "tolerations", List.of(Map.of("key", "hypervisor", "operator", "Exists", "effect", "NoSchedule")));
        put(values, "nbd.tls.enabled", true);
        put(values, "nbd.tls.requireClientCertificates", true);
        put(values, "nbd.tls.certManager.issuerRef.name", "cluster-ca");
        put(values, "nbd.tls.certManager.issuerRef.kind", "ClusterIssuer");
        put(values, "networkPolicy.enabled", true);
        put(values, "networkPolicy.api.namespaces", List.of("orchestrator"));
        put(
                values,
                "networkPolicy.nbd.clients",
                List.of(Map.of(
                        "namespaceSelector", Map.of("matchLabels", Map.of("kubernetes.io/metadata.name", "vms")))));
        put(values, "podDisruptionBudget.enabled", true);
        put(values, "metrics.prometheusRule.enabled", true);
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        Files.writeString(copy.resolve("values.yaml"), new Yaml(options).dump(values));

        LintResult lint = new Helm(copy).lint().strict().call();

        assertThat(lint.isFailed())
                .as("helm lint --strict: %s", lint.getMessages())
                .isFalse();
    }

    @Test
    void theReadmesEveryNodeExampleRendersEveryPart() {
        Rendered r = Rendered.of(new Helm(CHART)
                .template()
                .withName(RELEASE)
                .withNamespace("storage")
                .withValuesFile(Path.of("helm", "examples", "every-node.yaml"))
                .call());

        assertThat(r.kinds())
                .containsExactlyInAnyOrder(
                        "ServiceAccount",
                        "ConfigMap",
                        "Service",
                        "Service",
                        "DaemonSet",
                        "Certificate",
                        "NetworkPolicy",
                        "PodDisruptionBudget",
                        "ServiceMonitor",
                        "PrometheusRule");
        assertThat(pod(r).getNodeSelector()).containsEntry("blockpull.dev/images", "local");
        assertThat(r.one(NetworkPolicy.class).getSpec().getIngress()).hasSize(3);
    }

    // ---- mode: daemonset ------------------------------------------------------------------------

    @Test
    void daemonSetModeRunsOnePodPerNodeOnTheNodesDirectory() {
        Rendered r = render(DAEMONSET);
        DaemonSet ds = r.one(DaemonSet.class);
        PodSpec pod = ds.getSpec().getTemplate().getSpec();

        assertThat(r.kinds()).containsExactlyInAnyOrder("ServiceAccount", "ConfigMap", "Service", "DaemonSet");
        assertThat(ds.getMetadata().getName()).isEqualTo(FULLNAME);
        assertThat(ds.getSpec().getSelector().getMatchLabels())
                .isEqualTo(Map.of("app.kubernetes.io/name", "blockpull", "app.kubernetes.io/instance", RELEASE));
        assertThat(volume(pod, "data").getHostPath().getPath()).isEqualTo("/var/lib/blockpull");
        assertThat(volume(pod, "data").getHostPath().getType()).isEqualTo("Directory");
        assertThat(mountPath(pod, "data")).isEqualTo("/data");
    }

    @Test
    void daemonSetUpdatesNeverRunTwoPodsOnOneNode() {
        DaemonSet ds = render(Map.of("mode", "daemonset", "daemonset.maxUnavailable", "3"))
                .one(DaemonSet.class);

        assertThat(ds.getSpec().getUpdateStrategy().getType()).isEqualTo("RollingUpdate");
        assertThat(ds.getSpec()
                        .getUpdateStrategy()
                        .getRollingUpdate()
                        .getMaxSurge()
                        .getIntVal())
                .isZero();
        assertThat(ds.getSpec()
                        .getUpdateStrategy()
                        .getRollingUpdate()
                        .getMaxUnavailable()
                        .getIntVal())
                .isEqualTo(3);
    }

    @Test
    void daemonSetPodIsTheDeploymentPodWithAHostPathDataRoot() {
        PodTemplateSpec deployment = render(Map.of()).deployment().getSpec().getTemplate();
        PodTemplateSpec daemonSet =
                render(DAEMONSET).one(DaemonSet.class).getSpec().getTemplate();
        List<Volume> others = daemonSet.getSpec().getVolumes().stream()
                .filter(v -> !v.getName().equals("data"))
                .toList();

        assertThat(daemonSet.getSpec().getContainers())
                .isEqualTo(deployment.getSpec().getContainers());
        assertThat(daemonSet.getSpec().getSecurityContext())
                .isEqualTo(deployment.getSpec().getSecurityContext());
        assertThat(daemonSet.getMetadata()).isEqualTo(deployment.getMetadata());
        assertThat(others)
                .isEqualTo(deployment.getSpec().getVolumes().stream()
                        .filter(v -> !v.getName().equals("data"))
                        .toList());
    }

    @Test
    void hostPathOnlyInDaemonSetMode() {
        for (Map<String, String> values : List.of(
                Map.<String, String>of(),
                Map.of("persistence.enabled", "false"),
                Map.of("persistence.existingClaim", "images"))) {
            assertThat(pod(render(values)).getVolumes()).as("%s", values).allMatch(v -> v.getHostPath() == null);
        }
        assertThat(pod(render(DAEMONSET)).getVolumes())
                .filteredOn(v -> v.getHostPath() != null)
                .extracting(Volume::getName)
                .containsExactly("data");
    }

    @Test
    void daemonSetTakesNodeSelectorAndTolerations() {
        PodSpec pod = pod(render(Map.of(
                "mode",
                "daemonset",
                "nodeSelector.blockpull\\.dev/images",
                "local",
                "tolerations[0].key",
                "hypervisor",
                "tolerations[0].operator",
                "Exists",
                "tolerations[0].effect",
                "NoSchedule")));

        assertThat(pod.getNodeSelector()).isEqualTo(Map.of("blockpull.dev/images", "local"));
        assertThat(pod.getTolerations())
                .extracting(Toleration::getKey, Toleration::getOperator, Toleration::getEffect)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("hypervisor", "Exists", "NoSchedule"));
    }

    @Test
    void hostNetworkOnlyWhenAsked() {
        assertThat(pod(render(DAEMONSET)).getHostNetwork()).isNull();
        assertThat(pod(render(Map.of("daemonset.hostNetwork", "true"))).getHostNetwork())
                .as("deployment mode ignores it")
                .isNull();

        PodSpec pod = pod(render(Map.of("mode", "daemonset", "daemonset.hostNetwork", "true")));

        assertThat(pod.getHostNetwork()).isTrue();
        assertThat(pod.getDnsPolicy()).isEqualTo("ClusterFirstWithHostNet");
    }

    @Test
    void daemonSetServicesKeepClientsOnTheirOwnNode() {
        Rendered r =
                render(Map.of("mode", "daemonset", "nbd.tls.enabled", "true", "nbd.tls.existingSecret", "nbd-cert"));

        assertThat(r.objects())
                .filteredOn(Service.class::isInstance)
                .hasSize(2)
                .allSatisfy(s -> assertThat(((Service) s).getSpec().getInternalTrafficPolicy())
                        .isEqualTo("Local"));
    }

    @Test
    void helmTestPodRunsWhereTheDaemonSetRuns(@TempDir Path dir) throws IOException {
        // The Service keeps traffic on the node, so the test pod must land on a node with Blockpull.
        Path copy = copyChart(dir);
        Path test = copy.resolve("templates/tests/test-connection.yaml");
        Files.writeString(test, Files.readString(test).replaceAll("(?m)^\\s*\"helm\\.sh/hook.*$\\n?", ""));
        Pod pod = Rendered.of(new Helm(copy)
                        .template()
                        .withName(RELEASE)
                        .set("mode", "daemonset")
                        .set("nodeSelector.blockpull\\.dev/images", "local")
                        .set("tolerations[0].key", "hypervisor")
                        .set("tolerations[0].operator", "Exists")
                        .call())
                .one(Pod.class);

        assertThat(pod.getSpec().getNodeSelector()).isEqualTo(Map.of("blockpull.dev/images", "local"));
        assertThat(pod.getSpec().getTolerations())
                .extracting(Toleration::getKey)
                .containsExactly("hypervisor");
    }

    @Test
    void schemaRejectsAnUnknownModeAndARelativeHostPath() {
        assertThatThrownBy(() -> render(Map.of("mode", "statefulset"))).hasMessageContaining("mode");
        assertThatThrownBy(() -> render(Map.of("mode", "daemonset", "daemonset.hostPath.path", "images")))
                .hasMessageContaining("path");
    }

    // ---- NBD: loopback, insecure, TLS -----------------------------------------------------------

    @Test
    void nbdStaysOnLoopbackWithoutTlsOrAllowInsecure() throws IOException {
        Rendered r = render(Map.of());
        Properties p = configProperties(r);

        assertThat(p)
                .containsEntry("blockpull.nbd.bind-address", "127.0.0.1")
                .doesNotContainKeys("blockpull.nbd.allow-insecure", "blockpull.nbd.tls.certificate");
        assertThat(r.objects()).filteredOn(Service.class::isInstance).hasSize(1);
        assertThat(container(r).getPorts()).extracting(ContainerPort::getName).doesNotContain("nbd");
    }

    @Test
    void allowInsecureExposesNbdWithoutTlsOnItsOwnService() throws IOException {
        Rendered r = render(Map.of("nbd.allowInsecure", "true"));

        assertThat(configProperties(r))
                .containsEntry("blockpull.nbd.bind-address", "0.0.0.0")
                .containsEntry("blockpull.nbd.allow-insecure", "true")
                .doesNotContainKey("blockpull.nbd.tls.certificate");
        assertNbdExposed(r);
    }

    @Test
    void tlsFromAGivenSecretIsMountedAndPassedAsProperties() throws IOException {
        // allowInsecure is moot with TLS: the chart never passes it then.
        Rendered r = render(
                Map.of("nbd.tls.enabled", "true", "nbd.tls.existingSecret", "nbd-cert", "nbd.allowInsecure", "true"));
        PodSpec pod = pod(r);

        assertThat(volume(pod, "nbd-tls").getSecret().getSecretName()).isEqualTo("nbd-cert");
        assertThat(mountPath(pod, "nbd-tls")).isEqualTo(TLS_DIR);
        assertThat(pod.getContainers().get(0).getVolumeMounts())
                .filteredOn(m -> m.getName().equals("nbd-tls"))
                .singleElement()
                .satisfies(m -> {
                    assertThat(m.getReadOnly()).isTrue();
                    assertThat(m.getSubPath()).as("renewed files must show").isNull();
                });
        assertThat(configProperties(r))
                .containsEntry("blockpull.nbd.bind-address", "0.0.0.0")
                .containsEntry("blockpull.nbd.tls.certificate", TLS_DIR + "/tls.crt")
                .containsEntry("blockpull.nbd.tls.private-key", TLS_DIR + "/tls.key")
                .doesNotContainKeys("blockpull.nbd.tls.ca", "blockpull.nbd.allow-insecure");
        assertThat(r.kinds()).doesNotContain("Certificate");
        assertNbdExposed(r);
    }

    @Test
    void clientCertificatesAreCheckedAgainstTheSecretsCa() throws IOException {
        Rendered r = render(Map.of(
                "nbd.tls.enabled",
                "true",
                "nbd.tls.existingSecret",
                "nbd-cert",
                "nbd.tls.requireClientCertificates",
                "true"));

        assertThat(configProperties(r)).containsEntry("blockpull.nbd.tls.ca", TLS_DIR + "/ca.crt");
    }

    @Test
    void tlsFromCertManagerMakesACertificateForTheNbdService() {
        Rendered r = render(Map.of(
                "nbd.tls.enabled",
                "true",
                "nbd.tls.certManager.issuerRef.name",
                "cluster-ca",
                "nbd.tls.certManager.issuerRef.kind",
                "ClusterIssuer",
                "nbd.tls.certManager.dnsNames[0]",
                "nbd.example.org"));
        GenericKubernetesResource cert = r.generic("Certificate");
        String secret = cert.get("spec", "secretName");

        assertThat(cert.getApiVersion()).isEqualTo("cert-manager.io/v1");
        assertThat(cert.<Map<String, Object>>get("spec", "issuerRef"))
                .isEqualTo(Map.of("name", "cluster-ca", "kind", "ClusterIssuer", "group", "cert-manager.io"));
        assertThat(cert.<List<String>>get("spec", "dnsNames"))
                .containsExactly(
                        FULLNAME + "-nbd", FULLNAME + "-nbd.storage", FULLNAME + "-nbd.storage.svc", "nbd.example.org");
        assertThat(cert.<String>get("spec", "privateKey", "encoding")).isEqualTo("PKCS8");
        assertThat(secret).isEqualTo(FULLNAME + "-nbd-tls");
        assertThat(volume(pod(r), "nbd-tls").getSecret().getSecretName()).isEqualTo(secret);
        assertThat(serviceNames(r)).contains(FULLNAME + "-nbd");
    }

    @Test
    void tlsWithoutSecretOrIssuerFailsToRender() {
        assertThatThrownBy(() -> render(Map.of("nbd.tls.enabled", "true")))
                .hasMessageContaining("nbd.tls.existingSecret or nbd.tls.certManager.issuerRef.name");
    }

    @Test
    void schemaRefusesNbdSettingsInConfig() {
        for (String key :
                List.of("bind-address", "allow-insecure", "tls\\.certificate", "tls\\.private-key", "tls\\.ca")) {
            assertThatThrownBy(() -> render(Map.of("config.blockpull\\.nbd\\." + key, "x")))
                    .as(key)
                    .hasMessageContaining("blockpull.nbd.");
        }
    }

    // ---- NetworkPolicy --------------------------------------------------------------------------

    @Test
    void networkPolicyAdmitsTheApiNbdClientsAndPrometheusOnly() {
        Rendered r = render(Map.of(
                "networkPolicy.enabled",
                "true",
                "networkPolicy.api.namespaces[0]",
                "orchestrator",
                "networkPolicy.nbd.clients[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name",
                "vms",
                "networkPolicy.nbd.clients[0].podSelector.matchLabels.app",
                "qemu",
                "nbd.tls.enabled",
                "true",
                "nbd.tls.existingSecret",
                "nbd-cert"));
        NetworkPolicy np = r.one(NetworkPolicy.class);
        List<NetworkPolicyIngressRule> rules = np.getSpec().getIngress();

        assertThat(np.getSpec().getPodSelector().getMatchLabels())
                .isEqualTo(r.deployment().getSpec().getSelector().getMatchLabels());
        assertThat(np.getSpec().getPolicyTypes()).containsExactly("Ingress");
        assertThat(rules)
                .hasSize(3)
                .allSatisfy(rule -> assertThat(rule.getFrom()).isNotEmpty());
        assertThat(port(rules.get(0))).isEqualTo("http");
        assertThat(rules.get(0).getFrom().get(0).getPodSelector().getMatchLabels())
                .as("the release's namespace")
                .isEmpty();
        assertThat(rules.get(0).getFrom().get(1).getNamespaceSelector().getMatchExpressions())
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.getKey()).isEqualTo("kubernetes.io/metadata.name");
                    assertThat(e.getOperator()).isEqualTo("In");
                    assertThat(e.getValues()).containsExactly("orchestrator");
                });
        assertThat(port(rules.get(1))).isEqualTo("nbd");
        NetworkPolicyPeer client = rules.get(1).getFrom().get(0);
        assertThat(client.getNamespaceSelector().getMatchLabels())
                .isEqualTo(Map.of("kubernetes.io/metadata.name", "vms"));
        assertThat(client.getPodSelector().getMatchLabels()).isEqualTo(Map.of("app", "qemu"));
        assertThat(port(rules.get(2))).isEqualTo("http");
        assertThat(rules.get(2).getFrom().get(0).getNamespaceSelector().getMatchLabels())
                .isEqualTo(Map.of("kubernetes.io/metadata.name", "monitoring"));
    }

    @Test
    void networkPolicyWithoutNbdClientsAdmitsNoOneToNbd() {
        NetworkPolicy np = render(Map.of(
                        "networkPolicy.enabled",
                        "true",
                        "nbd.allowInsecure",
                        "true",
                        "networkPolicy.metrics.namespace",
                        ""))
                .one(NetworkPolicy.class);

        // A rule with an empty `from` would admit everyone: there must be no NBD rule at all.
        assertThat(np.getSpec().getIngress())
                .extracting(HelmChartOnEveryNodeTests::port)
                .containsExactly("http");
    }

    @Test
    void networkPolicyOnlyWhenEnabled() {
        assertThat(render(Map.of()).kinds()).doesNotContain("NetworkPolicy");
    }

    // ---- PodDisruptionBudget --------------------------------------------------------------------

    @Test
    void podDisruptionBudgetWhenEnabledSelectsThePods() {
        assertThat(render(Map.of()).kinds()).doesNotContain("PodDisruptionBudget");
        for (Map<String, String> mode : List.of(Map.<String, String>of(), DAEMONSET)) {
            Map<String, String> values = new HashMap<>(mode);
            values.put("podDisruptionBudget.enabled", "true");
            values.put("podDisruptionBudget.maxUnavailable", "0");
            PodDisruptionBudget pdb = render(values).one(PodDisruptionBudget.class);

            assertThat(pdb.getSpec().getMaxUnavailable().getIntVal())
                    .as("%s", mode)
                    .isZero();
            assertThat(pdb.getSpec().getSelector().getMatchLabels())
                    .isEqualTo(Map.of("app.kubernetes.io/name", "blockpull", "app.kubernetes.io/instance", RELEASE));
        }
    }

    // ---- PrometheusRule -------------------------------------------------------------------------

    @Test
    void prometheusRuleOnlyWhenEnabled() {
        assertThat(render(Map.of()).kinds()).doesNotContain("PrometheusRule");
        GenericKubernetesResource rule = render(Map.of(
                        "metrics.prometheusRule.enabled",
                        "true",
                        "metrics.prometheusRule.labels.release",
                        "kube-prometheus-stack"))
                .generic("PrometheusRule");

        assertThat(rule.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(rule.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack");
    }

    @Test
    void alertsCoverFailedAndStalledJobsIoErrorsDrainsAndDisk() {
        AlertRules rules = AlertRules.render(Map.of());

        assertThat(rules.exprByAlert())
                .containsOnlyKeys(
                        "BlockpullJobFailed",
                        "BlockpullJobStalled",
                        "BlockpullIoErrors",
                        "BlockpullDrainWaitTooLong",
                        "BlockpullDiskNearlyFull");
        assertThat(rules.metricNames())
                .containsExactlyInAnyOrder(
                        "blockpull_jobs_finished_total",
                        "blockpull_job_status",
                        "blockpull_job_offset_bytes",
                        "blockpull_node_io_errors_total",
                        "blockpull_drain_longest_wait_seconds",
                        "disk_free_bytes",
                        "disk_total_bytes");
        assertThat(rules.exprByAlert().get("BlockpullJobFailed")).contains("result=\"failed\"");
        assertThat(rules.exprByAlert().get("BlockpullDrainWaitTooLong")).endsWith("> 30");
        assertThat(rules.exprByAlert().get("BlockpullDiskNearlyFull")).endsWith("< 0.1");
    }

    @Test
    void everyAlertSelectsOnlyThisReleasesSeries() {
        AlertRules rules = AlertRules.render(Map.of());
        AlertRules custom = AlertRules.render(Map.of("metrics.prometheusRule.selector", "cluster=\"eu1\""));

        assertThat(rules.exprByAlert().values())
                .allSatisfy(expr -> assertThat(expr)
                        .doesNotContainPattern("[a-z_]+\\{(?![^}]*namespace=\"storage\", job=\"" + FULLNAME + "\")"));
        assertThat(custom.exprByAlert().values())
                .allSatisfy(expr -> assertThat(expr)
                        .doesNotContainPattern("[a-z_]+\\{(?![^}]*cluster=\"eu1\")")
                        .doesNotContain("namespace="));
    }

    @Test
    void stalledJobAlertWantsAJobRunningTheWholeWindowWithoutProgress() {
        String expr = AlertRules.render(Map.of("metrics.prometheusRule.jobStalledFor", "20m"))
                .exprByAlert()
                .get("BlockpullJobStalled");

        assertThat(expr)
                .contains("min_over_time(blockpull_job_status{status=\"running\"")
                .contains("offset 20m == 1")
                .contains("changes(blockpull_job_offset_bytes{")
                .contains("[20m]) == 0");
    }

    @Test
    void alertMetricNamesLeaveOutFunctionsLabelsRangesAndKeywords() {
        assertThat(AlertRules.metricNames("sum by (node) (rate(a_total{x=\"b_c\"}[5m])) > 0 and ignoring (status) "
                        + "(c offset 15m == 1) / on(pod) group_left d_bytes"))
                .containsExactlyInAnyOrder("a_total", "c", "d_bytes");
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** The pod spec of whichever workload the mode renders. */
    static PodSpec pod(Rendered r) {
        List<HasMetadata> workloads = r.objects().stream()
                .filter(o -> o instanceof Deployment || o instanceof DaemonSet)
                .toList();
        assertThat(workloads).hasSize(1);
        return workloads.get(0) instanceof Deployment d
                ? d.getSpec().getTemplate().getSpec()
                : ((DaemonSet) workloads.get(0)).getSpec().getTemplate().getSpec();
    }

    static io.fabric8.kubernetes.api.model.Container container(Rendered r) {
        return pod(r).getContainers().get(0);
    }

    static List<String> serviceNames(Rendered r) {
        return r.objects().stream()
                .filter(Service.class::isInstance)
                .map(o -> o.getMetadata().getName())
                .toList();
    }

    static void assertNbdExposed(Rendered r) {
        Service nbd = r.objects().stream()
                .filter(Service.class::isInstance)
                .map(Service.class::cast)
                .filter(s -> s.getMetadata().getName().equals(FULLNAME + "-nbd"))
                .findFirst()
                .orElseThrow();
        Service http = r.objects().stream()
                .filter(Service.class::isInstance)
                .map(Service.class::cast)
                .filter(s -> s.getMetadata().getName().equals(FULLNAME))
                .findFirst()
                .orElseThrow();

        assertThat(nbd.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getName()).isEqualTo("nbd");
            assertThat(p.getPort()).isEqualTo(10809);
            assertThat(p.getTargetPort().getStrVal()).isEqualTo("nbd");
        });
        assertThat(nbd.getSpec().getSelector()).isEqualTo(http.getSpec().getSelector());
        assertThat(container(r).getPorts())
                .extracting(ContainerPort::getName, ContainerPort::getContainerPort)
                .contains(org.assertj.core.groups.Tuple.tuple("nbd", 10809));
    }

    static String port(NetworkPolicyIngressRule rule) {
        assertThat(rule.getPorts()).hasSize(1);
        return rule.getPorts().get(0).getPort().getStrVal();
    }
}
