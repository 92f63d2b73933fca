// Model files onnxruntime can read whatever their size. onnxruntime parses a model as one protobuf
// message, which cannot pass 2 GB ("Model data size exceeds maximum supported size (2GB)"): a model
// whose weights come near that is written with its large weights in a data file beside it (ONNX's
// external data, as torch.onnx and onnx.save_model write models over 2 GB), which onnxruntime reads
// by the model file's path.
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, TensorProto_DataLocation, TensorProtoSchema, type GraphProto, type ModelProto, type TensorProto } from 'onnx-buf';
import { GraphError } from './errors.js';
import { tensorRawBytes } from './_proto.js';
import { encodeModel } from './split.js';

/**
 * Weight bytes above which a model file keeps its weights in a data file: below protobuf's 2 GB
 * with room for the graph itself and the weights held in typed fields, which stay inline.
 */
export const EXTERNAL_DATA_ABOVE = 1.5 * 2 ** 30;

/**
 * The threshold in force: EXTERNAL_DATA_ABOVE, or the environment's DNNPART_EXTERNAL_DATA_ABOVE
 * (bytes; the tests take small models down the path of large ones with it).
 */
export function externalDataAbove(): number {
  const v = process.env['DNNPART_EXTERNAL_DATA_ABOVE'];
  if (v === undefined || v === '') return EXTERNAL_DATA_ABOVE;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new GraphError('GRAPH_EXTERNAL_DATA', `DNNPART_EXTERNAL_DATA_ABOVE=${v}: give a whole number of bytes (default ${EXTERNAL_DATA_ABOVE})`);
  return n;
}

/** Weights smaller than this stay inline even in a model written with a data file (as onnx.save_model's size_threshold). */
const INLINE_BELOW = 1024;

/** Offsets in the data file are multiples of this (a page: onnxruntime may map the file). */
const ALIGN = 4096;

/** Bytes of one initializer as stored: its raw data, or its typed fields at their element size. */
const stored = (t: TensorProto) => t.rawData.length + 4 * (t.floatData.length + t.int32Data.length) + 8 * (t.int64Data.length + t.doubleData.length + t.uint64Data.length);

/** ONNX's string element type: no raw form, kept inline. */
const STRING = 8;

/** Bytes of the main graph's initializers as stored (raw data; typed fields at their element size). */
export function weightBytes(proto: ModelProto): number {
  return (proto.graph?.initializer ?? []).reduce((n, t) => n + stored(t), 0);
}

/**
 * Writes `proto` to `file`: as one message, or, when its weights pass `above` bytes (externalDataAbove), with every raw
 * initializer of 1 kB or more in `<file>.data` beside it (location relative to the model's
 * directory, as onnxruntime requires). `proto` is not modified (stage protos share initializers).
 * Returns the files written.
 */
export function writeModelFile(proto: ModelProto, file: string, above = externalDataAbove()): string[] {
  const write = (path: string, what: () => void) => {
    try {
      what();
    } catch (e) {
      throw new GraphError('GRAPH_WRITE_FAILED', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
    }
  };
  // Raw bytes, or the values of the typed fields (float_data, ...) as raw bytes; strings stay inline.
  const rawOf = (t: TensorProto) => (t.dataType !== STRING && t.rawData.length === 0 && stored(t) >= INLINE_BELOW ? tensorRawBytes(t, `initializer ${t.name}`) : t.rawData);
  const raws = weightBytes(proto) > above ? proto.graph!.initializer.map(rawOf) : [];
  if (!raws.some((raw) => raw.length >= INLINE_BELOW)) {
    write(file, () => writeFileSync(file, encodeModel(proto)));
    return [file];
  }
  const dataFile = `${file}.data`;
  const location = basename(dataFile);
  const initializer: TensorProto[] = [];
  write(dataFile, () => {
    const fd = openSync(dataFile, 'w');
    try {
      let offset = 0;
      for (const [i, t] of proto.graph!.initializer.entries()) {
        const raw = raws[i]!;
        if (raw.length < INLINE_BELOW) {
          initializer.push(t);
          continue;
        }
        offset = Math.ceil(offset / ALIGN) * ALIGN;
        for (let done = 0; done < raw.length;) done += writeSync(fd, raw, done, raw.length - done, offset + done);
        initializer.push(create(TensorProtoSchema, {
          name: t.name, dims: t.dims, dataType: t.dataType, docString: t.docString,
          dataLocation: TensorProto_DataLocation.EXTERNAL,
          externalData: [{ key: 'location', value: location }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(raw.length) }],
        }));
        offset += raw.length;
      }
    } finally {
      closeSync(fd);
    }
  });
  const g = proto.graph!;
  const graph = create(GraphProtoSchema, { ...g, initializer });
  write(file, () => writeFileSync(file, encodeModel(create(ModelProtoSchema, { ...proto, graph }))));
  return [file, dataFile];
}

/** Where modelSource writes the models it gives by path: a directory made on first need (or given), removed by disposeModelFiles. */
export interface ModelFiles {
  dir?: string;
  /** Files written so far (their names are numbered). */
  count?: number;
}

/**
 * What onnxruntime should load for `proto`: its bytes, or, when its weights pass `above` bytes
 * (externalDataAbove), the path of a file written in `files.dir` with them beside it
 * (writeModelFile), since onnxruntime takes no model over 2 GB as bytes. `name` names the file.
 */
export async function modelSource(proto: ModelProto, files: ModelFiles, name = 'model', above = externalDataAbove()): Promise<Uint8Array | string> {
  if (weightBytes(proto) <= above) return encodeModel(proto);
  if (files.dir === undefined) {
    // Two calls at once may both get here: the later one's directory goes, so that one is left to remove.
    const dir = await mkdtemp(join(tmpdir(), 'dnnpart-models-'));
    if (files.dir === undefined) files.dir = dir;
    else await rm(dir, { recursive: true, force: true });
  }
  files.count = (files.count ?? 0) + 1;
  return writeModelFile(proto, join(files.dir, `${files.count}-${name.replace(/[^\w.-]+/g, '_')}.onnx`), above)[0]!;
}

/** Removes what modelSource wrote (its directory, made or given). */
export async function disposeModelFiles(files: ModelFiles): Promise<void> {
  if (files.dir) await rm(files.dir, { recursive: true, force: true });
}


/**
 * The files an ONNX model keeps its weights in beside it (its external data), as the locations its
 * initializers give them, relative to the model's directory: those of the main graph and of every
 * subgraph (If and Loop bodies), each once, in the order first named. Empty for a model in one file.
 */
export function externalDataLocations(proto: ModelProto): string[] {
  const found = new Set<string>();
  const visit = (g: GraphProto | undefined, depth: number) => {
    if (!g || depth > 64) return;
    for (const t of g.initializer) {
      if (t.dataLocation !== TensorProto_DataLocation.EXTERNAL) continue;
      const location = t.externalData.find((e) => e.key === 'location')?.value;
      if (location) found.add(location);
    }
    for (const n of g.node) for (const a of n.attribute) for (const sub of a.g ? [a.g, ...a.graphs] : a.graphs) visit(sub, depth + 1);
  };
  visit(proto.graph, 0);
  return [...found];
}
