// The graph passes that run when a model is loaded, in order, each reporting what it changed
// (one pass per file, as OnnxSlim organises its optimisations).
import type { ModelProto } from 'onnx-buf';
import { foldInitializerOps } from './_pass-initializer-ops.js';
import { constantsToInitializers } from './_pass-constants.js';
import { dequantizeColumns } from './_pass-dequantize-columns.js';
import { removeDeadNodes } from './_pass-dead.js';
import { foldKnownValues } from './_pass-fold.js';
import { inlineFunctions } from './_pass-inline-functions.js';
import { inlineConstantIfs } from './_pass-inline-if.js';
import { removeIdentities } from './_pass-identity.js';
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
  /** Nodes this pass changed and kept. */
  readonly rewrittenNodes: number;
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
  /** If nodes replaced by the branch their constant condition takes. */
  readonly inlined: number;
  /** Calls of model-local functions replaced by the functions' nodes. */
  readonly functions: number;
  /** Identity nodes removed (readers rewired). */
  readonly identities: number;
  /** Nodes nothing read any more. */
  readonly dead: number;
  /**
   * Weight DequantizeLinear nodes given their own per-column scale and zero point, in place of a
   * scalar shared with other nodes (so onnxruntime runs them fused with their MatMul).
   */
  readonly dequantizeColumns: number;
  /** Blocks of nodes an ONNX sequence or optional links, each one layer (an If on a constant true; see inspect). */
  readonly sequenceBlocks: number;
  readonly passes: readonly PassReport[];
  /**
   * Names of the file's nodes that are no longer layers (folded, inlined, removed), in file order:
   * a profile measured on the unsimplified graph may still name them.
   */
  readonly removedNodes: readonly string[];
  /**
   * Nodes a pass brought in (an inlined If branch or function body) and a later pass removed: a
   * profile of the same file made by a dnnpart that folded less may still name them.
   */
  readonly removedInnerNodes?: readonly string[];
}

/** The passes, in the order they run. */
export const PASSES: readonly Pass[] = [
  {
    name: 'inline-functions',
    description: 'a call of a model-local function is replaced by the function\'s nodes',
    needsShapes: false,
    addsTensors: true,
    run: inlineFunctions,
  },
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
    description: 'Reshape, Transpose, Slice, Concat, Squeeze, Unsqueeze, Flatten and Identity of initializers become initializers',
    needsShapes: true,
    run: foldInitializerOps,
  },
  {
    name: 'inline-if',
    description: 'an If whose condition is a constant is replaced by the nodes of the branch it takes',
    needsShapes: true,
    addsTensors: true,
    run: inlineConstantIfs,
  },
  {
    name: 'identities',
    description: 'Identity nodes go; their readers read the Identity\'s input',
    needsShapes: false,
    run: (proto) => removeIdentities(proto),
  },
  {
    name: 'dequantize-columns',
    description: 'an 8-bit weight\'s DequantizeLinear read by MatMul whose scalar scale or zero point is shared gets its own per-column ones',
    needsShapes: false,
    addsTensors: true,
    run: (proto) => dequantizeColumns(proto),
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

/** Rounds of the passes at most: an inlined branch brings Constants and shape arithmetic of its own. */
const MAX_ROUNDS = 8;

/**
 * Runs the passes over `proto` in place, in rounds until a round changes nothing (the last pass,
 * dead nodes, once at the end); `analyse` is called before a pass that needs shapes when none is
 * at hand or a pass added tensors. Passes skip nodes the analysis does not list (yet) and nodes
 * already gone. The report sums each pass over the rounds.
 */
export async function simplifyProto(proto: ModelProto, label: string, analyse: Analyse, passes: readonly Pass[] = PASSES): Promise<SimplifyReport> {
  const nodesBefore = proto.graph!.node.length;
  const fileNodes = proto.graph!.node.map((n) => n.name);
  const totals = new Map<string, { pass: Pass; removed: Record<string, number>; nodes: number; added: number; dropped: number; rewritten: number }>();
  const removedNames = new Set<string>();
  for (const p of passes) totals.set(p.name, { pass: p, removed: {}, nodes: 0, added: 0, dropped: 0, rewritten: 0 });
  let current: { graph: Graph; info: ReadonlyMap<string, Info> } | undefined;
  const runPass = async (pass: Pass): Promise<boolean> => {
    if (pass.needsShapes && !current) current = await analyse(proto);
    const ctx: PassContext = pass.needsShapes ? { label, graph: current!.graph, info: current!.info } : { label };
    const r = pass.run(proto, ctx);
    const t = totals.get(pass.name)!;
    for (const n of r.removed) {
      t.removed[n.op] = (t.removed[n.op] ?? 0) + 1;
      removedNames.add(n.name);
    }
    t.nodes += r.removed.length;
    t.added += r.addedInitializers;
    t.dropped += r.removedInitializers;
    t.rewritten += r.rewritten?.length ?? 0;
    const changed = r.removed.length > 0 || r.addedInitializers > 0 || r.removedInitializers > 0 || (r.rewritten?.length ?? 0) > 0;
    if (changed && pass.addsTensors) current = undefined;
    return changed;
  };
  const rounds = passes.slice(0, -1);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let changed = false;
    for (const pass of rounds) if (await runPass(pass)) changed = true;
    if (!changed) break;
  }
  if (passes.length > 0) await runPass(passes[passes.length - 1]!);
  const reports: PassReport[] = [...totals.values()].map((t) => ({
    pass: t.pass.name, description: t.pass.description, removedNodes: t.nodes, removedOps: t.removed,
    addedInitializers: t.added, removedInitializers: t.dropped, rewrittenNodes: t.rewritten,
  }));
  const count = (name: string) => totals.get(name)?.nodes ?? 0;
  const left = new Set(proto.graph!.node.map((n) => n.name));
  return {
    nodesBefore,
    nodesAfter: proto.graph!.node.length,
    constants: count('constants'),
    folded: count('fold-values') + count('fold-initializer-ops'),
    inlined: count('inline-if'),
    functions: count('inline-functions'),
    identities: count('identities'),
    dead: count('dead-nodes'),
    dequantizeColumns: totals.get('dequantize-columns')?.rewritten ?? 0,
    sequenceBlocks: 0,
    passes: reports,
    removedNodes: fileNodes.filter((n) => !left.has(n)),
    ...inner(removedNames, new Set(fileNodes), left),
  };
}

/** `removedInnerNodes`: removed names that are neither the file's nodes nor left, when there are any. */
function inner(removed: ReadonlySet<string>, file: ReadonlySet<string>, left: ReadonlySet<string>): { removedInnerNodes?: string[] } {
  const names = [...removed].filter((n) => !file.has(n) && !left.has(n));
  return names.length > 0 ? { removedInnerNodes: names } : {};
}
