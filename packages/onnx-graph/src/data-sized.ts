// Tensors whose size the data decides. The graph's shapes were measured by one run of onnxruntime
// (on the sample input, sample-input.ts) or inferred for the fixed input shapes; for these tensors
// that run's size is one of many: NonZero's indices, Unique's values and counts, NonMaxSuppression's
// selection, and whatever is computed from them. A stage model declares them with named dims, so
// that a stage fed another size than the measured one runs instead of onnxruntime refusing its input.
import type { Graph, GraphNode } from './types.js';

/** Ops whose output size depends on the values of their inputs. */
const SIZED_BY_VALUES: ReadonlySet<string> = new Set(['NonZero', 'Unique', 'NonMaxSuppression', 'Compress', 'StringSplit']);

/**
 * Control flow left in the graph after load: an If whose condition the data decides (one with a
 * constant condition was inlined) may give another shape from each branch, and a Loop's scan outputs
 * have as many rows as it ran iterations, which its condition may cut short. Every dim of their
 * outputs is named: the shapes the zero-input run measured are one branch's, one trip count's.
 */
const SIZED_BY_CONTROL: ReadonlySet<string> = new Set(['If', 'Loop']);

/**
 * The dims such an op's outputs take from the data, when only some do: NonZero's [rank, N], NMS's
 * [N, 3], Unique's and Compress's N along their axis (every output of a flattening Unique is [N]).
 * Other outputs, and tensors computed from them, have every dim named.
 */
function valueSizedDims(n: GraphNode, rank: number): readonly boolean[] | null {
  const only = (d: number) => Array.from({ length: rank }, (_, i) => i === d);
  const axis = n.attributes['axis'];
  switch (n.op) {
    case 'NonZero': return only(1);
    case 'NonMaxSuppression': return only(0);
    case 'Unique': return typeof axis === 'number' ? only(axis < 0 ? axis + rank : axis) : only(0);
    case 'Compress': return typeof axis === 'number' ? only(axis < 0 ? axis + rank : axis) : only(0);
    default: return null;
  }
}

/**
 * Inputs that give an op's output shape (a target shape, repeats, starts and ends, sizes, k). Folded
 * at load when they follow from the fixed input shapes; left computed, they come from the data.
 */
const SHAPE_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Reshape: [1], Expand: [1], Tile: [1], ConstantOfShape: [0], Range: [0, 1, 2], Slice: [1, 2, 3, 4], Pad: [1],
  Resize: [2, 3], Upsample: [1], TopK: [1], OneHot: [1], Split: [1], CenterCropPad: [1], Col2Im: [1, 2], MaxUnpool: [2],
};

const defaultDomain = (n: { readonly domain: string }) => n.domain === '' || n.domain === 'ai.onnx';

/**
 * True when `n`'s outputs take their size from the values of a tensor, not only from the shapes of
 * its inputs: the ops sized by values, control flow, and an op whose shape input (a target shape, k,
 * starts and ends) is not a constant (`constant`: an initializer, or a value the analysis computed).
 */
export function sizedByData(n: { readonly op: string; readonly domain: string; readonly inputs: readonly string[] }, constant: (tensor: string) => boolean): boolean {
  if (!defaultDomain(n)) return false;
  if (SIZED_BY_VALUES.has(n.op) || SIZED_BY_CONTROL.has(n.op)) return true;
  return (SHAPE_INPUTS[n.op] ?? []).some((i) => {
    const x = n.inputs[i];
    return x !== undefined && x !== '' && !constant(x);
  });
}

/** True when `n`'s outputs take their size from the values of a tensor (not only from shapes). */
function sizedByValues(graph: Graph, n: GraphNode): boolean {
  return sizedByData(n, (x) => graph.tensors.get(x)?.isInitializer !== false);
}

/**
 * The tensors whose size the data decides, each with the dims it decides (true): the outputs of
 * nodes sized by values and every tensor computed from one (its size may follow theirs: every dim).
 * A safe over-approximation: a tensor listed only loses static dims on a stage edge.
 */
export function dataSizedTensors(graph: Graph): ReadonlyMap<string, readonly boolean[]> {
  const out = new Map<string, readonly boolean[]>();
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const todo: GraphNode[] = graph.nodes.filter((n) => sizedByValues(graph, n));
  const seen = new Set<string>();
  while (todo.length > 0) {
    const n = todo.pop()!;
    if (seen.has(n.name)) continue;
    seen.add(n.name);
    const origin = defaultDomain(n) && SIZED_BY_VALUES.has(n.op);
    for (const o of n.outputs) {
      if (!o || out.has(o)) continue;
      const rank = graph.tensors.get(o)?.shape.length ?? 0;
      out.set(o, (origin ? valueSizedDims(n, rank) : null) ?? Array.from({ length: rank }, () => true));
      for (const c of graph.tensors.get(o)?.consumers ?? []) {
        const r = byName.get(c);
        if (r && !seen.has(r.name)) todo.push(r);
      }
    }
  }
  return out;
}

/** Ops whose running time follows the values they read, not their shapes (see `valueTimedNodes`). */
export const VALUE_TIMED_OPS: ReadonlySet<string> = new Set(['NonMaxSuppression']);

/** Why a node's running time follows the values of its inputs (see `valueTimedNodes`). */
export interface ValueTimedNode {
  readonly node: string;
  readonly op: string;
  /** In words, for a warning: what the time follows. */
  readonly why: string;
}

/**
 * Nodes whose running time, at fixed input shapes, follows the values of their inputs, so that no
 * cost model of shapes prices them: NonMaxSuppression compares every box that passes its score
 * threshold with those it kept (on an untrained or uncertain detector, tens of thousands of boxes:
 * SSDLite's one NMS took 60 ms here where its input size prices 0.03 ms), and a Loop whose trip count
 * is computed at run time and was not given (costed as one iteration); and a node with bodies that
 * hold either (torchvision's batched NMS sits in an If on whether any box is left). A run of the
 * model on its input prices them; a board description cannot.
 */
export function valueTimedNodes(graph: Graph): ValueTimedNode[] {
  const out: ValueTimedNode[] = [];
  for (const n of graph.nodes) {
    if (!defaultDomain(n)) continue;
    const inside = n.op === 'If' ? 'in a branch' : 'in its body';
    const assumed = n.subgraphCost?.loops?.filter((l) => l.trips === 'assumed') ?? [];
    if (VALUE_TIMED_OPS.has(n.op)) out.push({ node: n.name, op: n.op, why: 'the boxes over its score threshold' });
    else if (n.subgraphCost?.valueTimedOps?.includes('NonMaxSuppression')) out.push({ node: n.name, op: n.op, why: `the boxes over the score threshold of the NonMaxSuppression ${inside}` });
    else if (n.op === 'Loop' && assumed.some((l) => l.node === n.name)) out.push({ node: n.name, op: n.op, why: 'its trip count, computed at run time' });
    else if (assumed.length > 0) out.push({ node: n.name, op: n.op, why: `the trip count of Loop ${assumed[0]!.node} ${inside}, computed at run time` });
  }
  return out;
}
