package dev.blockpull.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.BlockpullHttpTest;
import org.apache.tomcat.util.threads.ThreadPoolExecutor;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;

/**
 * Requests run on a small bounded pool: on a few CPUs more request threads only preempt one
 * another (bench/load.sh), and long polls and event streams are asynchronous, holding none.
 */
@BlockpullHttpTest
class RequestThreadsTests {

    @Autowired
    WebServerApplicationContext context;

    @Test
    void requestsRunOnAtMostSixteenThreads() {
        TomcatWebServer server = (TomcatWebServer) context.getWebServer();
        Object executor = server.getTomcat().getConnector().getProtocolHandler().getExecutor();

        assertThat(executor)
                .isInstanceOfSatisfying(
                        ThreadPoolExecutor.class,
                        pool -> assertThat(pool.getMaximumPoolSize()).isEqualTo(16));
    }
}
