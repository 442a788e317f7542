package io.shardgate.local;

/** Run in a child JVM by {@link DiesWithTheJvmTest}: starts servers, reports them, then waits to be killed. */
public final class ChildServerMain {
    private ChildServerMain() {
    }

    public static void main(String[] args) throws Exception {
        LocalMariaDb db = LocalMariaDb.temporary();
        StringBuilder line = new StringBuilder("READY mariadb " + db.pid() + " " + db.port() + " " + db.baseDir());
        if (args.length > 0 && args[0].equals("with-postgres")) {
            LocalPostgres pg = LocalPostgres.temporary();
            line.append(" postgres ").append(pg.pid()).append(' ').append(pg.port()).append(' ').append(pg.baseDir());
        }
        System.out.println(line);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
