package dev.isthmus.peers;

import java.util.concurrent.CountDownLatch;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.ServiceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;

/**
 * A Dubbo 3 provider of {@link Greeter}. Options: --id (answered in every reply), --zk
 * (host:port, or "none" to register nowhere: a provider reachable only through Kubernetes),
 * --port, --protocol (dubbo only: our loopback server is for it), --host (registered and bound
 * address), --app, --version, --group, --register-mode (interface|instance|all), --shutdown-wait
 * (ms, dubbo.service.shutdown.wait), --warmup (ms, the service's warmup; Dubbo's default is 10
 * min), --weight (written explicitly into the provider URL; unset, Dubbo writes none and
 * consumers assume 100). Prints one JSON line when serving.
 */
public final class Provider {
    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String id = a.get("id", "provider-1");
        String zk = a.get("zk", "127.0.0.1:2181");
        String protocol = a.get("protocol", "dubbo");
        int port = a.getInt("port", 20880);
        String host = a.get("host", "auto");
        // How long Dubbo's shutdown hook waits for in-flight calls after unregistering (Dubbo's
        // default is 10 s); the drill passes its drain window.
        String shutdownWait = a.get("shutdown-wait", "");
        if (!shutdownWait.isEmpty()) System.setProperty("dubbo.service.shutdown.wait", shutdownWait);

        ApplicationConfig app = new ApplicationConfig(a.get("app", "isthmus-peer-provider"));
        app.setQosEnable(false);
        app.setRegisterMode(a.get("register-mode", "all"));
        app.setMetadataType(a.get("metadata-type", "local"));

        RegistryConfig registry = new RegistryConfig("none".equals(zk) ? RegistryConfig.NO_AVAILABLE : "zookeeper://" + zk);

        ProtocolConfig proto = new ProtocolConfig(protocol, port);
        // Dubbo refuses to bind loopback (it would bind every interface instead); our transporter
        // binds 127.0.0.1 only. The address registered stays Dubbo's own choice of host address.
        proto.setServer(LoopbackTransporter.NAME);
        if (!"auto".equals(host)) proto.setHost(host);

        ServiceConfig<Greeter> service = new ServiceConfig<>();
        service.setInterface(Greeter.class);
        service.setRef(new GreeterImpl(id));
        String version = a.get("version", "");
        String group = a.get("group", "");
        if (!version.isEmpty()) service.setVersion(version);
        if (!group.isEmpty()) service.setGroup(group);
        // Consumers scale a provider's weight by its uptime until `warmup` has passed; the drill's
        // "VMs" are a minute old where production ones are days old, so it shortens the warmup
        // to keep their registered weight what a migration split is computed against.
        int warmup = a.getInt("warmup", -1);
        if (warmup >= 0) service.setWarmup(warmup);
        // An explicit `weight` in the URL, even the default 100: a Dubbo 3 consumer's `random`
        // load balancing weighs only when the first provider URL of its list names a weight (the
        // `timestamp` that would also do is stripped by its ZooKeeper registry), see
        // integration/drill/README.md, "Dubbo and the split".
        int weight = a.getInt("weight", -1);
        if (weight >= 0) service.setWeight(weight);

        DubboBootstrap.getInstance()
                .application(app)
                .registry(registry)
                .protocol(proto)
                .service(service)
                .start();
        System.out.println("{\"event\":\"ready\",\"id\":" + Args.json(id) + ",\"host\":" + Args.json(host)
                + ",\"port\":" + port + ",\"protocol\":" + Args.json(protocol) + "}");
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
