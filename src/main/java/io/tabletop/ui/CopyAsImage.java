package io.tabletop.ui;

import javafx.scene.Node;
import javafx.scene.SnapshotParameters;
import javafx.scene.control.ContextMenu;
import javafx.scene.control.Control;
import javafx.scene.control.MenuItem;
import javafx.scene.input.Clipboard;
import javafx.scene.input.ClipboardContent;
import javafx.scene.transform.Transform;

/** "Copy as image" on a view's context menu: the view as a PNG on the clipboard, at 2x, for a change review. */
final class CopyAsImage {
    private CopyAsImage() {
    }

    static void install(Node view) {
        MenuItem copy = new MenuItem("Copy as image");
        copy.setOnAction(e -> copy(view));
        ContextMenu menu = new ContextMenu(copy);
        if (view instanceof Control c) {
            c.setContextMenu(menu);
        } else {
            view.setOnContextMenuRequested(e -> menu.show(view, e.getScreenX(), e.getScreenY()));
        }
    }

    static void copy(Node view) {
        SnapshotParameters sp = new SnapshotParameters();
        sp.setTransform(Transform.scale(2, 2));
        ClipboardContent c = new ClipboardContent();
        c.putImage(view.snapshot(sp, null));
        Clipboard.getSystemClipboard().setContent(c);
    }
}
