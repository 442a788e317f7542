/**
 * Route plans: what the executor runs where and how it merges results. Immutable records and sealed
 * interfaces; {@link io.shardgate.router.plan.PlanPrinter} gives their deterministic text form (golden tests,
 * logs, an EXPLAIN-like command).
 */
package io.shardgate.router.plan;
