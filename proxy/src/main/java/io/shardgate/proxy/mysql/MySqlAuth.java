package io.shardgate.proxy.mysql;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * Verifies the two password scrambles MySQL clients send. The proxy knows each user's password
 * (conf/shardgate.yaml), so it can recompute what a client holding that password must send:
 * <ul>
 *   <li>{@code mysql_native_password}: SHA1(pw) XOR SHA1(nonce ‖ SHA1(SHA1(pw)));</li>
 *   <li>{@code caching_sha2_password}: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) ‖ nonce), the
 *       "fast auth" path, so no TLS or RSA key exchange is ever needed.</li>
 * </ul>
 * An empty password is an empty answer in both.
 */
public final class MySqlAuth {
    public static final String NATIVE = "mysql_native_password";
    public static final String CACHING_SHA2 = "caching_sha2_password";
    public static final int NONCE_LENGTH = 20;
    private static final SecureRandom RANDOM = new SecureRandom();

    private MySqlAuth() {}

    /** 20 printable ASCII bytes (never NUL, which would cut the scramble short on the wire). */
    public static byte[] nonce() {
        byte[] b = new byte[NONCE_LENGTH];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (0x21 + RANDOM.nextInt(0x7E - 0x21));
        }
        return b;
    }

    public static boolean supported(String plugin) {
        return NATIVE.equals(plugin) || CACHING_SHA2.equals(plugin);
    }

    public static boolean verify(String plugin, String password, byte[] nonce, byte[] response) {
        if (password.isEmpty()) {
            return response.length == 0 || (response.length == 1 && response[0] == 0);
        }
        byte[] expected = switch (plugin) {
            case NATIVE -> nativeScramble(password, nonce);
            case CACHING_SHA2 -> sha2Scramble(password, nonce);
            default -> throw new IllegalArgumentException("unsupported auth plugin " + plugin);
        };
        return MessageDigest.isEqual(expected, response);
    }

    public static byte[] nativeScramble(String password, byte[] nonce) {
        byte[] stage1 = digest("SHA-1", password.getBytes(StandardCharsets.UTF_8));
        byte[] stage2 = digest("SHA-1", stage1);
        byte[] mix = digest("SHA-1", nonce, stage2);
        return xor(stage1, mix);
    }

    static byte[] sha2Scramble(String password, byte[] nonce) {
        byte[] stage1 = digest("SHA-256", password.getBytes(StandardCharsets.UTF_8));
        byte[] stage2 = digest("SHA-256", stage1);
        byte[] mix = digest("SHA-256", stage2, nonce);
        return xor(stage1, mix);
    }

    private static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    private static byte[] digest(String algorithm, byte[]... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance(algorithm);
            for (byte[] p : parts) {
                md.update(p);
            }
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is missing from this JDK", e);
        }
    }
}
