// The `dnnpart inspect --json` contract: counts, costs and cut points of a loaded model.
import { graphCosts } from './costs.js';
import { cutPoints } from './cuts.js';
import type { LoadedModel } from './load.js';
import type { SimplifyReport } from './simplify.js';
import type { DType, LoopTrips, Shape } from './types.js';

/** A graph input or output as inspect reports it. */
export interface InspectTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly bytes: number;
}

/** One node's line in the inspect report. */
export interface InspectLayer {
  readonly name: string;
  readonly op: string;
  readonly macs: number;
  readonly flops: number;
  readonly params: number;
  readonly outputBytes: number;
  readonly outputShape: Shape;
}

/** What `dnnpart inspect --json` prints. */
export interface InspectResult {
  readonly name: string;
  readonly sha256: string;
  readonly opset: number;
  /** Number of nodes. */
  readonly nodes: number;
  /** Initializer elements. */
  readonly params: number;
  readonly paramBytes: number;
  readonly macs: number;
  readonly flops: number;
  readonly unknownOps: readonly string[];
  readonly inputs: readonly InspectTensor[];
  readonly outputs: readonly InspectTensor[];
  readonly layers: readonly InspectLayer[];
  readonly cutPoints: readonly { after: string; index: number; bytes: number; tensors: readonly string[]; single: boolean }[];
  /** What loading changed: nodes in the file, Constant nodes made initializers, folded shape nodes, inlined Ifs, dead nodes; `nodes` is what remains. */
  readonly simplified: SimplifyReport;
  /**
   * Every Loop node (inside bodies too) with the iterations it was costed at; `assumed` ones have a
   * trip count computed at run time and cost one iteration until `--loop-trips <node>=N` says more.
   */
  readonly loops: readonly LoopTrips[];
}

/** Summarises a loaded model: sizes, costs, and every cut point. */
export function inspectModel(model: LoadedModel): InspectResult {
  const { graph } = model;
  const costs = graphCosts(graph);
  const tensor = (name: string): InspectTensor => {
    const t = graph.tensors.get(name)!;
    return { name, dtype: t.dtype, shape: t.shape, bytes: t.bytes };
  };
  return {
    name: graph.name,
    sha256: model.sha256,
    opset: graph.opsetVersion,
    nodes: graph.nodes.length,
    params: costs.params,
    paramBytes: costs.paramBytes,
    macs: costs.macs,
    flops: costs.flops,
    unknownOps: costs.unknownOps,
    inputs: graph.inputs.map(tensor),
    outputs: graph.outputs.map(tensor),
    layers: graph.nodes.map((n) => {
      const c = costs.nodes.get(n.name)!;
      const first = n.outputs.find((o) => o !== '');
      return { name: n.name, op: n.op, macs: c.macs, flops: c.flops, params: c.params, outputBytes: c.outputBytes, outputShape: first ? graph.tensors.get(first)!.shape : [] };
    }),
    cutPoints: cutPoints(graph).map((c) => ({ after: c.after, index: c.index, bytes: c.bytes, tensors: c.tensors, single: c.single })),
    simplified: model.simplified,
    loops: graph.nodes.flatMap((n) => n.subgraphCost?.loops ?? []),
  };
}
