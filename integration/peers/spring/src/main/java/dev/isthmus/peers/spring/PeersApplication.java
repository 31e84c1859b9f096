package dev.isthmus.peers.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * One application, two roles (profile {@code provider} or {@code consumer}) and three discovery
 * frameworks (profile {@code consul}, {@code nacos} or {@code eureka}); profile {@code pod} runs a
 * provider that talks to no registry at all, because in Kubernetes its address is published by
 * EndpointSlices.
 */
@SpringBootApplication
public class PeersApplication {
  public static void main(String[] args) {
    SpringApplication.run(PeersApplication.class, args);
  }
}
