package io.tabletop.security;

import io.tabletop.cli.CliContext;
import io.tabletop.cli.TabletopCli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One command-line run in this process, with what it printed: what the secret tests search. */
final class CliRun {
    private CliRun() {
    }

    record Out(int code, String out, String err) {
    }

    static Out run(CliContext ctx, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = TabletopCli.run(ctx, args, new PrintWriter(out), new PrintWriter(err));
        return new Out(code, out.toString(), err.toString());
    }
}
