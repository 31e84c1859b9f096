package dev.isthmus.peers.spring;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.cloud.client.serviceregistry.AbstractAutoServiceRegistration;
import org.springframework.context.annotation.Profile;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Out of the box, Spring Cloud deregisters in a {@code @PreDestroy} callback, which runs after
 * Boot's graceful shutdown has already closed the listening socket: for a moment the registry
 * still hands out an address that refuses connections, and callers see failed calls. The fix a
 * team would make: on {@code ContextClosedEvent} (published before any lifecycle bean stops)
 * deregister, then keep serving for {@code peer.drain-ms} so that every caller's view (registry
 * propagation, Isthmus export, the LoadBalancer instance cache) drops this instance first. The
 * framework's own {@code @PreDestroy} deregistration then finds nothing left to do.
 */
@Component
@Profile("provider")
public class DeregisterFirst {
  private static final Log LOG = LogFactory.getLog(DeregisterFirst.class);
  private final ObjectProvider<AbstractAutoServiceRegistration<?>> registrations;
  private final long drainMs;

  public DeregisterFirst(ObjectProvider<AbstractAutoServiceRegistration<?>> registrations, @Value("${peer.drain-ms}") long drainMs) {
    this.registrations = registrations;
    this.drainMs = drainMs;
  }

  @EventListener
  public void onClose(ContextClosedEvent event) throws InterruptedException {
    boolean registered = false;
    for (AbstractAutoServiceRegistration<?> registration : registrations) {
      registered = true;
      registration.stop();
    }
    if (!registered) return;
    LOG.warn("deregistered; draining for " + drainMs + " ms before shutdown");
    Thread.sleep(drainMs);
  }
}
