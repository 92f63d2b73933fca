// The graph model: plain data that every other package reads. One definition, here.

/** ONNX element types this project names; the string is the lower-case ONNX name. */
export type DType =
  | 'float32' | 'float16' | 'bfloat16' | 'float64'
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'bool' | 'string'
  // Weights of quantized models (onnxruntime's 4-bit and float8 quantizers, opset 19-21). onnxruntime
  // runs them, but onnxruntime-node can neither feed nor hand back one: see edgeDtype.
  | 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz' | 'uint4' | 'int4';

/** A static shape: every dimension known. */
export type Shape = readonly number[];

/** An attribute value, decoded from AttributeProto. Tensors stay as their raw proto. */
export type AttributeValue =
  | number | string | bigint
  | readonly number[] | readonly string[]
  | { readonly tensor: TensorValue };

/** A constant tensor's decoded content (initializers and Constant values). */
export interface TensorValue {
  readonly dtype: DType;
  readonly shape: Shape;
  /** Elements as numbers (int64 converted; may lose precision above 2^53). Absent if not decoded (large or external). */
  readonly data?: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | number[];
}

export interface GraphTensor {
  readonly name: string;
  readonly dtype: DType;
  /** Static shape after inference and the user's --input overrides. */
  readonly shape: Shape;
  /** Bytes of one instance: product(shape) * element size. */
  readonly bytes: number;
  /** Name of the producing node; null for graph inputs and initializers. */
  readonly producer: string | null;
  /** Names of consuming nodes, in topological order. */
  readonly consumers: readonly string[];
  readonly isInitializer: boolean;
  readonly isGraphInput: boolean;
  readonly isGraphOutput: boolean;
}

export interface GraphNode {
  /** Unique; ONNX node name, or `<op>_<index>` where the file has none. */
  readonly name: string;
  readonly op: string;
  readonly domain: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** Input tensor names in ONNX order ('' for an omitted optional input). */
  readonly inputs: readonly string[];
  /** Outer-graph tensors the node's subgraphs (If, Loop, Scan) read; they count as inputs for order, cuts and splits. */
  readonly implicitInputs?: readonly string[];
  readonly outputs: readonly string[];
  /** Position in `Graph.nodes` (a topological order). */
  readonly index: number;
  /** For If, Loop and Scan: the cost of the body that runs (the larger If branch; a loop body times its iterations). */
  readonly subgraphCost?: SubgraphCost;
}

/** MACs and FLOPs of a node's subgraphs, and the ops in them the cost model does not know. */
export interface SubgraphCost {
  readonly macs: number;
  readonly flops: number;
  readonly unknownOps: readonly string[];
  /** The Loop nodes costed (this node and any inside its bodies), with the iterations each was costed at. */
  readonly loops?: readonly LoopTrips[];
  /** Ops in its bodies (either branch of an If) whose time the data decides: NonMaxSuppression. */
  readonly valueTimedOps?: readonly string[];
}

/**
 * How many iterations a Loop node was costed at: `constant` from its trip count once shapes are
 * fixed, `given` by the user (`loopTrips`, `--loop-trips <node>=N`), `assumed` 1 when the trip
 * count is computed at run time and none was given.
 */
export interface LoopTrips {
  readonly node: string;
  readonly iterations: number;
  readonly trips: 'constant' | 'given' | 'assumed';
}

export interface NodeCost {
  /** Bytes of the initializers this node reads (a shared initializer counts for each reader). */
  readonly paramBytes: number;
  /** Elements of the initializers this node reads. */
  readonly params: number;
  /** Bytes of the node's outputs. */
  readonly outputBytes: number;
  /** Multiply-accumulates (Conv, ConvTranspose, Gemm, MatMul); 0 for other ops. */
  readonly macs: number;
  /** Element-wise floating point operations for ops that are not MAC ops. */
  readonly flops: number;
  /** False when the cost model does not know the op (counted as 0, reported). */
  readonly known: boolean;
}

export interface Graph {
  /** Model name (graph name, or the file's base name). */
  readonly name: string;
  readonly opsetVersion: number;
  /** Nodes in a topological order (the file's order when it already is one). */
  readonly nodes: readonly GraphNode[];
  readonly tensors: ReadonlyMap<string, GraphTensor>;
  /** Graph inputs that are not initializers. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly initializers: readonly string[];
  /** Values the user fixed for inputs (`--input sr=:16000`): the graph is specialised to them, so runs must feed them. */
  readonly inputValues?: Readonly<Record<string, readonly number[]>>;
  /**
   * Integer inputs that are token ids (the rows of embedding tables, `token-inputs.ts`), with the rows
   * of their smallest table: the sample input draws their ids in [1, rows) rather than zeros, which a
   * text model reads as all padding.
   */
  readonly tokenInputs?: Readonly<Record<string, number>>;
}

/** A position in the topological order: cut after node `after`. */
export interface CutPoint {
  /** Index of the last node before the cut. */
  readonly index: number;
  readonly after: string;
  /** Tensors produced at or before the cut (graph inputs count as before the first node) and consumed after it. */
  readonly tensors: readonly string[];
  /** What they take crossing: bfloat16, float8 and 4-bit tensors in the type they travel in (edgeBytes). */
  readonly bytes: number;
  /** True when exactly one tensor crosses. */
  readonly single: boolean;
}

/** One input's shape and, for a scalar such as a sample rate, the value it will always have. */
export interface InputSpec {
  readonly shape: Shape;
  /** Row-major contents; the model is then specialised to it (shape arithmetic and If conditions fold). */
  readonly value?: readonly number[];
}

/** User-given shapes for inputs: one shape for the single input, or per input name (a shape or a spec with a value). */
export type InputShapes = Shape | Readonly<Record<string, Shape | InputSpec>>;

export interface StageManifest {
  readonly file: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly nodes: readonly string[];
}

export interface SplitManifest {
  readonly stages: readonly StageManifest[];
}
