package com.alipay.hessian.clhm;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Stand-in for the bounded map of com.alipay.sofa:hessian, which nacos-core's
 * RpcAckCallbackSynchronizer uses for per-connection push callbacks. The pom excludes that jar
 * (it shadows caucho hessian 4), and without this class every SDK gRPC connection fails on
 * ConnectionSetup. Only the API Nacos calls exists; the capacity bound is not enforced, which a
 * short-lived test server does not need (entries are removed when a connection closes).
 */
public class ConcurrentLinkedHashMap<K, V> extends ConcurrentHashMap<K, V> {
    private static final long serialVersionUID = 1L;

    public static final class Builder<K, V> {
        public Builder<K, V> maximumWeightedCapacity(int capacity) {
            return this;
        }

        public Builder<K, V> listener(EvictionListener<K, V> listener) {
            return this;
        }

        public ConcurrentLinkedHashMap<K, V> build() {
            return new ConcurrentLinkedHashMap<>();
        }
    }
}
