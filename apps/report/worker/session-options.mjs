// The onnxruntime session options of verify's worker stages, shared by the stage and capacity workers:
// the ones the profiler and verify's own timing use (src/verify/measure.ts), so that times compare.
// Plain JavaScript so it runs both from the sources (tests) and from dist (the CLI).

/**
 * Optimised, sequential, `threads` intra-op threads that do not spin (spinning would steal the cores
 * other stages run on). `level`: "all", or the lower level a stage whose optimised graph onnxruntime
 * refuses was made at (verify decides it once per stage, in its own session: src/verify/measure.ts).
 */
export function stageSessionOptions(threads, level = 'all') {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: level,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Fatal only: a failed run reaches the user as one line of ours, not also as onnxruntime's log line.
    logSeverityLevel: 4,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    // No memory pattern, as the profiler and the agents' stages run (@dnnpart/profiler's sessionOptions).
    enableMemPattern: false,
  };
}
