package io.shardgate.proxy.execute;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class OkInfoTest {
    @Test
    void updateCountsAreSummed() {
        assertThat(OkInfo.sum(List.of("Rows matched: 2  Changed: 1  Warnings: 0", "Rows matched: 3  Changed: 3  Warnings: 2")))
                .isEqualTo("Rows matched: 5  Changed: 4  Warnings: 2");
    }

    @Test
    void insertCountsAreSummed() {
        assertThat(OkInfo.sum(List.of("Records: 2  Duplicates: 1  Warnings: 0", "Records: 4  Duplicates: 0  Warnings: 0")))
                .isEqualTo("Records: 6  Duplicates: 1  Warnings: 0");
    }

    /** A shard without a text (a single-row INSERT) or with another one: the sum is unknown, so there is no text. */
    @Test
    void mixedTextsGiveNone() {
        assertThat(OkInfo.sum(List.of("Records: 2  Duplicates: 0  Warnings: 0", ""))).isEmpty();
        assertThat(OkInfo.sum(List.of("", "Records: 2  Duplicates: 0  Warnings: 0"))).isEmpty();
        assertThat(OkInfo.sum(List.of("Records: 2  Duplicates: 0  Warnings: 0", "Rows matched: 1  Changed: 1  Warnings: 0"))).isEmpty();
        assertThat(OkInfo.sum(List.of("", ""))).isEmpty();
    }
}
