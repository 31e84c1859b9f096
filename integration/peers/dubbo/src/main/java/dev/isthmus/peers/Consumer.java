package dev.isthmus.peers;

import java.util.HashMap;
import java.util.Map;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;

/**
 * A Dubbo 3 consumer of {@link Greeter} that calls in a steady loop and prints each outcome as a
 * JSON line. Options: --zk, --mode (interface: FORCE_INTERFACE, application: FORCE_APPLICATION),
 * --rate (calls per second), --count (0 = until killed), --app, --version, --group,
 * --timeout (ms per call), --provided-by (skip the interface→application mapping lookup).
 */
public final class Consumer {
    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String mode = a.get("mode", "interface");
        String step = switch (mode) {
            case "interface" -> "FORCE_INTERFACE";
            case "application" -> "FORCE_APPLICATION";
            default -> throw new IllegalArgumentException("--mode must be interface or application");
        };
        System.setProperty("dubbo.application.service-discovery.migration", step);
        double rate = Double.parseDouble(a.get("rate", "5"));
        int count = a.getInt("count", 0);

        ApplicationConfig app = new ApplicationConfig(a.get("app", "isthmus-peer-consumer"));
        app.setQosEnable(false);
        Map<String, String> params = new HashMap<>();
        params.put("migration.step", step);
        app.setParameters(params);

        ReferenceConfig<Greeter> ref = new ReferenceConfig<>();
        ref.setInterface(Greeter.class);
        ref.setCheck(false);
        ref.setTimeout(a.getInt("timeout", 3000));
        ref.setRetries(0);
        ref.setClient(LoopbackTransporter.NAME);
        String version = a.get("version", "");
        String group = a.get("group", "");
        String providedBy = a.get("provided-by", "");
        if (!version.isEmpty()) ref.setVersion(version);
        if (!group.isEmpty()) ref.setGroup(group);
        if (!providedBy.isEmpty()) ref.setProvidedBy(providedBy);

        DubboBootstrap.getInstance()
                .application(app)
                .registry(new RegistryConfig("zookeeper://" + a.get("zk", "127.0.0.1:2181")))
                .reference(ref)
                .start();
        Greeter greeter = ref.get();
        System.out.println("{\"event\":\"started\",\"mode\":" + Args.json(mode) + "}");
        System.out.flush();

        long intervalNanos = (long) (1_000_000_000L / Math.max(rate, 0.001));
        long next = System.nanoTime();
        for (int i = 1; count == 0 || i <= count; i++) {
            long start = System.nanoTime();
            String line;
            try {
                String reply = greeter.greet("call-" + i);
                line = "{\"event\":\"call\",\"seq\":" + i + ",\"ok\":true,\"reply\":" + Args.json(reply) + ",\"ms\":" + (System.nanoTime() - start) / 1_000_000 + "}";
            } catch (RuntimeException e) {
                String msg = String.valueOf(e.getMessage());
                line = "{\"event\":\"call\",\"seq\":" + i + ",\"ok\":false,\"error\":" + Args.json(msg.length() > 300 ? msg.substring(0, 300) : msg) + ",\"ms\":" + (System.nanoTime() - start) / 1_000_000 + "}";
            }
            System.out.println(line);
            System.out.flush();
            next += intervalNanos;
            long sleep = next - System.nanoTime();
            if (sleep > 0) Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
        }
        System.exit(0);
    }
}
