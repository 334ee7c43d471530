package io.tabletop.connector;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The fields of an engine's connection form, in order. The console builds its "Add connection" dialog
 * from them; the provider turns the values back into a spec ({@link EngineProvider#specFrom}). A secret
 * field is never saved: its value only goes to the connector being opened.
 */
public record ConnectionForm(List<Field> fields) {
    public ConnectionForm {
        fields = List.copyOf(fields);
    }

    /** What kind of input a field takes. */
    public enum Kind {
        /** One line of text. */
        TEXT,
        /** HOST:PORT, comma-separated. */
        HOST_LIST,
        /** A user name. */
        USER,
        /** A file on this machine (a CA certificate). */
        FILE,
        /** A password: a masked field, never saved. */
        SECRET,
        /** One of {@link Field#choices()}. */
        CHOICE
    }

    /**
     * @param key          what {@link EngineProvider#specFrom} looks the value up by
     * @param defaultValue shown pre-filled; empty for none
     * @param hint         one line under the field (format, default port)
     * @param required     an empty value is refused
     */
    public record Field(String key, String label, Kind kind, String defaultValue, String hint, boolean required, List<String> choices) {
        public Field {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(label, "label");
            Objects.requireNonNull(kind, "kind");
            defaultValue = defaultValue == null ? "" : defaultValue;
            hint = hint == null ? "" : hint;
            choices = choices == null ? List.of() : List.copyOf(choices);
            if (kind == Kind.CHOICE && choices.isEmpty()) {
                throw new IllegalArgumentException(key + ": a choice field needs choices");
            }
        }

        public static Field of(String key, String label, Kind kind, String defaultValue, String hint, boolean required) {
            return new Field(key, label, kind, defaultValue, hint, required, List.of());
        }

        public static Field choice(String key, String label, List<String> choices, String defaultValue, String hint) {
            return new Field(key, label, Kind.CHOICE, defaultValue, hint, true, choices);
        }
    }

    /** The value of {@code key}, trimmed; empty when absent. */
    public static String value(Map<String, String> values, String key) {
        String v = values.get(key);
        return v == null ? "" : v.strip();
    }
}
