// What every graph pass reports, and the context the passes that need shapes get.
import { create } from '@bufbuild/protobuf';
import { ValueInfoProtoSchema, type ModelProto, type TensorProto } from 'onnx-buf';
import type { Info } from './_infer.js';
import type { Graph } from './types.js';

/** The change one pass made to a model. */
export interface PassResult {
  /** Nodes the pass removed, with their op. */
  readonly removed: readonly { readonly name: string; readonly op: string }[];
  readonly addedInitializers: number;
  readonly removedInitializers: number;
  /** Nodes the pass kept but changed (their inputs or attributes), with their op. */
  readonly rewritten?: readonly { readonly name: string; readonly op: string }[];
}

/** A pass over the model proto; passes that need shapes get the current analysis. */
export interface Pass {
  readonly name: string;
  readonly description: string;
  readonly needsShapes: boolean;
  /**
   * True when a change by this pass brings tensors the last analysis does not know (an inlined
   * branch). Other passes keep every remaining tensor's shape, so the analysis stays valid for them.
   */
  readonly addsTensors?: boolean;
  run(proto: ModelProto, ctx: PassContext): PassResult;
}

export interface PassContext {
  readonly label: string;
  /** The analysed graph of the proto as it is when the pass starts (only for passes that need shapes). */
  readonly graph?: Graph;
  readonly info?: ReadonlyMap<string, Info>;
}

/** True when a node carries subgraphs (If, Loop, Scan and custom ops with graph attributes). */
export function hasSubgraphs(n: { readonly attribute: readonly { readonly g?: unknown; readonly graphs: readonly unknown[] }[] }): boolean {
  return n.attribute.some((a) => a.g !== undefined || a.graphs.length > 0);
}

/** Default ONNX domain. */
export function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

/** Adds initializers to the graph (and, before IR 4, as graph inputs); drops value_info they replace. */
export function addInitializers(proto: ModelProto, tensors: readonly TensorProto[]): void {
  const g = proto.graph!;
  g.initializer.push(...tensors);
  if (proto.irVersion < 4n) {
    for (const t of tensors) {
      g.input.push(create(ValueInfoProtoSchema, {
        name: t.name,
        type: { value: { case: 'tensorType', value: { elemType: t.dataType, shape: { dim: t.dims.map((d) => ({ value: { case: 'dimValue' as const, value: d } })) } } } },
      }));
    }
  }
  const names = new Set(tensors.map((t) => t.name));
  g.valueInfo = g.valueInfo.filter((v) => !names.has(v.name));
}
