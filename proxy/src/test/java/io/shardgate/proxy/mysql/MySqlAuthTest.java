package io.shardgate.proxy.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import com.mysql.cj.protocol.Security;
import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Our scrambles must be exactly what Connector/J computes for the same password and nonce. */
class MySqlAuthTest {
    private static final List<String> PASSWORDS = List.of("app", "s3cr3t!", "pässwörd ✓", "x".repeat(100));

    @Test
    void noncesArePrintableAndFresh() {
        byte[] a = MySqlAuth.nonce();
        byte[] b = MySqlAuth.nonce();
        assertThat(a).hasSize(20).isNotEqualTo(b);
        for (byte x : a) {
            assertThat(x).isBetween((byte) 0x21, (byte) 0x7E);
        }
    }

    @Test
    void nativeScrambleMatchesConnectorJ() {
        for (int i = 0; i < 5; i++) {
            byte[] nonce = MySqlAuth.nonce();
            for (String password : PASSWORDS) {
                byte[] theirs = Security.scramble411(password.getBytes(StandardCharsets.UTF_8), nonce);
                assertThat(MySqlAuth.nativeScramble(password, nonce)).isEqualTo(theirs);
                assertThat(MySqlAuth.verify(MySqlAuth.NATIVE, password, nonce, theirs)).isTrue();
            }
        }
    }

    @Test
    void cachingSha2ScrambleMatchesConnectorJ() throws DigestException {
        for (int i = 0; i < 5; i++) {
            byte[] nonce = MySqlAuth.nonce();
            for (String password : PASSWORDS) {
                byte[] theirs = Security.scrambleCachingSha2(password.getBytes(StandardCharsets.UTF_8), nonce);
                assertThat(MySqlAuth.sha2Scramble(password, nonce)).isEqualTo(theirs);
                assertThat(MySqlAuth.verify(MySqlAuth.CACHING_SHA2, password, nonce, theirs)).isTrue();
            }
        }
    }

    @Test
    void emptyPasswordIsAnEmptyAnswer() {
        byte[] nonce = MySqlAuth.nonce();
        for (String plugin : List.of(MySqlAuth.NATIVE, MySqlAuth.CACHING_SHA2)) {
            assertThat(MySqlAuth.verify(plugin, "", nonce, new byte[0])).isTrue();
            assertThat(MySqlAuth.verify(plugin, "", nonce, new byte[] {0})).isTrue();
            assertThat(MySqlAuth.verify(plugin, "", nonce, MySqlAuth.nativeScramble("x", nonce))).isFalse();
            assertThat(MySqlAuth.verify(plugin, "app", nonce, new byte[0])).isFalse();
        }
    }

    @Test
    void wrongPasswordOrNonceFails() throws DigestException {
        byte[] nonce = MySqlAuth.nonce();
        byte[] other = MySqlAuth.nonce();
        assertThat(MySqlAuth.verify(MySqlAuth.NATIVE, "app", nonce, Security.scramble411("apq".getBytes(StandardCharsets.UTF_8), nonce)))
                .isFalse();
        assertThat(MySqlAuth.verify(MySqlAuth.NATIVE, "app", nonce, Security.scramble411("app".getBytes(StandardCharsets.UTF_8), other)))
                .isFalse();
        assertThat(MySqlAuth.verify(MySqlAuth.CACHING_SHA2, "app", nonce,
                Security.scrambleCachingSha2("App".getBytes(StandardCharsets.UTF_8), nonce))).isFalse();
        // a native answer is not accepted as a caching_sha2 one
        assertThat(MySqlAuth.verify(MySqlAuth.CACHING_SHA2, "app", nonce, MySqlAuth.nativeScramble("app", nonce))).isFalse();
    }
}
