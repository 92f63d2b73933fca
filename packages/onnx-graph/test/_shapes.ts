// Every tensor of a loaded model as the graph has it (type and shape: what transfers and memory are
// priced from) against what onnxruntime computes for it in one run of the model on `feeds`.
import { clone, create } from '@bufbuild/protobuf';
import { ModelProtoSchema, ValueInfoProtoSchema } from 'onnx-buf';
import type * as ort from 'onnxruntime-node';
import { edgeDtype, encodeModel, runModel, runnableModel, type LoadedModel } from '@dnnpart/onnx-graph';

/**
 * Runs the loaded model with every tensor a node makes as an output too (but those onnxruntime-node
 * cannot hand back: bfloat16, float8, int4) and returns the run's results with one line per tensor
 * whose type or shape differs from the graph's.
 */
export async function tensorsAgainstOrt(model: LoadedModel, feeds: Record<string, ort.Tensor>): Promise<{ results: Record<string, ort.Tensor>; differ: string[] }> {
  const { graph } = model;
  const produced = graph.nodes.flatMap((nd) => nd.outputs).filter((o) => {
    const d = graph.tensors.get(o)?.dtype;
    return o !== '' && !graph.outputs.includes(o) && d !== undefined && edgeDtype(d) === d;
  });
  const all = clone(ModelProtoSchema, runnableModel(model));
  for (const o of produced) all.graph!.output.push(create(ValueInfoProtoSchema, { name: o }));
  const results = await runModel(encodeModel(all), feeds, [...graph.outputs, ...produced]);
  const differ: string[] = [];
  for (const o of [...graph.outputs, ...produced]) {
    const x = graph.tensors.get(o)!;
    const r = results[o];
    if (!r) differ.push(`tensor ${o} (node ${x.producer}): not in onnxruntime's results`);
    else if (edgeDtype(x.dtype) !== r.type || x.shape.join() !== r.dims.join()) differ.push(`tensor ${o} (node ${x.producer}): dnnpart ${x.dtype}[${x.shape.join(',')}], onnxruntime ${r.type}[${r.dims.join(',')}]`);
  }
  return { results, differ };
}
