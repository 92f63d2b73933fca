// The text form of shapes on the command line: `1x3x224x224`, `name=1x3x224x224`, a scalar `name=`,
// and a fixed value `name=<shape>:<values>` (`sr=:16000`).
import { GraphError } from './errors.js';
import { MAX_DIM } from './_proto.js';
import type { InputShapes, InputSpec, Shape } from './types.js';

/**
 * Parses `1x3x224x224` into [1, 3, 224, 224]; every dim a positive integer; the empty text is a
 * scalar, []. `spec` is the whole `--input` text errors name (`name=shape`); default the shape.
 */
export function parseShape(text: string, spec = text): Shape {
  const t = text.trim();
  if (t === '') return [];
  if (!/^\d+(x\d+)*$/i.test(t)) {
    throw new GraphError('GRAPH_BAD_SHAPE_SPEC', `--input ${spec}: a shape is positive integers joined by x, e.g. 1x3x224x224`);
  }
  const dims = t.toLowerCase().split('x').map(Number);
  for (const d of dims) {
    if (d === 0) {
      throw new GraphError('GRAPH_BAD_SHAPE_SPEC', `--input ${spec}: an empty dimension (0) is not supported, a plan's stages cost and carry real tensors; give the length the steady state has (a key/value cache of the tokens so far, e.g. 8)`);
    }
    if (d < 1 || d > MAX_DIM) throw new GraphError('GRAPH_BAD_SHAPE_SPEC', `--input ${spec}: dimension ${d} must be between 1 and ${MAX_DIM}`);
  }
  return dims;
}

/** Parses the `--input` values: one bare shape (for a single-input model) or `name=shape` each. */
export function parseInputSpecs(specs: readonly string[]): InputShapes {
  if (specs.length === 0) return {};
  const named = specs.map((s) => s.includes('='));
  if (named.every((n) => !n)) {
    if (specs.length > 1) throw new GraphError('GRAPH_BAD_SHAPE_SPEC', `--input given ${specs.length} times without names; use --input <name>=<shape> for each input`);
    return parseShape(specs[0]!);
  }
  if (!named.every(Boolean)) throw new GraphError('GRAPH_BAD_SHAPE_SPEC', `--input: mix of bare shapes and name=shape; name every input`);
  const out: Record<string, Shape | InputSpec> = {};
  for (const s of specs) {
    const eq = s.indexOf('=');
    const name = s.slice(0, eq);
    if (name === '') throw new GraphError('GRAPH_BAD_SHAPE_SPEC', `--input ${s}: the input name is empty`);
    if (name in out) throw new GraphError('GRAPH_BAD_SHAPE_SPEC', `--input ${name} given twice`);
    const rest = s.slice(eq + 1);
    const colon = rest.indexOf(':');
    if (colon < 0) {
      out[name] = parseShape(rest, s);
      continue;
    }
    // name=<shape>:<values>: a fixed value, e.g. sr=:16000 for a scalar sample rate.
    const shape = parseShape(rest.slice(0, colon), s);
    const text = rest.slice(colon + 1).trim();
    const value = text === '' ? [] : text.split(',').map((v) => Number(v.trim()));
    const n = shape.reduce((a, b) => a * b, 1);
    if (value.some((v) => !Number.isFinite(v)) || value.length !== n) {
      throw new GraphError('GRAPH_BAD_SHAPE_SPEC', `--input ${s}: after ":" give ${n} number${n === 1 ? '' : 's'} separated by commas for shape [${shape.join(',')}], e.g. --input ${name}=${shape.join('x')}:${new Array<string>(n).fill('1').slice(0, 4).join(',')}`);
    }
    if (n > 4096) throw new GraphError('GRAPH_BAD_SHAPE_SPEC', `--input ${name}: a fixed value is for small inputs (a scalar, a few numbers), not ${n} elements`);
    out[name] = { shape, value };
  }
  return out;
}

/** `--loop-trips` text (`loop_1=12`, once per Loop node) -> `LoadOptions.loopTrips`. */
export function parseLoopTrips(specs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of specs) {
    const eq = s.lastIndexOf('=');
    const node = eq > 0 ? s.slice(0, eq) : '';
    const text = eq > 0 ? s.slice(eq + 1).trim() : '';
    const n = Number(text);
    if (node === '' || text === '' || !Number.isSafeInteger(n) || n < 0) {
      throw new GraphError('GRAPH_LOOP_TRIPS', `--loop-trips ${s}: give <Loop node>=<iterations>, a whole number >= 0, e.g. --loop-trips ${node || 'loop'}=12`);
    }
    if (node in out) throw new GraphError('GRAPH_LOOP_TRIPS', `--loop-trips ${node} given twice`);
    out[node] = n;
  }
  return out;
}
