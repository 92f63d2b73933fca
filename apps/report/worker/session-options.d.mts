import type { InferenceSession } from 'onnxruntime-node';

/** Optimised, sequential, `threads` intra-op threads that do not spin. */
export function stageSessionOptions(threads: number): InferenceSession.SessionOptions;
