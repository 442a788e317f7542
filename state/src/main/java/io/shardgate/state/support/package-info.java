/** Small helpers shared by the store implementations: listener threads and name validation. */
package io.shardgate.state.support;
