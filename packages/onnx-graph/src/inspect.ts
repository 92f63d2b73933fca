// The `dnnpart inspect --json` contract: counts, costs and cut points of a loaded model.
import { graphCosts } from './costs.js';
import { cutPoints } from './cuts.js';
import { valueTimedNodes, type ValueTimedNode } from './data-sized.js';
import type { EmptyTensor, LoadedModel } from './load.js';
import type { ReplacedOutput } from './_pass-zipmap.js';
import type { ShapeMismatch } from './_build.js';
import type { SimplifyReport } from './simplify.js';
import { isDefaultDomain } from './_pass.js';
import type { DType, Graph, LoopTrips, Shape } from './types.js';

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
  /**
   * If nodes kept whole because their condition is a model input given no value: each stays one
   * layer (nothing inside it can be cut) until `--input <condition>=<shape>:<value>` picks a branch.
   */
  readonly inputBranches: readonly InputBranch[];
  /** Tensors the file declares with another shape than onnxruntime computes; the computed shape is used. */
  readonly shapeMismatches: readonly ShapeMismatch[];
  /** Tensors that came out empty on the sample input: their size depends on the data (LoadedModel.emptyTensors). */
  readonly emptyTensors: readonly EmptyTensor[];
  /** Graph outputs given as the tensor they were made from (skl2onnx's ZipMap; LoadedModel.replacedOutputs). */
  readonly replacedOutputs: readonly ReplacedOutput[];
  /** Nodes whose time follows the data, not their shapes (`valueTimedNodes`): a description cannot price them. */
  readonly valueTimed: readonly ValueTimedNode[];
}

/** An If whose condition is a model input (see InspectResult.inputBranches). */
export interface InputBranch {
  readonly node: string;
  readonly condition: string;
  /** The condition's shape, for the value spec: `<shape>:1` takes then_branch, `<shape>:0` else_branch. */
  readonly shape: Shape;
  /** One line for the user, without the syntax of the place the value is given in. */
  readonly message: string;
}

/** The If nodes of `graph` whose condition is one of its inputs (a value given on load would have inlined them). */
export function inputBranches(graph: Graph): InputBranch[] {
  const inputs = new Set(graph.inputs);
  return graph.nodes
    .filter((n) => n.op === 'If' && isDefaultDomain(n.domain) && inputs.has(n.inputs[0] ?? ''))
    .map((n) => {
      const condition = n.inputs[0]!;
      const shape = graph.tensors.get(condition)?.shape ?? [];
      const message = `If node ${n.name} stays one layer (nothing inside it can be cut or priced apart): its condition is the model input ${condition}, given no value; give it one to plan the branch it takes (1: then_branch, 0: else_branch)`;
      return { node: n.name, condition, shape, message };
    });
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
    inputBranches: inputBranches(graph),
    shapeMismatches: model.shapeMismatches,
    emptyTensors: model.emptyTensors,
    replacedOutputs: model.replacedOutputs,
    valueTimed: valueTimedNodes(graph),
  };
}
