package dev.isthmus.peers;

import java.util.HashMap;
import java.util.Map;

/** `--key=value` command-line options with defaults. */
final class Args {
    private final Map<String, String> values = new HashMap<>();

    Args(String[] argv) {
        for (String a : argv) {
            if (!a.startsWith("--")) throw new IllegalArgumentException("expected --key=value, got " + a);
            int eq = a.indexOf('=');
            if (eq < 0) values.put(a.substring(2), "true");
            else values.put(a.substring(2, eq), a.substring(eq + 1));
        }
    }

    String get(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    int getInt(String key, int fallback) {
        String v = values.get(key);
        return v == null ? fallback : Integer.parseInt(v);
    }

    static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }
}
