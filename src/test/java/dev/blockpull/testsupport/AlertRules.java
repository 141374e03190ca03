package dev.blockpull.testsupport;

import com.marcnuri.helm.Helm;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/**
 * The alerts of the Helm chart's PrometheusRule as Helm renders them (helm-java), by alert name,
 * and the metric names their PromQL expressions select, so that a test can hold those names
 * against a real scrape of {@code /actuator/prometheus}.
 *
 * @param exprByAlert each alert's expression, in the chart's order
 */
public record AlertRules(Map<String, String> exprByAlert) {

    public static final Path CHART = Path.of("helm", "blockpull");

    private static final Set<String> KEYWORDS = Set.of(
            "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset");
    /** A name not glued to a digit, letter or dot before it (so not the {@code m} of {@code 15m}). */
    private static final Pattern NAME = Pattern.compile("(?<![\\w.:])[a-zA-Z_:][a-zA-Z0-9_:]*");

    /** Renders the chart with the PrometheusRule on, plus {@code values} (helm --set syntax). */
    public static AlertRules render(Map<String, String> values) {
        var template = new Helm(CHART)
                .template()
                .withName("bp")
                .withNamespace("storage")
                .set("metrics.prometheusRule.enabled", "true");
        values.forEach(template::set);
        Map<String, String> rules = new LinkedHashMap<>();
        for (Object doc : new Yaml().loadAll(template.call())) {
            if (doc instanceof Map<?, ?> object && "PrometheusRule".equals(object.get("kind"))) {
                for (Map<?, ?> group : list(((Map<?, ?>) object.get("spec")).get("groups"))) {
                    for (Map<?, ?> rule : list(group.get("rules"))) {
                        rules.put((String) rule.get("alert"), (String) rule.get("expr"));
                    }
                }
            }
        }
        return new AlertRules(rules);
    }

    /** Every metric name the expressions select, across all alerts. */
    public Set<String> metricNames() {
        Set<String> names = new TreeSet<>();
        exprByAlert.values().forEach(expr -> names.addAll(metricNames(expr)));
        return names;
    }

    /**
     * The metric names of one PromQL expression: what is left once strings, label matchers,
     * ranges, grouping label lists, keywords and function names are taken out.
     */
    public static Set<String> metricNames(String expr) {
        String bare = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                .replaceAll("\\{[^}]*}", "")
                .replaceAll("\\[[^]]*]", "")
                .replaceAll("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", "");
        Set<String> names = new TreeSet<>();
        Matcher m = NAME.matcher(bare);
        while (m.find()) {
            boolean function = bare.substring(m.end()).stripLeading().startsWith("(");
            if (!function && !KEYWORDS.contains(m.group())) {
                names.add(m.group());
            }
        }
        return names;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<?, ?>> list(Object value) {
        return (List<Map<?, ?>>) value;
    }
}
