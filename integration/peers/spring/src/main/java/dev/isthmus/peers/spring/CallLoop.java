package dev.isthmus.peers.spring;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.cloud.client.loadbalancer.LoadBalanced;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;
import org.springframework.http.client.SimpleClientHttpRequestFactory;
import org.springframework.web.client.RestClient;

/**
 * The consumer: calls {@code http://<peer.target>/hello} through Spring Cloud LoadBalancer at
 * {@code peer.rate} calls per second and prints one {@code CALL {json}} line per call on stdout.
 * Calls are dispatched on a pool so that one slow call does not lower the rate.
 *
 * <p>When {@code peer.stop-file} is set, the loop stops once that file exists: no new call, the
 * calls in flight finish (each ends within {@code peer.timeout-ms}), then one {@code STOPPED
 * {"calls":n}} line. The drill stops the loop this way before it stops the JVM, because a call
 * made while Spring closes its context fails for reasons that say nothing about discovery (the
 * LoadBalancer's beans are being destroyed under it).
 */
@Configuration
@Profile("consumer")
public class CallLoop {
  private final ObjectMapper json = new ObjectMapper();
  private final AtomicLong seq = new AtomicLong();

  @Bean
  @LoadBalanced
  RestClient.Builder loadBalancedRestClient(@Value("${peer.timeout-ms}") int timeoutMs) {
    SimpleClientHttpRequestFactory factory = new SimpleClientHttpRequestFactory();
    factory.setConnectTimeout(Duration.ofMillis(timeoutMs));
    factory.setReadTimeout(Duration.ofMillis(timeoutMs));
    return RestClient.builder().requestFactory(factory);
  }

  @Bean
  ApplicationRunner callRunner(
      RestClient.Builder builder,
      @Value("${peer.target}") String target,
      @Value("${peer.rate}") double rate,
      @Value("${peer.stop-file:}") String stopFile,
      @Value("${peer.timeout-ms}") int timeoutMs) {
    return (ApplicationArguments args) -> {
      RestClient client = builder.build();
      ExecutorService pool = Executors.newFixedThreadPool(16);
      ScheduledExecutorService ticker = Executors.newScheduledThreadPool(1);
      long periodMicros = Math.max(1000, Math.round(1_000_000 / rate));
      ScheduledFuture<?> calls = ticker.scheduleAtFixedRate(() -> pool.execute(() -> callOnce(client, target)), 0, periodMicros, TimeUnit.MICROSECONDS);
      if (stopFile.isEmpty()) return;
      Path stop = Path.of(stopFile);
      Thread watcher = new Thread(() -> {
        try {
          while (!Files.exists(stop)) Thread.sleep(20);
          calls.cancel(false);
          ticker.shutdown();
          // The ticker may have handed the pool one last call as it was cancelled.
          ticker.awaitTermination(timeoutMs, TimeUnit.MILLISECONDS);
          pool.shutdown();
          pool.awaitTermination(2L * timeoutMs, TimeUnit.MILLISECONDS);
          synchronized (System.out) {
            System.out.println("STOPPED {\"calls\":" + seq.get() + "}");
            System.out.flush();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "call-loop-stop");
      watcher.setDaemon(true);
      watcher.start();
    };
  }

  private void callOnce(RestClient client, String target) {
    long started = System.currentTimeMillis();
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("seq", seq.incrementAndGet());
    line.put("t", started);
    try {
      @SuppressWarnings("unchecked")
      Map<String, Object> body = client.get().uri("http://" + target + "/hello").retrieve().body(Map.class);
      line.put("ok", true);
      line.put("instance", body == null ? null : body.get("instance"));
      line.put("side", body == null ? null : body.get("side"));
    } catch (RuntimeException e) {
      line.put("ok", false);
      line.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
    }
    line.put("ms", System.currentTimeMillis() - started);
    emit(line);
  }

  private void emit(Map<String, Object> line) {
    String text;
    try {
      text = json.writeValueAsString(line);
    } catch (Exception e) {
      text = "{\"ok\":false,\"error\":\"unserialisable call record\"}";
    }
    synchronized (System.out) {
      System.out.println("CALL " + text);
      System.out.flush();
    }
  }
}
