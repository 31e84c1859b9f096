package dev.isthmus.peers;

/** The one interface our peers speak: the reply names the provider instance that served. */
public interface Greeter {
    String greet(String name);
}
