package isthmus.it;

import com.alibaba.nacos.naming.remote.udp.UdpConnector;
import java.lang.reflect.Field;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.config.BeanPostProcessor;

/**
 * Nacos' UdpConnector (UDP push to v1 clients) opens {@code new DatagramSocket()}, i.e. an
 * ephemeral port on every interface, with no setting to change it. Test servers must stay on
 * loopback, so once the bean exists its socket is swapped for one bound to
 * {@code isthmus.bindHost}. The receiver thread re-reads the field on every loop, and closing the
 * old socket only makes its pending receive() fail once, which Nacos logs and retries.
 */
final class LoopbackUdpRebinder implements BeanPostProcessor {
    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) throws BeansException {
        if (bean instanceof UdpConnector connector) {
            try {
                rebind(connector);
            } catch (ReflectiveOperationException | java.io.IOException e) {
                throw new IllegalStateException("could not move Nacos' UDP push socket to loopback", e);
            }
        }
        return bean;
    }

    private static void rebind(UdpConnector connector) throws ReflectiveOperationException, java.io.IOException {
        Field field = UdpConnector.class.getDeclaredField("udpSocket");
        field.setAccessible(true);
        DatagramSocket old = (DatagramSocket) field.get(connector);
        String host = System.getProperty("isthmus.bindHost", "127.0.0.1");
        field.set(connector, new DatagramSocket(new InetSocketAddress(host, 0)));
        old.close();
    }
}
