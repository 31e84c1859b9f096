package isthmus.it;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cloud.netflix.eureka.server.EnableEurekaServer;

/**
 * A standalone Eureka server. All settings (port, bind address, timings) arrive as command-line
 * properties from the harness, so the shared server and private test servers share one build.
 */
@SpringBootApplication
@EnableEurekaServer
public class EurekaTestServer {
    public static void main(String[] args) {
        SpringApplication.run(EurekaTestServer.class, args);
    }
}
