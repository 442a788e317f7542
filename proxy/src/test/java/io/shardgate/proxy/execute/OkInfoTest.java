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

    @Test
    void aSplitInsertCountsTheRecordsOfShardsGivenOneRow() {
        var two = new io.shardgate.proxy.session.StatementResult.Update(2, 0, 0, "Records: 2  Duplicates: 0  Warnings: 0");
        var one = new io.shardgate.proxy.session.StatementResult.Update(1, 0, 1, "");
        var replaced = new io.shardgate.proxy.session.StatementResult.Update(2, 0, 0, "");
        var skipped = new io.shardgate.proxy.session.StatementResult.Update(0, 0, 1, "");
        assertThat(OkInfo.insertSum(List.of(one, two), "INSERT INTO t VALUES (1), (2), (3)"))
                .isEqualTo("Records: 3  Duplicates: 0  Warnings: 1");
        assertThat(OkInfo.insertSum(List.of(one, one), "insert into t values (1), (2)")).isEqualTo("Records: 2  Duplicates: 0  Warnings: 2");
        assertThat(OkInfo.insertSum(List.of(replaced, two), "REPLACE INTO t VALUES (1), (2), (3)"))
                .isEqualTo("Records: 3  Duplicates: 1  Warnings: 0");
        assertThat(OkInfo.insertSum(List.of(replaced, one), "INSERT INTO t VALUES (1), (2) ON DUPLICATE KEY UPDATE v = 1"))
                .isEqualTo("Records: 2  Duplicates: 1  Warnings: 1");
        assertThat(OkInfo.insertSum(List.of(skipped, one), "INSERT IGNORE INTO t VALUES (1), (2)"))
                .isEqualTo("Records: 2  Duplicates: 1  Warnings: 2");
        // a single-row part of INSERT IGNORE … ON DUPLICATE KEY UPDATE says too little: summed as before
        assertThat(OkInfo.insertSum(List.of(one, two), "INSERT IGNORE INTO t VALUES (1), (2), (3) ON DUPLICATE KEY UPDATE v = 1"))
                .isEmpty();
    }
}
