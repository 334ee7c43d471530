package io.tabletop.ui;

import javafx.scene.image.Image;
import javafx.scene.image.ImageView;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Loads icons from the top-level {@code icons/} folder (copied into the jar), cached. */
public final class Icons {
    private static final Map<String, Image> CACHE = new ConcurrentHashMap<>();

    private Icons() {
    }

    public static Image image(String name) {
        return CACHE.computeIfAbsent(name, n -> {
            var url = Icons.class.getResource("/icons/" + n + ".png");
            if (url == null) {
                throw new IllegalArgumentException("no icon " + n);
            }
            return new Image(url.toExternalForm());
        });
    }

    /** A 16 px view of a state icon, drawn from the 2x image for sharpness on dense screens. */
    public static ImageView view(String name) {
        ImageView v = new ImageView(image(name + "@2x"));
        v.setFitWidth(16);
        v.setFitHeight(16);
        v.setSmooth(true);
        return v;
    }

    public static List<Image> appIcons() {
        return List.of(16, 24, 32, 48, 64, 128, 256, 512).stream().map(s -> image("tabletop-" + s)).toList();
    }
}
