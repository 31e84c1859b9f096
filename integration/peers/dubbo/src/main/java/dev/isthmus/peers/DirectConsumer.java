package dev.isthmus.peers;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;

/**
 * A Dubbo 3 consumer with no registry, for a "pod" that knows only Kubernetes: its endpoints
 * arrive on stdin, one line per change, `targets ip:port,ip:port` (the ready endpoints of the
 * Service's EndpointSlices, as a node agent would program them), and it calls them round-robin
 * with one direct reference (`url=dubbo://ip:port`) per endpoint. A reference whose endpoint left
 * the list is destroyed between calls, so no call is cut. An endpoint whose provider announced
 * its shutdown is skipped until the list drops it (see the loop). Options: --rate, --app, --version,
 * --group, --timeout (ms). Calls start once the first list has arrived. Prints the same JSON lines as {@link Consumer}, plus the target.
 */
public final class DirectConsumer {
    private static volatile List<String> targets = List.of();

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        double rate = Double.parseDouble(a.get("rate", "5"));
        int timeout = a.getInt("timeout", 3000);
        String version = a.get("version", "");
        String group = a.get("group", "");

        ApplicationConfig app = new ApplicationConfig(a.get("app", "isthmus-peer-direct-consumer"));
        app.setQosEnable(false);
        DubboBootstrap.getInstance().application(app).start();

        // Like a pod that is not started before its configuration is there: no call is made
        // before the first endpoint list arrives.
        CountDownLatch programmed = new CountDownLatch(1);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (!line.startsWith("targets")) continue;
                    List<String> next = new ArrayList<>();
                    for (String t : line.substring("targets".length()).trim().split(",")) if (!t.isBlank()) next.add(t.trim());
                    targets = List.copyOf(next);
                    programmed.countDown();
                }
            } catch (Exception e) {
                // stdin closed: keep the last endpoints, as a node keeps its rules.
            }
        }, "targets-reader");
        reader.setDaemon(true);
        reader.start();
        programmed.await();
        System.out.println("{\"event\":\"started\",\"mode\":\"direct\"}");
        System.out.flush();

        Map<String, ReferenceConfig<Greeter>> refs = new HashMap<>();
        long intervalNanos = (long) (1_000_000_000L / Math.max(rate, 0.001));
        long next = System.nanoTime();
        long rr = 0;
        for (int i = 1; ; i++) {
            List<String> now = targets;
            for (var it = refs.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                if (!now.contains(e.getKey())) {
                    e.getValue().destroy();
                    it.remove();
                }
            }
            long start = System.nanoTime();
            String line;
            if (now.isEmpty()) {
                line = "{\"event\":\"call\",\"seq\":" + i + ",\"ok\":false,\"error\":\"no ready endpoints\",\"ms\":0}";
            } else {
                // Round-robin, skipping an endpoint whose provider announced its shutdown (Dubbo's
                // READONLY event marks its invoker unavailable) while the endpoint list has not
                // caught up yet: what Dubbo's own cluster does among the URLs of one reference
                // (cluster.availablecheck). If every endpoint is unavailable, the call is made anyway.
                String target = now.get((int) (rr % now.size()));
                for (int k = 0; k < now.size(); k++) {
                    String candidate = now.get((int) ((rr + k) % now.size()));
                    ReferenceConfig<Greeter> existing = refs.get(candidate);
                    if (existing == null || existing.getInvoker() == null || existing.getInvoker().isAvailable()) {
                        target = candidate;
                        rr += k;
                        break;
                    }
                }
                rr++;
                try {
                    ReferenceConfig<Greeter> ref = refs.computeIfAbsent(target, t -> reference(t, timeout, version, group));
                    String reply = ref.get().greet("call-" + i);
                    line = "{\"event\":\"call\",\"seq\":" + i + ",\"ok\":true,\"target\":" + Args.json(target) + ",\"reply\":" + Args.json(reply) + ",\"ms\":" + (System.nanoTime() - start) / 1_000_000 + "}";
                } catch (RuntimeException e) {
                    String msg = String.valueOf(e.getMessage());
                    line = "{\"event\":\"call\",\"seq\":" + i + ",\"ok\":false,\"target\":" + Args.json(target) + ",\"error\":" + Args.json(msg.length() > 300 ? msg.substring(0, 300) : msg) + ",\"ms\":" + (System.nanoTime() - start) / 1_000_000 + "}";
                }
            }
            System.out.println(line);
            System.out.flush();
            next += intervalNanos;
            long sleep = next - System.nanoTime();
            if (sleep > 0) Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
        }
    }

    private static ReferenceConfig<Greeter> reference(String target, int timeout, String version, String group) {
        ReferenceConfig<Greeter> ref = new ReferenceConfig<>();
        ref.setInterface(Greeter.class);
        ref.setUrl("dubbo://" + target);
        ref.setCheck(false);
        ref.setTimeout(timeout);
        ref.setRetries(0);
        ref.setClient(LoopbackTransporter.NAME);
        if (!version.isEmpty()) ref.setVersion(version);
        if (!group.isEmpty()) ref.setGroup(group);
        return ref;
    }
}
