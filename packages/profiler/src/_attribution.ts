// Maps ORT's kernels back to the original ONNX nodes.
//
// Graph optimisation fuses nodes (Conv+BatchNorm+Relu become one FusedConv kernel named after the
// Conv) and, at level "all", rewrites convolutions into NCHWc kernels named "<output tensor>_nchwc"
// plus layout Reorder kernels. Each kernel is first tied to a seed node (its own name, or the
// producer of the tensor its "_nchwc" name carries); a convolution kernel seeded at a fused
// activation claims the chain back to its Conv; every node still without a kernel then joins the
// group of its producer (fused into the kernel before it: BatchNorm, Relu, Add after a Conv) or,
// failing that, of its consumer (fused into the kernel after it). A group's time is split across
// its nodes in proportion to MACs (fused element-wise work is nearly free next to the convolution),
// or to output bytes when the group has no MACs. Layout reorders go with the kernel they convert
// for (the next one for ReorderInput, the previous one for ReorderOutput), and so do the Transposes
// that ARM builds insert around NHWC kernels (into the Nhwc kernel after it, else out of the one
// before it). Kernels tied to no
// node (anything unrecognised) stay unattributed and are reported as a share of the run time.
import type { Graph } from '@dnnpart/onnx-graph';

export interface NodeWeights {
  readonly macs: number;
  readonly outputBytes: number;
}

export interface Attribution {
  /** Per original node: the kernels whose time it shares and its share of each. */
  readonly nodes: ReadonlyMap<string, { readonly kernels: readonly string[]; readonly share: number }>;
  /** Groups of more than one node, or one node run by a kernel with another name. */
  readonly fused: readonly { readonly kernel: string; readonly nodes: readonly string[] }[];
  /** Kernels tied to no original node. */
  readonly unattributedKernels: readonly string[];
  /** Layout reorder kernels whose time went to the adjacent kernel's nodes. */
  readonly reorders: readonly string[];
  /** Nodes with no kernel and no neighbour group (nothing left of them at run time). */
  readonly eliminated: readonly string[];
}

/** Tie each kernel name to an original node, or null; `tail` when the name is the fused chain's output. */
export function seedOf(kernel: string, graph: Graph): { node: string; tail: boolean } | null {
  // ORT's GenerateNodeName appends "_token_<n>" when a name is taken.
  for (const k of new Set([kernel, kernel.replace(/_token_\d+$/, '')])) {
    const seed = seedOfName(k, graph);
    if (seed) return seed;
    // A float16 model's ops that run in float32: onnxruntime's InsertCastTransformer renames their
    // tensors "InsertedPrecisionFreeCast_<tensor>" (an NCHWc kernel computing one is "<that>_nchwc"),
    // and a Cast it keeps is named after the tensor it converts: tied to that tensor's producer (one
    // of a graph input stays unattributed: seeding its reader would split that reader's fused chain).
    if (k.startsWith(INSERTED_CAST)) {
      const rest = k.slice(INSERTED_CAST.length);
      const inner = seedOfName(rest, graph);
      if (inner) return inner;
      const producer = graph.tensors.get(rest)?.producer;
      if (producer && nodeNames(graph).has(producer)) return { node: producer, tail: true };
    }
  }
  return null;
}

const INSERTED_CAST = 'InsertedPrecisionFreeCast_';

function seedOfName(kernel: string, graph: Graph): { node: string; tail: boolean } | null {
  const names = nodeNames(graph);
  if (names.has(kernel)) return { node: kernel, tail: false };
  // Gemm + activation become FusedGemm named "fused <Gemm>": the chain's head.
  const fused = /^fused (.+)$/.exec(kernel);
  if (fused && names.has(fused[1]!)) return { node: fused[1]!, tail: false };
  const nchwc = /^(.*)_nchwc$/.exec(kernel);
  if (nchwc) {
    const producer = graph.tensors.get(nchwc[1]!)?.producer;
    if (producer && names.has(producer)) return { node: producer, tail: true };
  }
  // Pattern fusions name the new node "<last original node>/<Pattern>Fusion/" (e.g. Sigmoid+Mul
  // become QuickGelu named after the Mul): the chain's tail.
  const fusion = /^(.*)\/\w*Fusion\/?$/.exec(kernel);
  if (fusion && names.has(fusion[1]!)) return { node: fusion[1]!, tail: true };
  return null;
}

/** Kernel ops that contain a convolution or matrix product (the head of a fused chain). */
const MAC_KERNELS = new Set(['Conv', 'FusedConv', 'ConvTranspose', 'Gemm', 'FusedGemm', 'MatMul', 'FusedMatMul', 'QLinearConv', 'ConvInteger', 'MatMulInteger']);

const nameCache = new WeakMap<Graph, Set<string>>();
function nodeNames(graph: Graph): Set<string> {
  let s = nameCache.get(graph);
  if (!s) nameCache.set(graph, (s = new Set(graph.nodes.map((n) => n.name))));
  return s;
}

/**
 * Attribute `kernels` (names seen in the trace, in execution order) to the nodes of `graph`.
 * `hints` ties kernels the names cannot to an original node (from the optimised model's data flow).
 */
export function attributeKernels(
  graph: Graph,
  kernels: readonly { readonly name: string; readonly op: string }[],
  weights: ReadonlyMap<string, NodeWeights>,
  hints: ReadonlyMap<string, string> = new Map(),
): Attribution {
  const group = new Map<string, number>(); // node -> group id
  const groupKernels: string[][] = [];
  const unattributed: string[] = [];
  const seedGroup = new Map<string, number>();
  const tails: string[] = [];
  // input: converts for the kernel after it; false: for the one before; null: decided by its neighbours.
  const reorders: { kernel: string; at: number; input: boolean | null }[] = [];
  const seededAt: (string | null)[] = []; // execution position -> seed node
  for (const [at, { name: k, op }] of kernels.entries()) {
    const hint = hints.get(k);
    // Layout conversions (reorders, Transposes that are no graph node) keep their own rule below.
    const seed = seedOf(k, graph) ?? (hint !== undefined && op !== 'ReorderInput' && op !== 'ReorderOutput' && op !== 'Transpose' ? { node: hint, tail: false } : null);
    seededAt.push(seed?.node ?? null);
    if (seed === null) {
      if (op === 'ReorderInput' || op === 'ReorderOutput') reorders.push({ kernel: k, at, input: op === 'ReorderInput' });
      // A Transpose that is no node of the graph is a layout conversion (NCHW <-> NHWC).
      else if (op === 'Transpose') reorders.push({ kernel: k, at, input: null });
      else unattributed.push(k);
      continue;
    }
    let g = seedGroup.get(seed.node);
    if (g === undefined) {
      g = groupKernels.length;
      groupKernels.push([]);
      seedGroup.set(seed.node, g);
      group.set(seed.node, g);
      if (seed.tail && (MAC_KERNELS.has(op) || /Fusion\/?$/.test(k))) tails.push(seed.node);
    }
    groupKernels[g]!.push(k);
  }

  const producerOf = (t: string) => (t ? graph.tensors.get(t)?.producer ?? null : null);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const macsOf = (n: string) => weights.get(n)?.macs ?? 0;
  // An NCHWc convolution kernel is named after its output tensor at the time of the layout
  // transform, which is the Conv's own output or, when an activation was fused first, the
  // activation's. Walk back from there through unclaimed single-consumer producers to the MAC node
  // (the Conv head), before the forward pass could hand the head to an earlier kernel.
  for (const tail of tails) {
    const g = group.get(tail)!;
    let cur = tail;
    // Pattern fusions (no MACs) stop where the chain forks: a fused head has a single consumer.
    while (macsOf(cur) === 0) {
      const candidates = byName
        .get(cur)!
        .inputs.map(producerOf)
        .filter((p): p is string => p !== null && !group.has(p))
        .filter((p) => byName.get(p)!.outputs.every((o) => (graph.tensors.get(o)?.consumers.length ?? 0) <= 1));
      const next = candidates.find((p) => macsOf(p) > 0) ?? candidates[0];
      if (next === undefined) break;
      group.set(next, g);
      cur = next;
    }
  }
  // Forward: join the group of the producer of the first input that has one.
  for (const n of graph.nodes) {
    if (group.has(n.name)) continue;
    for (const t of n.inputs) {
      const p = producerOf(t);
      const g = p === null ? undefined : group.get(p);
      if (g !== undefined) {
        group.set(n.name, g);
        break;
      }
    }
  }
  // Backward: nodes before the first kernel (e.g. Conv+BN folded into the Relu's "_nchwc" kernel).
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i]!;
    if (group.has(n.name)) continue;
    outer: for (const o of n.outputs) {
      for (const c of graph.tensors.get(o)?.consumers ?? []) {
        const g = group.get(c);
        if (g !== undefined) {
          group.set(n.name, g);
          break outer;
        }
      }
    }
  }

  // Layout reorders (level "all") convert a tensor for the NCHWc kernel that runs next
  // (ReorderInput) or back after the one that ran before (ReorderOutput): their time goes to that
  // kernel's group, as it would be paid wherever that node runs.
  const reordersAttached: string[] = [];
  const seededFrom = (at: number, step: 1 | -1) => {
    let i = at;
    do i += step;
    while (i >= 0 && i < seededAt.length && seededAt[i] === null);
    return i;
  };
  for (const r of reorders) {
    const next = seededFrom(r.at, 1);
    const prev = seededFrom(r.at, -1);
    const input = r.input ?? (kernels[next]?.op.startsWith('Nhwc') === true || prev < 0);
    const seed = seededAt[input ? next : prev];
    if (seed === undefined || seed === null) {
      unattributed.push(r.kernel);
      continue;
    }
    groupKernels[group.get(seed)!]!.push(r.kernel);
    reordersAttached.push(r.kernel);
  }

  const members: string[][] = groupKernels.map(() => []);
  const eliminated: string[] = [];
  for (const n of graph.nodes) {
    const g = group.get(n.name);
    if (g === undefined) eliminated.push(n.name);
    else members[g]!.push(n.name);
  }

  const nodes = new Map<string, { kernels: readonly string[]; share: number }>();
  const fused: { kernel: string; nodes: readonly string[] }[] = [];
  members.forEach((ms, g) => {
    const ks = groupKernels[g]!;
    const w = (n: string) => weights.get(n) ?? { macs: 0, outputBytes: 0 };
    const macs = ms.reduce((s, n) => s + w(n).macs, 0);
    const bytes = ms.reduce((s, n) => s + w(n).outputBytes, 0);
    for (const n of ms) {
      const share = macs > 0 ? w(n).macs / macs : bytes > 0 ? w(n).outputBytes / bytes : 1 / ms.length;
      nodes.set(n, { kernels: ks, share });
    }
    if (ms.length > 1 || ks.some((k) => k !== ms[0])) fused.push({ kernel: ks.join('+'), nodes: ms });
  });
  return { nodes, fused, unattributedKernels: unattributed, eliminated, reorders: reordersAttached };
}
