// Integer inputs that are token ids: the rows of embedding tables. Zeros are a valid index, but a
// text model reads all-zero ids as all padding (ids == 0 is its padding mask), and its masked
// attention then gives NaN: every output of the sample run, every comparison of stages with the
// whole model, every score. The sample input draws such an input's ids over its table's rows instead.
import type { DType } from './types.js';

/** What reads an input: a node's op, domain and inputs (its subgraph reads count as an op of their own). */
export interface IdReader {
  readonly op: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  /** A Gather's axis (default 0). */
  readonly axis?: number;
}

/**
 * Ops that may read token ids without caring which ids they are: the padding mask's comparisons,
 * a Cast, and Shape and Size, which read no values at all (an exporter's dynamic sequence length).
 */
const ID_READERS = new Set(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'Not', 'Cast', 'Shape', 'Size']);

/**
 * The rows to draw an input's ids over, or undefined when it is no token input. A token input is
 * an integer input every reader of which is a Gather taking it as the indices into an initializer
 * (at least one), or an op of ID_READERS; its rows are its smallest table's along the Gather's axis.
 * Ids are drawn in [1, rows): 0 is the padding id of most vocabularies.
 */
export function tokenRows(
  input: string, dtype: DType, readers: readonly IdReader[], initializerShape: (name: string) => readonly number[] | undefined,
): number | undefined {
  if (!/^u?int(8|16|32|64)$/.test(dtype) || readers.length === 0) return undefined;
  let rows = Infinity;
  let gathers = 0;
  for (const n of readers) {
    if (n.domain !== '' && n.domain !== 'ai.onnx') return undefined;
    if (n.op === 'Gather' && n.inputs[1] === input && n.inputs[0] !== input) {
      const table = initializerShape(n.inputs[0]!);
      if (!table) return undefined;
      const axis = n.axis ?? 0;
      const dim = table[axis < 0 ? axis + table.length : axis];
      if (dim === undefined) return undefined;
      rows = Math.min(rows, dim);
      gathers++;
    } else if (!ID_READERS.has(n.op)) return undefined;
  }
  return gathers > 0 && rows > 1 && Number.isFinite(rows) ? rows : undefined;
}
