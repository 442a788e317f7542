package io.shardgate.proxy.pg;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The PostgreSQL authentication methods the front end offers, checked against the configured plain-text passwords:
 * {@code md5} ({@code "md5" + md5(md5(password + user) + salt)}) and {@code SCRAM-SHA-256} (RFC 5802 / 7677, no
 * channel binding). The SCRAM salt is per exchange, so nothing about a password is stored.
 */
public final class PgAuth {
    public static final String SCRAM = "scram-sha-256";
    public static final String MD5 = "md5";
    public static final String TRUST = "trust";
    public static final String SCRAM_MECHANISM = "SCRAM-SHA-256";
    static final int ITERATIONS = 4096;
    private static final SecureRandom RANDOM = new SecureRandom();

    private PgAuth() {}

    public static boolean supported(String method) {
        return SCRAM.equals(method) || MD5.equals(method) || TRUST.equals(method);
    }

    static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** Whether a PasswordMessage (zero-terminated) answers an md5 challenge for {@code user} with {@code password}. */
    static boolean verifyMd5(String user, String password, byte[] salt, byte[] message) {
        String answer = zeroTerminated(message);
        String inner = HexFormat.of().formatHex(md5(concat(password.getBytes(StandardCharsets.UTF_8), user.getBytes(StandardCharsets.UTF_8))));
        String expected = "md5" + HexFormat.of().formatHex(md5(concat(inner.getBytes(StandardCharsets.US_ASCII), salt)));
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), answer.getBytes(StandardCharsets.UTF_8));
    }

    static String zeroTerminated(byte[] message) {
        int end = message.length;
        while (end > 0 && message[end - 1] == 0) {
            end--;
        }
        return new String(message, 0, end, StandardCharsets.UTF_8);
    }

    /**
     * One SCRAM-SHA-256 exchange on the server side: {@link #serverFirst} answers the client-first-message,
     * {@link #serverFinal} checks the client-final-message's proof and returns the server signature to send.
     */
    static final class Scram {
        private final String password;
        private final byte[] salt = random(16);
        private String clientFirstBare;
        private String serverFirst;
        private String nonce;

        Scram(String password) {
            this.password = password;
        }

        /**
         * Reads a SASLInitialResponse (mechanism, int32 length, client-first-message); returns the server-first-message,
         * or empty when the message is malformed or asks for channel binding.
         */
        Optional<byte[]> serverFirst(byte[] initialResponse) {
            int zero = indexOf(initialResponse, 0);
            if (zero < 0 || zero + 5 > initialResponse.length) {
                return Optional.empty();
            }
            String mechanism = new String(initialResponse, 0, zero, StandardCharsets.UTF_8);
            if (!SCRAM_MECHANISM.equals(mechanism)) {
                return Optional.empty();
            }
            String clientFirst = new String(initialResponse, zero + 5, initialResponse.length - zero - 5, StandardCharsets.UTF_8);
            // gs2 header: "n,," (no channel binding) or "y,," (client could but thinks the server cannot)
            if (!(clientFirst.startsWith("n,") || clientFirst.startsWith("y,"))) {
                return Optional.empty();
            }
            int second = clientFirst.indexOf(',', 2);
            if (second < 0) {
                return Optional.empty();
            }
            clientFirstBare = clientFirst.substring(second + 1);
            String clientNonce = attribute(clientFirstBare, 'r');
            if (clientNonce == null || clientNonce.isEmpty()) {
                return Optional.empty();
            }
            nonce = clientNonce + Base64.getEncoder().encodeToString(random(18));
            serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(salt) + ",i=" + ITERATIONS;
            return Optional.of(serverFirst.getBytes(StandardCharsets.UTF_8));
        }

        /** The server-final-message ({@code v=…}) when the proof is right, else empty. */
        Optional<byte[]> serverFinal(byte[] response) {
            if (serverFirst == null) {
                return Optional.empty();
            }
            String clientFinal = new String(response, StandardCharsets.UTF_8);
            int proofAt = clientFinal.lastIndexOf(",p=");
            if (proofAt < 0 || !nonce.equals(attribute(clientFinal, 'r'))) {
                return Optional.empty();
            }
            String withoutProof = clientFinal.substring(0, proofAt);
            byte[] proof;
            try {
                proof = Base64.getDecoder().decode(clientFinal.substring(proofAt + 3));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
            byte[] salted = saltedPassword(password, salt, ITERATIONS);
            byte[] clientKey = hmac(salted, "Client Key");
            byte[] storedKey = sha256(clientKey);
            String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
            byte[] signature = hmac(storedKey, authMessage);
            if (proof.length != signature.length) {
                return Optional.empty();
            }
            byte[] recovered = new byte[proof.length];
            for (int i = 0; i < proof.length; i++) {
                recovered[i] = (byte) (proof[i] ^ signature[i]);
            }
            if (!MessageDigest.isEqual(sha256(recovered), storedKey)) {
                return Optional.empty();
            }
            byte[] serverSignature = hmac(hmac(salted, "Server Key"), authMessage);
            return Optional.of(("v=" + Base64.getEncoder().encodeToString(serverSignature)).getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String attribute(String message, char name) {
        for (String part : message.split(",")) {
            if (part.length() >= 2 && part.charAt(0) == name && part.charAt(1) == '=') {
                return part.substring(2);
            }
        }
        return null;
    }

    private static int indexOf(byte[] b, int value) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == value) {
                return i;
            }
        }
        return -1;
    }

    static byte[] saltedPassword(String password, byte[] salt, int iterations) {
        try {
            SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
            return f.generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256)).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 is not available", e);
        }
    }

    static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] md5(byte[] data) {
        try {
            return MessageDigest.getInstance("MD5").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
