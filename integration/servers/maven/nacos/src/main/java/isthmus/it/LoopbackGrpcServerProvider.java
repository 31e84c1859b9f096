package isthmus.it;

import io.grpc.InsecureServerCredentials;
import io.grpc.ServerBuilder;
import io.grpc.ServerCredentials;
import io.grpc.ServerProvider;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;

/**
 * Nacos' own gRPC ports honour nacos.remote.grpc.listen.ip, but the JRaft port (main - 1000,
 * 7848 by default) is opened by sofa-jraft with {@code ServerBuilder.forPort}, which binds every
 * interface and has no address setting. Test servers must stay on loopback, so this provider wins
 * the gRPC provider lookup (higher priority than grpc-netty-shaded's 5) and binds forPort servers
 * to {@code isthmus.bindHost} (default 127.0.0.1) instead.
 */
public final class LoopbackGrpcServerProvider extends ServerProvider {
    private static String bindHost() {
        return System.getProperty("isthmus.bindHost", "127.0.0.1");
    }

    @Override
    protected boolean isAvailable() {
        return true;
    }

    @Override
    protected int priority() {
        return 9;
    }

    @Override
    protected ServerBuilder<?> builderForPort(int port) {
        return NettyServerBuilder.forAddress(new InetSocketAddress(bindHost(), port));
    }

    @Override
    protected NewServerBuilderResult newServerBuilderForPort(int port, ServerCredentials creds) {
        if (!(creds instanceof InsecureServerCredentials)) {
            return NewServerBuilderResult.error("isthmus loopback provider serves plaintext only");
        }
        return NewServerBuilderResult.serverBuilder(builderForPort(port));
    }
}
