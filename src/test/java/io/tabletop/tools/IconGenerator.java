package io.tabletop.tools;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.RoundRectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Draws the icons in {@code icons/} (a development tool, not a test):
 * {@code java -cp target/test-classes io.tabletop.tools.IconGenerator icons}.
 * Every state icon differs by shape as well as colour, for colour-blind readers.
 */
public final class IconGenerator {
    private static final Color GREEN = new Color(0x1a7f37);
    private static final Color AMBER = new Color(0xbf8700);
    private static final Color RED = new Color(0xcf222e);
    private static final Color BLUE = new Color(0x0969da);
    private static final Color GREY = new Color(0x6e7781);

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "icons");
        Files.createDirectories(dir);
        for (int size : new int[]{16, 24, 32, 48, 64, 128, 256, 512}) {
            write(dir.resolve("tabletop-" + size + ".png"), appIcon(size));
        }
        String[] names = {"state-live", "state-maintenance", "state-dead", "step-pending", "step-running", "step-retry",
                "step-succeeded", "step-failed", "step-cancelled", "step-skipped", "step-waiting", "step-replanned", "check-pass", "check-warn", "check-block"};
        for (String n : names) {
            write(dir.resolve(n + ".png"), stateIcon(n, 16));
            write(dir.resolve(n + "@2x.png"), stateIcon(n, 32));
        }
    }

    private static void write(Path p, BufferedImage img) throws IOException {
        ImageIO.write(img, "png", p.toFile());
    }

    private static Graphics2D g(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        return g;
    }

    /** A rounded tile with three server slabs; the lowest slides out to the right. */
    static BufferedImage appIcon(int s) {
        BufferedImage img = new BufferedImage(s, s, BufferedImage.TYPE_INT_ARGB);
        Graphics2D g = g(img);
        double u = s / 16.0;
        g.setPaint(new GradientPaint(0, 0, new Color(0x1f6feb), s, s, new Color(0x0b3d91)));
        g.fill(new RoundRectangle2D.Double(0.5 * u, 0.5 * u, 15 * u, 15 * u, 4 * u, 4 * u));
        Color slab = new Color(0xf0f6ff);
        g.setColor(slab);
        double h = 2.6 * u;
        g.fill(new RoundRectangle2D.Double(3 * u, 3 * u, 9 * u, h, u, u));
        g.fill(new RoundRectangle2D.Double(3 * u, 6.7 * u, 9 * u, h, u, u));
        g.setColor(new Color(0xffd33d));
        g.fill(new RoundRectangle2D.Double(5.2 * u, 10.4 * u, 8.3 * u, h, u, u));
        if (s >= 24) {
            g.setColor(new Color(0x2ea043));
            double r = 0.8 * u;
            g.fill(new Ellipse2D.Double(10.2 * u, 3.9 * u, r, r));
            g.fill(new Ellipse2D.Double(10.2 * u, 7.6 * u, r, r));
        }
        g.dispose();
        return img;
    }

    static BufferedImage stateIcon(String name, int s) {
        BufferedImage img = new BufferedImage(s, s, BufferedImage.TYPE_INT_ARGB);
        Graphics2D g = g(img);
        double u = s / 16.0;
        float w = (float) (1.8 * u);
        g.setStroke(new BasicStroke(w, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        switch (name) {
            case "state-live", "check-pass", "step-succeeded" -> {
                g.setColor(GREEN);
                g.fill(new Ellipse2D.Double(u, u, 14 * u, 14 * u));
                g.setColor(Color.WHITE);
                Path2D p = new Path2D.Double();
                p.moveTo(4.5 * u, 8.2 * u);
                p.lineTo(7 * u, 10.8 * u);
                p.lineTo(11.6 * u, 5.4 * u);
                g.draw(p);
            }
            case "state-maintenance", "check-warn" -> {
                g.setColor(AMBER);
                Path2D tri = new Path2D.Double();
                tri.moveTo(8 * u, 1 * u);
                tri.lineTo(15.2 * u, 14.5 * u);
                tri.lineTo(0.8 * u, 14.5 * u);
                tri.closePath();
                g.fill(tri);
                g.setColor(Color.WHITE);
                g.draw(new java.awt.geom.Line2D.Double(8 * u, 5.5 * u, 8 * u, 9.5 * u));
                g.fill(new Ellipse2D.Double(7 * u, 11 * u, 2 * u, 2 * u));
            }
            case "state-dead", "check-block", "step-failed" -> {
                g.setColor(RED);
                Path2D oct = new Path2D.Double();
                for (int i = 0; i < 8; i++) {
                    double a = Math.PI / 8 + i * Math.PI / 4;
                    double x = 8 * u + 7.2 * u * Math.cos(a);
                    double y = 8 * u + 7.2 * u * Math.sin(a);
                    if (i == 0) {
                        oct.moveTo(x, y);
                    } else {
                        oct.lineTo(x, y);
                    }
                }
                oct.closePath();
                g.fill(oct);
                g.setColor(Color.WHITE);
                g.draw(new java.awt.geom.Line2D.Double(5.3 * u, 5.3 * u, 10.7 * u, 10.7 * u));
                g.draw(new java.awt.geom.Line2D.Double(10.7 * u, 5.3 * u, 5.3 * u, 10.7 * u));
            }
            case "step-pending" -> {
                g.setColor(GREY);
                g.draw(new Ellipse2D.Double(2 * u, 2 * u, 12 * u, 12 * u));
            }
            case "step-running" -> {
                g.setColor(BLUE);
                g.fill(new Ellipse2D.Double(u, u, 14 * u, 14 * u));
                g.setColor(Color.WHITE);
                Path2D play = new Path2D.Double();
                play.moveTo(6.2 * u, 4.6 * u);
                play.lineTo(11.4 * u, 8 * u);
                play.lineTo(6.2 * u, 11.4 * u);
                play.closePath();
                g.fill(play);
            }
            case "step-retry" -> {
                g.setColor(AMBER);
                g.fill(new Ellipse2D.Double(u, u, 14 * u, 14 * u));
                g.setColor(Color.WHITE);
                g.draw(new java.awt.geom.Arc2D.Double(4.5 * u, 4.5 * u, 7 * u, 7 * u, 60, 270, java.awt.geom.Arc2D.OPEN));
            }
            case "step-waiting" -> {
                // an hourglass-free clock: an amber ring with two hands (waiting for the engine, not failing)
                g.setColor(AMBER);
                g.setStroke(new java.awt.BasicStroke((float) (1.8 * u)));
                g.draw(new Ellipse2D.Double(1.6 * u, 1.6 * u, 12.8 * u, 12.8 * u));
                g.draw(new java.awt.geom.Line2D.Double(8 * u, 8 * u, 8 * u, 4.2 * u));
                g.draw(new java.awt.geom.Line2D.Double(8 * u, 8 * u, 11 * u, 9.6 * u));
            }
            case "step-replanned" -> {
                // a grey ring with an arrow that turns aside: not run here, planned again
                g.setColor(GREY);
                g.setStroke(new java.awt.BasicStroke((float) (1.6 * u)));
                g.draw(new Ellipse2D.Double(1.4 * u, 1.4 * u, 13.2 * u, 13.2 * u));
                g.draw(new java.awt.geom.Arc2D.Double(4.6 * u, 4.6 * u, 6.8 * u, 6.8 * u, 200, -250, java.awt.geom.Arc2D.OPEN));
                Path2D head = new Path2D.Double();
                head.moveTo(9.6 * u, 3.4 * u);
                head.lineTo(12.4 * u, 5.2 * u);
                head.lineTo(9.4 * u, 6.8 * u);
                head.closePath();
                g.fill(head);
            }
            case "step-cancelled", "step-skipped" -> {
                g.setColor(GREY);
                g.fill(new Ellipse2D.Double(u, u, 14 * u, 14 * u));
                g.setColor(Color.WHITE);
                if (name.equals("step-cancelled")) {
                    g.draw(new java.awt.geom.Line2D.Double(4.5 * u, 11.5 * u, 11.5 * u, 4.5 * u));
                } else {
                    g.draw(new java.awt.geom.Line2D.Double(4.5 * u, 8 * u, 11.5 * u, 8 * u));
                }
            }
            default -> {
                g.setColor(GREY);
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, (int) (10 * u)));
                g.drawString("?", (float) (5 * u), (float) (12 * u));
            }
        }
        g.dispose();
        return img;
    }
}
