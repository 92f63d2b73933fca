// Plans over a real zoo network: prefix cuts, and DAG plans that split the parallel branches of a
// Fire module (SqueezeNet 1.1), so a stage reads tensors from a stage before the previous one.
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { loadModel, type LoadedModel } from '@dnnpart/onnx-graph';
import { buildZooModel } from '@dnnpart/zoo';
import type { RunPlan } from '@dnnpart/runtime';

let cached: { bytes: Uint8Array; model: LoadedModel } | undefined;

/** SqueezeNet 1.1 at 1x3x224x224 with the zoo's seeded weights. */
export async function squeezenet(): Promise<{ bytes: Uint8Array; model: LoadedModel }> {
  if (!cached) {
    const bytes = buildZooModel('squeezenet1_1');
    cached = { bytes, model: await loadModel(bytes) };
  }
  return cached;
}

/**
 * x bfloat16 [1,3,16,16] -> Cast -> Conv (c) -> Cast to bfloat16 -> `mid` in bfloat16 (t, an output;
 * a Transpose, or a Relu, which onnxruntime's CPU has no bfloat16 kernel for) -> Cast -> Conv -> Add c
 * -> Cast -> y bfloat16. Nodes in, conv, tobf, mid | tof, conv2, skip, out.
 */
export function bfloat16Model(mid: 'Transpose' | 'Relu'): Uint8Array {
  const vi = (name: string, elemType: number, dims: number[]) => ({ name, type: { value: { case: 'tensorType' as const, value: { elemType, shape: { dim: dims.map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })) } } } } });
  const w = (name: string, dims: number[]) => ({ name, dataType: 1, dims: dims.map(BigInt), rawData: new Uint8Array(Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => 0.2 * Math.sin(i * 1.7)).buffer) });
  const node = (opType: string, name: string, input: string[], output: string[], attribute: object[] = []) => ({ opType, name, input, output, attribute });
  const to = (t: number) => [{ name: 'to', type: 2, i: BigInt(t) }];
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, {
    irVersion: 8n, opsetImport: [{ domain: '', version: 17n }],
    graph: {
      name: 'bf16', initializer: [w('w1', [8, 3, 3, 3]), w('w2', [8, 8, 3, 3])], input: [vi('x', 16, [1, 3, 16, 16])], output: [{ name: 'y' }, { name: 't' }],
      node: [
        node('Cast', 'in', ['x'], ['xf'], to(1)), node('Conv', 'conv', ['xf', 'w1'], ['c'], [{ name: 'pads', type: 7, ints: [1n, 1n, 1n, 1n] }]),
        node('Cast', 'tobf', ['c'], ['cb'], to(16)), node(mid, 'mid', ['cb'], ['t'], mid === 'Transpose' ? [{ name: 'perm', type: 7, ints: [0n, 1n, 3n, 2n] }] : []),
        node('Cast', 'tof', ['t'], ['tf'], to(1)), node('Conv', 'conv2', ['tf', 'w2'], ['c2'], [{ name: 'pads', type: 7, ints: [1n, 1n, 1n, 1n] }]),
        node('Add', 'skip', ['c2', 'c'], ['s']), node('Cast', 'out', ['s'], ['y'], to(16)),
      ],
    },
  }));
}

/** Contiguous stages of the topological order, cut at the given fractions. */
export function prefixPlan(model: LoadedModel, boards: readonly string[]): RunPlan {
  const names = model.graph.nodes.map((n) => n.name);
  const k = boards.length;
  return {
    stages: boards.map((board, i) => ({ board, nodes: names.slice(Math.floor((i * names.length) / k), Math.floor(((i + 1) * names.length) / k)), computeMs: 1 })),
  };
}

/**
 * Stages that are not a prefix cut: the first Concat past a third of the graph joins two
 * branches that both read one squeeze output. The branch later in the node order goes to an
 * earlier stage than the other one, so stage order and node order disagree. With [a, b]: a runs
 * everything before the Concat but the early branch; b runs the early branch and the rest.
 * With [a, b, c]: b runs only the late branch, so c reads a's squeeze output through b.
 */
export function branchPlan(model: LoadedModel, boards: readonly string[]): RunPlan {
  const g = model.graph;
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const concat = g.nodes.find((n) => n.op === 'Concat' && n.index > g.nodes.length / 3)!;
  const branch = (tensor: string): string[] => {
    // The producers back to the branch's Conv (the squeeze both branches read stays out).
    const out: string[] = [];
    for (let t = tensor; ; ) {
      const node = byName.get(g.tensors.get(t)!.producer!)!;
      out.push(node.name);
      if (node.op === 'Conv') return out;
      t = node.inputs[0]!;
    }
  };
  const last = (names: readonly string[]) => Math.max(...names.map((n) => byName.get(n)!.index));
  const [early, late] = [branch(concat.inputs[0]!), branch(concat.inputs[1]!)].sort((x, y) => last(x) - last(y)) as [string[], string[]];
  const rest = g.nodes.filter((n) => n.index >= concat.index).map((n) => n.name);
  const taken = new Set([...early, ...late, ...rest]);
  const head = g.nodes.filter((n) => !taken.has(n.name)).map((n) => n.name);
  if (boards.length === 2) return { stages: [{ board: boards[0]!, nodes: [...head, ...late] }, { board: boards[1]!, nodes: [...early, ...rest] }] };
  return { stages: [{ board: boards[0]!, nodes: head }, { board: boards[1]!, nodes: late }, { board: boards[2]!, nodes: [...early, ...rest] }] };
}

/** True when some stage runs a node that comes before a node of an earlier stage in the node order. */
export function isPrefixCut(model: LoadedModel, plan: RunPlan): boolean {
  const index = new Map(model.graph.nodes.map((n) => [n.name, n.index]));
  let prevMax = -1;
  for (const s of plan.stages) {
    const idx = s.nodes.map((n) => index.get(n)!);
    if (Math.min(...idx) < prevMax) return false;
    prevMax = Math.max(...idx);
  }
  return true;
}

/**
 * x float [1,64] -> Relu (relu) -> a -> Sigmoid (sig) -> b -> Neg (neg) -> y, and Tanh (tanh) of a ->
 * `early`, a model output no later node reads: a plan [relu, tanh] | [sig] | [neg] makes it in its
 * first stage.
 */
export function earlyOutputModel(): Uint8Array {
  const vi = (name: string) => ({ name, type: { value: { case: 'tensorType' as const, value: { elemType: 1, shape: { dim: [1, 64].map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })) } } } } });
  const node = (opType: string, name: string, input: string, output: string) => ({ opType, name, input: [input], output: [output] });
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, {
    irVersion: 8n, opsetImport: [{ domain: '', version: 17n }],
    graph: {
      name: 'early_output', input: [vi('x')], output: [vi('y'), vi('early')],
      node: [node('Relu', 'relu', 'x', 'a'), node('Tanh', 'tanh', 'a', 'early'), node('Sigmoid', 'sig', 'a', 'b'), node('Neg', 'neg', 'b', 'y')],
    },
  }));
}

/**
 * x float [1] -> Expand (`big`, a float [n] output of `mb` MiB) -> ReduceSum -> y [1]: a stage cut
 * after `expand` hands back a tensor that large every run. Nodes expand, sum. With `bigOut`, the
 * model is the Expand alone and `big` its output.
 */
export function largeOutputModel(mb: number, bigOut = false): Uint8Array {
  const n = (mb * 2 ** 20) / 4;
  const vi = (name: string, dims: number[]) => ({ name, type: { value: { case: 'tensorType' as const, value: { elemType: 1, shape: { dim: dims.map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })) } } } } });
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, {
    irVersion: 8n, opsetImport: [{ domain: '', version: 17n }],
    graph: {
      name: 'large_output',
      initializer: [{ name: 'shape', dataType: 7, dims: [1n], int64Data: [BigInt(n)] }],
      input: [vi('x', [1])], output: [bigOut ? vi('big', [n]) : vi('y', [1])],
      node: [
        { opType: 'Expand', name: 'expand', input: ['x', 'shape'], output: ['big'] },
        ...(bigOut ? [] : [{ opType: 'ReduceSum', name: 'sum', input: ['big'], output: ['y'], attribute: [{ name: 'keepdims', type: 2, i: 1n }] }]),
      ],
    },
  }));
}

/**
 * xq of ONNX `type` (int4 22, float8e4m3fn 17, ...) [1,9] -> DequantizeLinear (dqx) -> Relu (relu, `r`)
 * -> QuantizeLinear (q, `yq`, an output too) -> DequantizeLinear (dqy) -> Add r (add) -> y float32:
 * tensors onnxruntime-node can neither feed nor hand back at the input, across a cut after q, and out.
 */
export function quantizedEdgeModel(type: number): Uint8Array {
  const vi = (name: string, elemType: number) => ({ name, type: { value: { case: 'tensorType' as const, value: { elemType, shape: { dim: [1, 9].map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })) } } } } });
  const node = (opType: string, name: string, input: string[], output: string[]) => ({ opType, name, input, output });
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, {
    irVersion: 10n, opsetImport: [{ domain: '', version: 21n }],
    graph: {
      name: 'quantized_edges', input: [vi('xq', type)], output: [vi('y', 1), vi('yq', type)],
      initializer: [{ name: 's', dataType: 1, dims: [], floatData: [0.25] }, { name: 'z', dataType: type, dims: [], rawData: new Uint8Array(1) }],
      node: [
        node('DequantizeLinear', 'dqx', ['xq', 's', 'z'], ['x']), node('Relu', 'relu', ['x'], ['r']), node('QuantizeLinear', 'q', ['r', 's', 'z'], ['yq']),
        node('DequantizeLinear', 'dqy', ['yq', 's', 'z'], ['yd']), node('Add', 'add', ['yd', 'r'], ['y']),
      ],
    },
  }));
}

/**
 * x float32 [1,3,8,8] -> QuantizeLinear / DequantizeLinear (float8e4m3fn) -> Conv (weights float8,
 * dequantized) -> Relu -> QuantizeLinear (qy, `yq`) -> DequantizeLinear (dqy) -> GlobalAveragePool
 * (gap) -> y: onnxruntime's optimiser (level "extended" and up) fuses qx..qy into a QLinearConv, which
 * has no float8 type, and then refuses its own graph; at level "basic" the model runs.
 */
export function optimiserRefusedModel(): Uint8Array {
  const F8 = 17;
  const vi = (name: string, dims: number[]) => ({ name, type: { value: { case: 'tensorType' as const, value: { elemType: 1, shape: { dim: dims.map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })) } } } } });
  const node = (opType: string, name: string, input: string[], output: string[], attribute: { name: string; type: number; ints: bigint[] }[] = []) => ({ opType, name, input, output, attribute });
  // float8e4m3fn bytes of small values of both signs (0x38 is 1.0; the sign is the top bit).
  const weights = Uint8Array.from({ length: 8 * 3 * 3 * 3 }, (_, i) => ((i * 37) % 0x38) | (i % 3 === 0 ? 0x80 : 0));
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, {
    irVersion: 10n, opsetImport: [{ domain: '', version: 21n }],
    graph: {
      name: 'optimiser_refused', input: [vi('x', [1, 3, 8, 8])], output: [vi('y', [1, 8, 1, 1])],
      initializer: [
        { name: 'sx', dataType: 1, dims: [], floatData: [0.05] }, { name: 'zx', dataType: F8, dims: [], rawData: new Uint8Array(1) },
        { name: 'wq', dataType: F8, dims: [8n, 3n, 3n, 3n], rawData: weights }, { name: 'sw', dataType: 1, dims: [], floatData: [0.01] },
        { name: 'sy', dataType: 1, dims: [], floatData: [0.02] },
      ],
      node: [
        node('QuantizeLinear', 'qx', ['x', 'sx', 'zx'], ['xq']), node('DequantizeLinear', 'dqx', ['xq', 'sx', 'zx'], ['xd']),
        node('DequantizeLinear', 'dqw', ['wq', 'sw'], ['w']), node('Conv', 'conv', ['xd', 'w'], ['c'], [{ name: 'pads', type: 7, ints: [1n, 1n, 1n, 1n] }]),
        node('Relu', 'relu', ['c'], ['rc']), node('QuantizeLinear', 'qy', ['rc', 'sy', 'zx'], ['yq']),
        node('DequantizeLinear', 'dqy', ['yq', 'sy', 'zx'], ['yd']), node('GlobalAveragePool', 'gap', ['yd'], ['y']),
      ],
    },
  }));
}

/** x float [1, n] (n a dynamic dim, "len") -> Relu -> Neg -> y: a model a profile needs --input for. */
export function dynamicLengthModel(): Uint8Array {
  const vi = (name: string) => ({ name, type: { value: { case: 'tensorType' as const, value: { elemType: 1, shape: { dim: [{ value: { case: 'dimValue' as const, value: 1n } }, { value: { case: 'dimParam' as const, value: 'len' } }] } } } } });
  const node = (opType: string, name: string, input: string, output: string) => ({ opType, name, input: [input], output: [output] });
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, {
    irVersion: 8n, opsetImport: [{ domain: '', version: 17n }],
    graph: { name: 'dynamic_length', input: [vi('x')], output: [vi('y')], node: [node('Relu', 'relu', 'x', 'a'), node('Neg', 'neg', 'a', 'y')] },
  }));
}
