// skl2onnx ends a classifier in ZipMap (ai.onnx.ml): the class probabilities as a list of
// {label: probability} maps, one per sample. onnxruntime-node hands back tensors only, so no run of
// such a model, nor of the stage that ends it, can return that output. The probabilities are the
// ZipMap's input, a tensor: when nothing else reads the ZipMap's output, the node is left out and
// its input becomes the graph output in its place, what skl2onnx writes with options {zipmap: False}.
// Each one is reported (LoadedModel.replacedOutputs), so that nobody takes the tensor for the maps.
import { create } from '@bufbuild/protobuf';
import { ValueInfoProtoSchema, type ModelProto } from 'onnx-buf';

/** A graph output that was a ZipMap's list of maps, now its input tensor. */
export interface ReplacedOutput {
  /** The output the file declares (a list of maps). */
  readonly output: string;
  /** The node that made it, and its op. */
  readonly node: string;
  readonly op: string;
  /** The tensor now given in its place. */
  readonly tensor: string;
  /** The warning in one line. */
  readonly message: string;
}

const ML_DOMAIN = 'ai.onnx.ml';

/** Leaves out every ZipMap whose only reader is the graph's output, giving its input instead; `proto` is changed in place. */
export function replaceZipMapOutputs(proto: ModelProto): ReplacedOutput[] {
  const g = proto.graph!;
  const read = new Set(g.node.flatMap((n) => n.input));
  const given = new Set(g.output.map((o) => o.name));
  const replaced: ReplacedOutput[] = [];
  const dropped = new Set<number>();
  g.node.forEach((n, i) => {
    const out = n.output[0];
    const input = n.input[0];
    if (n.opType !== 'ZipMap' || n.domain !== ML_DOMAIN || !out || !input || !given.has(out) || read.has(out)) return;
    // The probabilities may be a graph output already (skl2onnx names both): give it once.
    const at = g.output.findIndex((o) => o.name === out);
    if (given.has(input)) g.output.splice(at, 1);
    else g.output[at] = create(ValueInfoProtoSchema, { name: input });
    given.add(input);
    dropped.add(i);
    replaced.push({
      output: out, node: n.name, op: n.opType, tensor: input,
      message: `graph output ${out} (made by node ${n.name}, ZipMap) is a list of maps, which onnxruntime-node cannot hand back: the model gives its input ${input} (the same probabilities as a tensor, one row per sample) in its place`,
    });
  });
  if (dropped.size > 0) g.node = g.node.filter((_, i) => !dropped.has(i));
  return replaced;
}
