package io.shardgate.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class FreePortsTest {

    @Test
    void handsOutDistinctBindablePorts() throws Exception {
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            int port = FreePorts.find();
            assertThat(ports.add(port)).as("port %d handed out twice", port).isTrue();
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                assertThat(s.getLocalPort()).isEqualTo(port);
            }
        }
        assertThat(ports).allSatisfy(p -> assertThat(p).isBetween(1024, 65535));
    }

    @Test
    void seesWhetherAPortIsTaken() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            port = s.getLocalPort();
            assertThat(FreePorts.isFree(port)).isFalse();
            assertThat(FreePorts.awaitFree(port, Duration.ofMillis(200))).isFalse();
        }
        assertThat(FreePorts.isFree(port)).isTrue();
        assertThat(FreePorts.awaitFree(port, Duration.ofMillis(200))).isTrue();
    }
}
