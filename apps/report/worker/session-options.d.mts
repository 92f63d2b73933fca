import type { InferenceSession } from 'onnxruntime-node';

/** Optimised (at `level`, default "all"), sequential, `threads` intra-op threads that do not spin. */
export function stageSessionOptions(threads: number, level?: 'disabled' | 'basic' | 'extended' | 'all'): InferenceSession.SessionOptions;
