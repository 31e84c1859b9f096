package dev.isthmus.peers.spring;

import java.util.Map;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.context.annotation.Profile;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Lets a test fail the provider's health while it keeps serving /hello, as an application whose
 * database went away would: /actuator/health answers 503 DOWN, so the registry's check turns
 * critical. Tests use it to prove health crosses registries without a single failed call.
 */
@RestController
@Profile("provider")
public class HealthSwitch implements HealthIndicator {
  private volatile boolean up = true;

  @PostMapping("/peer/health")
  public Map<String, Boolean> set(@RequestParam("up") boolean up) {
    this.up = up;
    return Map.of("up", up);
  }

  @Override
  public Health health() {
    return up ? Health.up().build() : Health.down().withDetail("peer", "switched down by a test").build();
  }
}
