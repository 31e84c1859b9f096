package com.alipay.hessian.clhm;

/** See ConcurrentLinkedHashMap: the listener type Nacos passes to the builder. */
public interface EvictionListener<K, V> {
    void onEviction(K key, V value);
}
