package lsr.opensearch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * One OpenSearch node started from jars (no distribution), for local development and tests only.
 *
 * <p>Arguments: {@code -Ekey=value} settings (as the distribution's {@code bin/opensearch} takes them).
 * System property {@code lsr.plugins}: comma-separated plugin classes (default: the five below).
 * System property {@code lsr.pidfile}: where to write this JVM's pid.
 *
 * <p>This skips what the distribution's bootstrap does: no security manager, no bootstrap checks,
 * no jar-hell check, no fatal-error handler. Production runs the real distribution.
 */
public final class LsrNode extends Node {

    static final String DEFAULT_PLUGINS = String.join(",",
        "org.opensearch.transport.Netty4Plugin",
        "org.opensearch.index.mapper.MapperExtrasPlugin",
        "org.opensearch.analysis.common.CommonAnalysisPlugin",
        "org.opensearch.painless.PainlessPlugin",
        "org.opensearch.knn.plugin.KNNPlugin");

    private LsrNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
        super(env, plugins, true);
    }

    public static void main(String[] args) throws Exception {
        Settings.Builder builder = Settings.builder();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (!arg.startsWith("-E") || eq < 3) {
                System.err.println("LsrNode: expected -Ekey=value, got: " + arg);
                System.exit(64);
            }
            builder.put(arg.substring(2, eq), arg.substring(eq + 1));
        }
        Settings settings = builder.build();
        String nodeName = settings.get("node.name", "node");

        String pidFile = System.getProperty("lsr.pidfile");
        if (pidFile != null && !pidFile.isEmpty()) {
            Path p = Paths.get(pidFile);
            Files.createDirectories(p.toAbsolutePath().getParent());
            Files.write(p, (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII));
        }

        LogConfigurator.registerErrorListener();
        Environment env = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> nodeName);
        LogConfigurator.setNodeName(nodeName);
        LogConfigurator.configure(env);

        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        for (String name : System.getProperty("lsr.plugins", DEFAULT_PLUGINS).split(",")) {
            name = name.trim();
            if (!name.isEmpty()) {
                plugins.add(Class.forName(name).asSubclass(Plugin.class));
            }
        }

        final LsrNode node;
        try {
            node = new LsrNode(env, plugins);
        } catch (Throwable t) {
            System.err.println("LsrNode: node " + nodeName + " could not be built");
            t.printStackTrace();
            System.exit(1);
            return;
        }

        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                if (!node.awaitClose(15, TimeUnit.SECONDS)) {
                    System.err.println("LsrNode: node " + nodeName + " did not close in 15 s");
                }
            } catch (IOException | InterruptedException e) {
                e.printStackTrace();
            } finally {
                closed.countDown();
            }
        }, "lsr-node-shutdown"));

        try {
            node.start();
        } catch (Throwable t) {
            System.err.println("LsrNode: node " + nodeName + " failed to start");
            t.printStackTrace();
            System.exit(1);
        }
        LogManager.getLogger(LsrNode.class).info("LsrNode: node [{}] started (from jars: no bootstrap checks, no security manager)", nodeName);
        // OpenSearch's threads are daemons: block the main thread until the shutdown hook has run.
        closed.await();
    }
}
