package zhibiao.neo4j;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.Transaction;
import org.neo4j.io.ByteUnit;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * Zhibiao local Neo4j: the embeddable Neo4j Community DBMS with the Bolt connector on 127.0.0.1,
 * for tests and CI (no Docker, no server tarball).
 *
 * <p>Usage: {@code java -cp CLASSPATH zhibiao.neo4j.Neo4jLauncher [--port N] [--home DIR] [--host H]}
 *
 * <ul>
 *   <li>{@code --port} / env {@code NEO4J_PORT}: Bolt port (default 7687).
 *   <li>{@code --home} (alias {@code --data}) / env {@code NEO4J_DATA}: DBMS home directory; store files go
 *       to {@code HOME/data}, Neo4j's own logs (debug.log) to {@code HOME/logs}. Required.
 *   <li>{@code --host} / env {@code NEO4J_HOST}: listen address (default 127.0.0.1).
 *   <li>env {@code NEO4J_PAGECACHE}: page cache size, e.g. {@code 256m} (default 256m).
 *   <li>env {@code NEO4J_CONF}: optional neo4j.conf-style file applied last (overrides the above).
 * </ul>
 *
 * <p>Authentication is disabled: drivers may connect with any credentials or none. On success it
 * prints {@code BOLT READY bolt://HOST:PORT} on stdout. A JVM shutdown hook (SIGTERM / SIGINT)
 * shuts the DBMS down cleanly and prints {@code NEO4J STOPPED}.
 */
public final class Neo4jLauncher {

    private Neo4jLauncher() {}

    public static void main(String[] args) throws Exception {
        String portStr = env("NEO4J_PORT", "7687");
        String home = env("NEO4J_DATA", null);
        String host = env("NEO4J_HOST", "127.0.0.1");
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String key = a;
            String val = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                key = a.substring(0, eq);
                val = a.substring(eq + 1);
            }
            switch (key) {
                case "--port":
                case "--home":
                case "--data":
                case "--host":
                    if (val == null) {
                        if (i + 1 >= args.length) {
                            die(2, "missing value for " + key);
                        }
                        val = args[++i];
                    }
                    if (key.equals("--port")) {
                        portStr = val;
                    } else if (key.equals("--host")) {
                        host = val;
                    } else {
                        home = val;
                    }
                    break;
                case "-h":
                case "--help":
                    System.out.println(
                            "usage: Neo4jLauncher [--port N] [--home DIR] [--host 127.0.0.1]  (env NEO4J_PORT, NEO4J_DATA, NEO4J_HOST, NEO4J_PAGECACHE, NEO4J_CONF)");
                    return;
                default:
                    die(2, "unknown argument: " + a);
            }
        }
        int port = 0;
        try {
            port = Integer.parseInt(portStr.trim());
        } catch (NumberFormatException e) {
            die(2, "invalid port: " + portStr);
        }
        if (port <= 0 || port > 65535) {
            die(2, "invalid port: " + portStr);
        }
        if (home == null || home.isBlank()) {
            die(2, "no home/data directory given (use --home DIR or env NEO4J_DATA)");
        }
        if (portInUse(host, port)) {
            die(3, "port already in use: " + host + ":" + port + " (ERR_PORT_IN_USE)");
        }

        Path homeDir = Path.of(home).toAbsolutePath().normalize();
        Files.createDirectories(homeDir);
        long pageCache = parseBytes(env("NEO4J_PAGECACHE", "256m"));

        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        long t0 = System.nanoTime();
        out.println("NEO4J STARTING home=" + homeDir + " bolt=" + host + ":" + port + " pagecache=" + pageCache);

        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(homeDir)
                .setUserLogProvider(new Log4jLogProvider(out, Level.INFO))
                // Bolt on loopback only, plain text (drivers use bolt://, not bolt+s://).
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                // Test server: any credentials (or none) are accepted.
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                // No phoning home (this machine has no internet anyway).
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // Modest memory / disk footprint: 2 cores shared with the tests.
                .setConfig(GraphDatabaseSettings.pagecache_memory, pageCache)
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "2 files")
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(32))
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.check_point_interval_time, Duration.ofMinutes(5));
        String conf = env("NEO4J_CONF", null);
        if (conf != null && !conf.isBlank()) {
            builder.loadPropertiesFromFile(Path.of(conf));
        }

        DatabaseManagementService dbms;
        try {
            dbms = builder.build();
        } catch (Throwable e) {
            System.err.println("NEO4J FAILED to start: " + e);
            e.printStackTrace();
            System.exit(1);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean shuttingDown = new AtomicBoolean(false);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            if (!shuttingDown.compareAndSet(false, true)) {
                                return;
                            }
                            out.println("NEO4J STOPPING (shutdown signal)");
                            try {
                                dbms.shutdown();
                                out.println("NEO4J STOPPED");
                            } catch (Throwable e) {
                                System.err.println("NEO4J shutdown error: " + e);
                            } finally {
                                stopped.countDown();
                            }
                        },
                        "neo4j-shutdown"));

        try {
            GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
            // Wait until the default database is available, then prove it answers a query.
            if (!db.isAvailable(Duration.ofMinutes(3).toMillis())) {
                throw new IllegalStateException("default database did not become available");
            }
            try (Transaction tx = db.beginTx()) {
                tx.execute("RETURN 1").close();
                tx.commit();
            }
            // And that the Bolt socket accepts connections.
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!portInUse(host, port)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Bolt port " + host + ":" + port + " is not listening");
                }
                Thread.sleep(100);
            }
        } catch (Throwable e) {
            System.err.println("NEO4J FAILED to become ready: " + e);
            e.printStackTrace();
            System.exit(1);
            return;
        }

        long ms = (System.nanoTime() - t0) / 1_000_000L;
        out.println("NEO4J version=" + neo4jVersion() + " started in " + ms + " ms");
        out.println("BOLT READY bolt://" + host + ":" + port);

        // Keep the JVM alive; the shutdown hook releases this when the process is signalled.
        stopped.await();
    }

    private static String neo4jVersion() {
        Package p = DatabaseManagementService.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "unknown" : v;
    }

    private static boolean portInUse(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static long parseBytes(String s) {
        String t = s.trim().toLowerCase();
        long mult = 1;
        if (t.endsWith("b")) {
            t = t.substring(0, t.length() - 1);
        }
        if (t.endsWith("k")) {
            mult = 1024L;
        } else if (t.endsWith("m")) {
            mult = 1024L * 1024L;
        } else if (t.endsWith("g")) {
            mult = 1024L * 1024L * 1024L;
        }
        if (mult != 1) {
            t = t.substring(0, t.length() - 1);
        }
        try {
            return Long.parseLong(t.trim()) * mult;
        } catch (NumberFormatException e) {
            die(2, "invalid NEO4J_PAGECACHE: " + s);
            return 0;
        }
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? dflt : v;
    }

    private static void die(int code, String msg) {
        System.err.println("NEO4J LAUNCHER ERROR: " + msg);
        System.exit(code);
    }
}
