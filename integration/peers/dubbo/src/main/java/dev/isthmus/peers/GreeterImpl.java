package dev.isthmus.peers;

/** Answers with the instance id given on the command line, so tests see who served each call. */
public final class GreeterImpl implements Greeter {
    private final String instanceId;

    public GreeterImpl(String instanceId) {
        this.instanceId = instanceId;
    }

    @Override
    public String greet(String name) {
        return "hello " + name + " from " + instanceId;
    }
}
