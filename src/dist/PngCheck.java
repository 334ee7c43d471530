import java.awt.image.BufferedImage;
import java.io.File;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;

/** java src/dist/PngCheck.java FILE.png: exit 0 when the picture is a window with something drawn in it (not blank). */
public class PngCheck {
    public static void main(String[] args) throws Exception {
        BufferedImage img = ImageIO.read(new File(args[0]));
        if (img == null) {
            System.out.println(args[0] + ": not a PNG");
            System.exit(1);
        }
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) {
                colours.add(img.getRGB(x, y));
            }
        }
        System.out.println(args[0] + ": " + img.getWidth() + "x" + img.getHeight() + ", " + colours.size() + " colours");
        System.exit(img.getWidth() >= 800 && colours.size() >= 16 ? 0 : 1);
    }
}
