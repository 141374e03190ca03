package dev.blockpull;

import dev.blockpull.ops.OptimizingCompilerPolicy;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

@SpringBootApplication
@ConfigurationPropertiesScan
public class BlockpullApplication {

    public static void main(String[] args) {
        SpringApplication application = new SpringApplication(BlockpullApplication.class);
        application.addListeners(new OptimizingCompilerPolicy());
        application.run(args);
    }
}
