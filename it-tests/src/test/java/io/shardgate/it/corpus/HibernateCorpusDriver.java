package io.shardgate.it.corpus;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;
import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;
import org.hibernate.boot.MetadataSources;
import org.hibernate.boot.registry.StandardServiceRegistry;
import org.hibernate.boot.registry.StandardServiceRegistryBuilder;
import org.hibernate.resource.jdbc.spi.StatementInspector;

/**
 * Hibernate ORM on Connector/J, in the test's JVM: an entity with an IDENTITY id ({@code hb_customer}) and one with a
 * SEQUENCE id ({@code hb_order}, a MariaDB sequence), JDBC batching and ordered inserts on. A Hibernate case's lines are
 * operations, not SQL (Hibernate writes the SQL; the transcript shows every statement it prepared, then what came back):
 *
 * <pre>
 * sql: native statement             run through the session's connection
 * persist-customers ann ben         one transaction persisting a customer per name (IDENTITY ids)
 * persist-orders 3                  one transaction persisting 3 orders (SEQUENCE ids, one JDBC batch)
 * hql: select …                     a selection query, each result printed
 * hql-update: delete from …         a mutation query in a transaction, the count printed
 * validate-schema                   how hbm2ddl validate went when the SessionFactory booted
 * </pre>
 */
public final class HibernateCorpusDriver implements CorpusDriver {
    private final JdbcCorpusDriver jdbc = new JdbcCorpusDriver("connectorj", "mysql", "");
    private final Map<String, CompletableFuture<Booted>> booting = new LinkedHashMap<>();

    /** Starts booting a SessionFactory for each target at once. */
    public HibernateCorpusDriver(Target... targets) {
        for (Target t : targets) {
            booting.put(t.role(), CompletableFuture.supplyAsync(() -> boot(t)));
        }
    }

    @Override
    public String name() {
        return "hibernate";
    }

    @Override
    public String version() {
        return "Hibernate ORM " + org.hibernate.Version.getVersionString() + " on " + jdbc.version();
    }

    @Override
    public boolean supports(CorpusCase c) {
        return !c.drivers().isEmpty() && !c.usesTwoConnections();
    }

    @Override
    public Map<String, String> run(Target target, List<CorpusCase> cases) {
        Map<String, String> out = new LinkedHashMap<>();
        Booted booted;
        try {
            booted = booting.get(target.role()).join();
        } catch (RuntimeException e) {
            cases.forEach(c -> out.put(c.name(), "error: Hibernate did not boot: " + describe(e) + "\n"));
            return out;
        }
        try (SessionFactory sf = booted.factory()) {
            List<String> statements = booted.statements();
            for (CorpusCase c : cases) {
                long start = System.nanoTime();
                StringBuilder b = new StringBuilder();
                for (CorpusCase.Step step : c.steps()) {
                    statements.clear();
                    StringBuilder stepOut = new StringBuilder();
                    boolean failed = runStep(sf, booted.validation(), step.sql(), statements, stepOut);
                    if (!step.setup() || failed) {
                        b.append("A> ").append(step.sql()).append('\n');
                        statements.forEach(s -> b.append("hibernate sql: ").append(s).append('\n'));
                        b.append(stepOut);
                    }
                }
                out.put(c.name(), b.toString());
                Timing.note(name(), target, c, start);
            }
        }
        return out;
    }

    /** A booted SessionFactory, the statements its inspector records, and how schema validation went. */
    private record Booted(SessionFactory factory, List<String> statements, String validation) {}

    /**
     * Boots with {@code hbm2ddl validate} (a second boot only when validation fails). Booting Hibernate costs seconds,
     * so it starts when the driver is made, while the other drivers run their cases.
     */
    private Booted boot(Target target) {
        List<String> statements = new java.util.concurrent.CopyOnWriteArrayList<>();
        try {
            return new Booted(factory(target, "validate", statements), statements, "schema valid");
        } catch (RuntimeException e) {
            return new Booted(factory(target, "none", statements), statements, "error: " + describe(e));
        }
    }

    private SessionFactory factory(Target target, String ddl, List<String> statements) {
        StandardServiceRegistry registry = new StandardServiceRegistryBuilder()
                .applySetting("hibernate.connection.url", jdbc.url(target, "utf8mb4"))
                .applySetting("hibernate.connection.pool_size", "2")
                .applySetting("hibernate.hbm2ddl.auto", ddl)
                .applySetting("hibernate.jdbc.batch_size", "10")
                .applySetting("hibernate.order_inserts", "true")
                .applySetting("hibernate.show_sql", "false")
                .applySetting("hibernate.session_factory.statement_inspector", (StatementInspector) sql -> {
                    statements.add(sql);
                    return sql;
                })
                .build();
        try {
            return new MetadataSources(registry).addAnnotatedClass(Customer.class).addAnnotatedClass(Order.class)
                    .buildMetadata().buildSessionFactory();
        } catch (RuntimeException e) {
            StandardServiceRegistryBuilder.destroy(registry);
            throw e;
        }
    }

    private boolean runStep(SessionFactory sf, String validation, String op, List<String> statements, StringBuilder out) {
        String[] words = op.split("\\s+");
        try (Session s = sf.openSession()) {
            Transaction tx = s.beginTransaction();
            try {
                switch (words[0]) {
                    case "sql:" -> s.doWork(c -> {
                        try (Statement st = c.createStatement()) {
                            String sql = op.substring(4).strip();
                            statements.add(sql);
                            if (st.execute(sql)) {
                                try (ResultSet rs = st.getResultSet()) {
                                    while (rs.next()) {
                                        out.append("row: ").append(rs.getString(1)).append('\n');
                                    }
                                }
                            } else {
                                out.append("update count: ").append(st.getUpdateCount()).append('\n');
                            }
                        }
                    });
                    case "persist-customers" -> {
                        List<Customer> made = new ArrayList<>();
                        for (int i = 1; i < words.length; i++) {
                            Customer c = new Customer();
                            c.name = words[i];
                            c.tier = i;
                            s.persist(c);
                            made.add(c);
                        }
                        s.flush();
                        made.forEach(c -> out.append("persisted customer id=").append(c.id).append('\n'));
                    }
                    case "persist-orders" -> {
                        List<Order> made = new ArrayList<>();
                        for (int i = 1; i <= Integer.parseInt(words[1]); i++) {
                            Order o = new Order();
                            o.customerId = (long) i;
                            o.total = new BigDecimal(i).multiply(new BigDecimal("1.50"));
                            o.placed = LocalDateTime.of(2024, 5, i, 10, 0, 0, 123_456_000);
                            s.persist(o);
                            made.add(o);
                        }
                        s.flush();
                        made.forEach(o -> out.append("persisted order id=").append(o.id).append('\n'));
                    }
                    case "hql:" -> {
                        for (Object r : s.createSelectionQuery(op.substring(4).strip(), Object.class).getResultList()) {
                            out.append("row: ").append(r instanceof Object[] a ? Arrays.toString(a) : String.valueOf(r)).append('\n');
                        }
                    }
                    case "hql-update:" -> {
                        int count = s.createMutationQuery(op.substring(11).strip()).executeUpdate();
                        out.append("update count: ").append(count).append('\n');
                    }
                    case "validate-schema" -> out.append(validation).append('\n');
                    default -> throw new IllegalArgumentException("unknown Hibernate corpus operation: " + op);
                }
                tx.commit();
                return false;
            } catch (RuntimeException e) {
                if (tx.isActive()) {
                    tx.rollback();
                }
                out.append("error: ").append(describe(e)).append('\n');
                return true;
            }
        }
    }

    /** The exception chain on one line, with the SQL error code and state where there is one. */
    private static String describe(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            b.append(b.isEmpty() ? "" : " <- ").append(t.getClass().getSimpleName());
            if (t instanceof SQLException sql) {
                b.append('[').append(sql.getErrorCode()).append(' ').append(sql.getSQLState()).append(']');
            }
            b.append(": ").append(Transcripts.oneLine(t.getMessage()));
        }
        return b.toString();
    }

    /** IDENTITY ids: the server (or the proxy's cluster sequence) generates them at INSERT. */
    @Entity(name = "Customer")
    @Table(name = "hb_customer")
    public static class Customer {
        @Id
        @GeneratedValue(strategy = GenerationType.IDENTITY)
        Long id;

        @Column(length = 64)
        String name;

        Integer tier;
    }

    /** SEQUENCE ids: Hibernate asks the sequence for a block of 50 and numbers the rows itself. */
    @Entity(name = "HbOrder")
    @Table(name = "hb_order")
    public static class Order {
        @Id
        @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "hb_order_seq")
        @SequenceGenerator(name = "hb_order_seq", sequenceName = "hb_order_seq", allocationSize = 50)
        Long id;

        @Column(name = "customer_id")
        Long customerId;

        @Column(precision = 10, scale = 2)
        BigDecimal total;

        @Column(columnDefinition = "DATETIME(6)")
        LocalDateTime placed;
    }
}
