package dev.isthmus.peers.spring;

import com.netflix.discovery.EurekaClient;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Profile;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * DeregisterFirst for Eureka, which it cannot handle: Spring Cloud Netflix's auto-registration is
 * not an {@code AbstractAutoServiceRegistration}, and stopping it only marks the instance DOWN;
 * the lease is cancelled when the EurekaClient bean is destroyed, after the web server has
 * stopped. So on {@code ContextClosedEvent} this shuts the client down first (heartbeats stop,
 * then the lease is cancelled with a DELETE, so no renewal can re-register it), then keeps
 * serving for {@code peer.drain-ms} while consumers' 1 s registry fetches catch up. A heartbeat
 * already in flight can still reach the server after the DELETE, get a 404 and re-register; by
 * then the client has set the instance DOWN, so callers (which keep UP instances only) ignore it
 * until that lease expires.
 */
@Component
@Profile("provider & eureka")
public class EurekaDeregisterFirst {
  private static final Log LOG = LogFactory.getLog(EurekaDeregisterFirst.class);
  private final ApplicationContext context;
  private final ObjectProvider<EurekaClient> clients;
  private final long drainMs;

  public EurekaDeregisterFirst(ApplicationContext context, ObjectProvider<EurekaClient> clients, @Value("${peer.drain-ms}") long drainMs) {
    this.context = context;
    this.clients = clients;
    this.drainMs = drainMs;
  }

  @EventListener
  public void onClose(ContextClosedEvent event) throws InterruptedException {
    // Child contexts (e.g. per-service LoadBalancer contexts) publish their own close events here.
    if (event.getApplicationContext() != context) return;
    EurekaClient client = clients.getIfAvailable();
    if (client == null) return;
    client.shutdown();
    LOG.warn("cancelled the Eureka lease; draining for " + drainMs + " ms before shutdown");
    Thread.sleep(drainMs);
  }
}
