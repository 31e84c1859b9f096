package isthmus.it;

import com.alibaba.nacos.NacosServerBasicApplication;
import com.alibaba.nacos.NacosServerWebApplication;
import com.alibaba.nacos.core.listener.startup.NacosStartUp;
import com.alibaba.nacos.core.listener.startup.NacosStartUpManager;
import com.alibaba.nacos.sys.env.DeploymentType;
import com.alibaba.nacos.sys.env.EnvUtil;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts Nacos 3.x as "server" only (no 8080 console, no MCP registry). The republished jars do
 * not include nacos-bootstrap, whose NacosBootstrap does the same phase dance, so we do it here:
 * the startup manager must be told which phase is starting before each Spring context boots,
 * because Nacos' environment post-processors read the current phase.
 */
public final class NacosTestServer {
    private NacosTestServer() {}

    public static void main(String[] args) {
        System.setProperty("nacos.standalone", "true");
        System.setProperty("nacos.deployment.type", DeploymentType.SERVER.getTypeName());
        EnvUtil.setDeploymentType(DeploymentType.SERVER);

        NacosStartUpManager.start(NacosStartUp.CORE_START_UP_PHASE);
        ConfigurableApplicationContext core = new SpringApplicationBuilder(NacosServerBasicApplication.class)
                .web(WebApplicationType.NONE)
                .initializers(NacosTestServer::loopbackOnly)
                .run(args);

        NacosStartUpManager.start(NacosStartUp.WEB_START_UP_PHASE);
        new SpringApplicationBuilder(NacosServerWebApplication.class)
                .parent(core)
                .initializers(NacosTestServer::loopbackOnly)
                .run(args);
    }

    private static void loopbackOnly(ConfigurableApplicationContext context) {
        context.getBeanFactory().addBeanPostProcessor(new LoopbackUdpRebinder());
    }
}
