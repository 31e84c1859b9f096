package dev.isthmus.peers;

import java.net.InetSocketAddress;
import org.apache.dubbo.common.URL;
import org.apache.dubbo.remoting.ChannelHandler;
import org.apache.dubbo.remoting.Client;
import org.apache.dubbo.remoting.RemotingException;
import org.apache.dubbo.remoting.RemotingServer;
import org.apache.dubbo.remoting.Transporter;
import org.apache.dubbo.remoting.transport.netty4.NettyClient;
import org.apache.dubbo.remoting.transport.netty4.NettyServer;

/**
 * Netty transport for loopback-only test machines. Dubbo treats any 127.x address as "invalid":
 * a server asked to bind one binds 0.0.0.0, and a client given a 127.x provider address dials the
 * host's first interface address instead. Our server binds 127.0.0.1 (or the --host given) and our client dials
 * exactly the registered address; everything else is stock Dubbo netty4.
 */
public final class LoopbackTransporter implements Transporter {
    public static final String NAME = "loopback";

    @Override
    public RemotingServer bind(URL url, ChannelHandler handler) throws RemotingException {
        return new NettyServer(url, handler) {
            @Override
            public InetSocketAddress getBindAddress() {
                // An explicit --host (e.g. the drill's 198.18.x.y on lo) is bound as given; without
                // one Dubbo asks for every interface ("anyhost"), which we narrow to loopback.
                String ip = getUrl().getParameter("bind.ip", "");
                if (getUrl().getParameter("anyhost", false) || ip.isEmpty() || "0.0.0.0".equals(ip)) ip = "127.0.0.1";
                return new InetSocketAddress(ip, getUrl().getParameter("bind.port", getUrl().getPort()));
            }
        };
    }

    @Override
    public Client connect(URL url, ChannelHandler handler) throws RemotingException {
        return new NettyClient(url, handler) {
            @Override
            public InetSocketAddress getConnectAddress() {
                return new InetSocketAddress(getUrl().getHost(), getUrl().getPort());
            }
        };
    }
}
