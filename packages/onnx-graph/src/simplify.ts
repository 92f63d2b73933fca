// The graph passes that run when a model is loaded, in order, each reporting what it changed
// (one pass per file, as OnnxSlim organises its optimisations).
import type { ModelProto } from 'onnx-buf';
import { foldInitializerOps } from './_pass-initializer-ops.js';
import { constantsToInitializers } from './_pass-constants.js';
import { removeDeadNodes } from './_pass-dead.js';
import { foldKnownValues } from './_pass-fold.js';
import type { Pass, PassContext } from './_pass.js';
import type { Info } from './_infer.js';
import type { Graph } from './types.js';

/** What one pass changed. */
export interface PassReport {
  readonly pass: string;
  readonly description: string;
  /** Nodes removed by this pass. */
  readonly removedNodes: number;
  /** Removed nodes by op type. */
  readonly removedOps: Readonly<Record<string, number>>;
  readonly addedInitializers: number;
  readonly removedInitializers: number;
}

/** What loading did to the file's graph before it became layers. */
export interface SimplifyReport {
  /** Top-level nodes in the file. */
  readonly nodesBefore: number;
  /** Nodes left: the layers. */
  readonly nodesAfter: number;
  /** `Constant` nodes that became initializers. */
  readonly constants: number;
  /** Nodes folded to constants once shapes were fixed (shape arithmetic, data movement of weights). */
  readonly folded: number;
  /** Nodes nothing read any more. */
  readonly dead: number;
  readonly passes: readonly PassReport[];
}

/** The passes, in the order they run. */
export const PASSES: readonly Pass[] = [
  {
    name: 'constants',
    description: 'Constant nodes become initializers',
    needsShapes: false,
    run: (proto, ctx) => constantsToInitializers(proto, ctx.label),
  },
  {
    name: 'fold-values',
    description: 'nodes whose outputs are known once input shapes are fixed (Shape, Gather, Concat, Cast, ...) become initializers',
    needsShapes: true,
    run: foldKnownValues,
  },
  {
    name: 'fold-initializer-ops',
    description: 'Reshape, Transpose, Squeeze, Unsqueeze, Flatten and Identity of initializers become initializers',
    needsShapes: true,
    run: foldInitializerOps,
  },
  {
    name: 'dead-nodes',
    description: 'nodes and initializers nothing reads are removed',
    needsShapes: false,
    run: (proto) => removeDeadNodes(proto),
  },
];

/** Analysis of the proto as it currently is (shapes for every tensor). */
export type Analyse = (proto: ModelProto) => Promise<{ graph: Graph; info: ReadonlyMap<string, Info> }>;

/** Runs the passes over `proto` in place; `analyse` is called before a pass that needs shapes whenever the proto changed. */
export async function simplifyProto(proto: ModelProto, label: string, analyse: Analyse, passes: readonly Pass[] = PASSES): Promise<SimplifyReport> {
  const nodesBefore = proto.graph!.node.length;
  const reports: PassReport[] = [];
  let current: { graph: Graph; info: ReadonlyMap<string, Info> } | undefined;
  for (const pass of passes) {
    if (pass.needsShapes && !current) current = await analyse(proto);
    const ctx: PassContext = pass.needsShapes ? { label, graph: current!.graph, info: current!.info } : { label };
    const r = pass.run(proto, ctx);
    const removedOps: Record<string, number> = {};
    for (const n of r.removed) removedOps[n.op] = (removedOps[n.op] ?? 0) + 1;
    reports.push({
      pass: pass.name, description: pass.description, removedNodes: r.removed.length, removedOps,
      addedInitializers: r.addedInitializers, removedInitializers: r.removedInitializers,
    });
    if (r.removed.length > 0 || r.addedInitializers > 0 || r.removedInitializers > 0) current = undefined;
  }
  const count = (name: string) => reports.filter((p) => p.pass === name).reduce((s, p) => s + p.removedNodes, 0);
  return {
    nodesBefore,
    nodesAfter: proto.graph!.node.length,
    constants: count('constants'),
    folded: count('fold-values') + count('fold-initializer-ops'),
    dead: count('dead-nodes'),
    passes: reports,
  };
}
