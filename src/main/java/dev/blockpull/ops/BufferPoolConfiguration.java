package dev.blockpull.ops;

import dev.blockpull.io.BufferPool;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The process's I/O buffer pool: its bound from {@code blockpull.io.buffer-pool-size}, and its
 * figures as metrics, so that an operator sees the direct memory that I/O keeps and whether
 * buffers are still being made (in a steady state {@code created} stops growing).
 */
@Configuration(proxyBeanMethods = false)
class BufferPoolConfiguration {

    @Bean
    BufferPool bufferPool(BlockpullProperties properties) {
        BufferPool pool = BufferPool.shared();
        pool.setMaxIdleBytes(properties.io().bufferPoolSize().toBytes());
        return pool;
    }

    @Bean
    MeterBinder bufferPoolMetrics(BufferPool pool) {
        return registry -> {
            Gauge.builder("blockpull.buffer.pool.idle", pool, BufferPool::idleBytes)
                    .baseUnit("bytes")
                    .description("Direct memory the I/O buffer pool keeps idle for reuse")
                    .register(registry);
            Gauge.builder("blockpull.buffer.pool.outstanding", pool, BufferPool::outstanding)
                    .description("I/O buffers in use")
                    .register(registry);
            FunctionCounter.builder("blockpull.buffer.pool.created", pool, BufferPool::created)
                    .description("I/O buffers made since start; steady when the pool is large enough")
                    .register(registry);
        };
    }
}
