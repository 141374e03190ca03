package dev.blockpull;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The floors of design.md: arrows point down only, and the lowest five floors are plain Java.
 * Floors that do not exist yet are allowed to be empty. The CLI (dev.blockpull.cli) is no floor:
 * a client beside the house that only speaks HTTP to it.
 */
@AnalyzeClasses(packages = "dev.blockpull", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTests {

    @ArchTest
    static final ArchRule lowerFloorsHaveNoSpring = noClasses()
            .that()
            .resideInAnyPackage(
                    "dev.blockpull.io..",
                    "dev.blockpull.format..",
                    "dev.blockpull.graph..",
                    "dev.blockpull.job..",
                    "dev.blockpull.stream..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("org.springframework..")
            .because("io, format, graph, job and stream are plain Java, readable and testable on their own");

    @ArchTest
    static final ArchRule arrowsPointDown = layeredArchitecture()
            .consideringOnlyDependenciesInLayers()
            .withOptionalLayers(true)
            .layer("io")
            .definedBy("dev.blockpull.io..")
            .layer("format")
            .definedBy("dev.blockpull.format..")
            .layer("graph")
            .definedBy("dev.blockpull.graph..")
            .layer("job")
            .definedBy("dev.blockpull.job..")
            .layer("stream")
            .definedBy("dev.blockpull.stream..")
            .layer("nbd")
            .definedBy("dev.blockpull.nbd..")
            .layer("ops")
            .definedBy("dev.blockpull.ops..")
            .layer("api")
            .definedBy("dev.blockpull.api..")
            .whereLayer("api")
            .mayNotBeAccessedByAnyLayer()
            .whereLayer("ops")
            .mayOnlyBeAccessedByLayers("api")
            .whereLayer("nbd")
            .mayOnlyBeAccessedByLayers("ops", "api")
            .whereLayer("stream")
            .mayOnlyBeAccessedByLayers("nbd", "ops", "api")
            .whereLayer("job")
            .mayOnlyBeAccessedByLayers("stream", "nbd", "ops", "api")
            .whereLayer("graph")
            .mayOnlyBeAccessedByLayers("job", "stream", "nbd", "ops", "api")
            .whereLayer("format")
            .mayOnlyBeAccessedByLayers("graph", "job", "stream", "nbd", "ops", "api")
            .whereLayer("io")
            .mayOnlyBeAccessedByLayers("format", "graph", "job", "stream", "nbd", "ops", "api");

    @ArchTest
    static final ArchRule theCliStandsAlone = noClasses()
            .that()
            .resideInAPackage("dev.blockpull.cli..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "org.springframework..",
                    "jakarta..",
                    "io.micrometer..",
                    "dev.blockpull.io..",
                    "dev.blockpull.format..",
                    "dev.blockpull.graph..",
                    "dev.blockpull.job..",
                    "dev.blockpull.stream..",
                    "dev.blockpull.nbd..",
                    "dev.blockpull.ops..",
                    "dev.blockpull.api..")
            .because("the blockpull CLI is a small jar of its own that talks to the service over HTTP only");

    @ArchTest
    static final ArchRule theServiceDoesNotUseTheCli = noClasses()
            .that()
            .resideOutsideOfPackage("dev.blockpull.cli..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("dev.blockpull.cli..", "picocli..")
            .because("picocli is left out of the service's jar");
}
