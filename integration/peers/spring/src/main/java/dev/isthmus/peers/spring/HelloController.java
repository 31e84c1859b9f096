package dev.isthmus.peers.spring;

import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Profile;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** The provider's only business endpoint: says who served the call, so the drill can count sides. */
@RestController
@Profile("provider")
public class HelloController {
  private final String instance;
  private final String side;

  public HelloController(@Value("${peer.instance}") String instance, @Value("${peer.side}") String side) {
    this.instance = instance;
    this.side = side;
  }

  @GetMapping("/hello")
  public Map<String, String> hello() {
    return Map.of("instance", instance, "side", side);
  }
}
