// Every failure the graph package reports, with a stable code the CLI and tests rely on.

/** Stable error codes of @dnnpart/onnx-graph. */
export type GraphErrorCode =
  | 'GRAPH_FILE_NOT_FOUND'
  | 'GRAPH_NOT_ONNX'
  | 'GRAPH_CORRUPT'
  | 'GRAPH_UNSUPPORTED_DTYPE'
  | 'GRAPH_EXTERNAL_DATA'
  | 'GRAPH_CYCLE'
  | 'GRAPH_DYNAMIC_DIM'
  | 'GRAPH_BAD_SHAPE_SPEC'
  | 'GRAPH_INPUT_SHAPE_MISMATCH'
  | 'GRAPH_UNKNOWN_INPUT'
  | 'GRAPH_UNKNOWN_NODE'
  | 'GRAPH_CUTS_OUT_OF_ORDER'
  | 'GRAPH_BAD_ASSIGNMENT'
  | 'GRAPH_EMPTY_STAGE'
  | 'GRAPH_SHAPE_INFERENCE'
  | 'GRAPH_BAD_CONSTANT'
  | 'GRAPH_LOOP_TRIPS'
  | 'GRAPH_WRITE_FAILED'
  | 'GRAPH_RUNTIME';

/** The one error class of this package: a one-line message and a stable `code`. */
export class GraphError extends Error {
  readonly code: GraphErrorCode;

  constructor(code: GraphErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GraphError';
    this.code = code;
  }
}

/** True when `e` is a GraphError (optionally with the given code). */
export function isGraphError(e: unknown, code?: GraphErrorCode): e is GraphError {
  return e instanceof GraphError && (code === undefined || e.code === code);
}

/**
 * An onnxruntime error as one line a user can read: without the source file and line of the check
 * that failed, the C++ function it sits in and the failed condition, which hide the sentence that
 * says what is wrong (`... Status Message: The input tensor cannot be reshaped to the requested
 * shape. Input shape:{1,4,16,16}, requested shape:{1,4}`).
 */
export function runtimeMessage(e: unknown, max = 400): string {
  const m = (e instanceof Error ? e.message : String(e))
    .replace(/\s+/g, ' ')
    .replace(/\/onnxruntime_src\/\S+:\d+ /g, '')
    .replace(/(?:[\w<>]+::)+[\w<>~]+\([^()]*\) /g, '')
    .replace(/(?<=Status Message: )[^.]*? was false\. /g, '')
    .trim();
  return m.length > max ? `${m.slice(0, max - 3)}...` : m;
}

/**
 * Why onnxruntime (CPU) cannot load a model, as one line: the op and node it has no kernel for, the
 * op it does not know, or its own message; `kernel` is true for the first two (the model, not the run, is at fault).
 */
export function runtimeLoadFailure(e: unknown): { readonly message: string; readonly kernel: boolean } {
  const noKernel = /Could not find an implementation for (\S+?)\((\d+)\) node with name '([^']*)'/.exec(e instanceof Error ? e.message : String(e));
  if (noKernel) {
    // onnxruntime's CPU kernels start at opset 7 for most ops (the ONNX test data's PyTorch exports
    // of opsets 1 and 6: AveragePool, BatchNormalization, Add, Gemm).
    const old = Number(noKernel[2]) < 7 ? ': onnxruntime has few kernels for ops of opsets before 7; convert the model to a newer opset (python3 -c "import onnx, onnx.version_converter as v; onnx.save(v.convert_version(onnx.load(\'in.onnx\'), 13), \'out.onnx\')") or export it again' : '';
    return { message: `op ${noKernel[1]} (opset ${noKernel[2]}) of node "${noKernel[3]}" has no kernel on the cpu execution provider${old}`, kernel: true };
  }
  const unknown = unknownRuntimeOp(e);
  if (unknown) return { message: `op ${unknown.op} (domain "${unknown.domain}") is unknown to onnxruntime on the cpu execution provider`, kernel: true };
  return { message: `onnxruntime cannot load the model (${runtimeMessage(e)})`, kernel: false };
}

/** The op an onnxruntime error says it does not know (`ai.custom:MyOp(-1) is not a registered function/op`), else null. */
export function unknownRuntimeOp(e: unknown): { readonly domain: string; readonly op: string } | null {
  const m = /([\w.]*):(\w+)\(-?\d+\) is not a registered function\/op/.exec(e instanceof Error ? e.message : String(e));
  return m ? { domain: m[1]!, op: m[2]! } : null;
}
