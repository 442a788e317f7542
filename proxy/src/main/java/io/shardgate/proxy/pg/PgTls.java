package io.shardgate.proxy.pg;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.shardgate.config.ShardgateConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;

/**
 * TLS of the PostgreSQL listener: with a certificate configured, an SSLRequest is answered {@code 'S'} and the
 * connection continues inside TLS (JDK provider, TLS 1.2 and 1.3); without one it is answered {@code 'N'}, as a
 * server without {@code ssl = on} does. With {@code require}, a startup message sent without TLS is refused.
 */
public final class PgTls {
    public static final PgTls OFF = new PgTls(null, false);

    private final SslContext context;
    private final boolean require;

    private PgTls(SslContext context, boolean require) {
        this.context = context;
        this.require = require;
    }

    /**
     * Reads the certificate chain and key of {@code config}; a file that is not PEM, or a key that does not match the
     * certificate, fails here, at start-up, naming the file.
     */
    public static PgTls of(ShardgateConfig.Tls config) {
        if (!config.enabled()) {
            return OFF;
        }
        try (InputStream cert = Files.newInputStream(config.certFile()); InputStream key = Files.newInputStream(config.keyFile())) {
            SslContext context = SslContextBuilder.forServer(cert, key).protocols("TLSv1.3", "TLSv1.2").build();
            return new PgTls(context, config.require());
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("tls: cannot use certificate " + config.certFile() + " with key " + config.keyFile()
                    + " (PEM certificate chain and unencrypted PKCS#8 PEM key expected): " + e.getMessage(), e);
        }
    }

    boolean enabled() {
        return context != null;
    }

    boolean require() {
        return require;
    }

    SslHandler newHandler(ByteBufAllocator alloc) {
        return context.newHandler(alloc);
    }
}
