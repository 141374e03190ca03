package dev.blockpull;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

@SpringBootApplication
@ConfigurationPropertiesScan
public class BlockpullApplication {

    public static void main(String[] args) {
        SpringApplication.run(BlockpullApplication.class, args);
    }
}
