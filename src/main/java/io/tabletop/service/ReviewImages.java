package io.tabletop.service;

import io.tabletop.planner.Plan;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Renders a plan's views as PNG images for the review bundle (name → bytes). The console registers its
 * renderer at start-up, so the command line's {@code review} draws the same views as the console, off
 * screen; without one, bundles have no images.
 */
public interface ReviewImages {
    Map<String, byte[]> render(Plan plan) throws Exception;

    AtomicReference<ReviewImages> REGISTERED = new AtomicReference<>();

    static void register(ReviewImages renderer) {
        REGISTERED.set(renderer);
    }

    static Optional<ReviewImages> registered() {
        return Optional.ofNullable(REGISTERED.get());
    }
}
