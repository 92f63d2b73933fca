// An Einsum equation read against its operands' shapes: the one reading that shape inference (the
// output's shape) and the cost model (every index's size) both take.

export interface EinsumIndices {
  /** The operands' subscripts, e.g. ['bqhd', 'bkhd']. */
  readonly terms: readonly string[];
  /** The output's subscripts after "->", or undefined (implicit output). */
  readonly output: string | undefined;
  /** Each index letter's size (a size-1 operand dimension broadcasts). */
  readonly size: ReadonlyMap<string, number>;
  /** How many times each letter appears over the operands (once: kept by an implicit output). */
  readonly seen: ReadonlyMap<string, number>;
  /** The "..." dimensions, broadcast over the operands as numpy does; undefined when no term has "...". */
  readonly ellipsis: readonly number[] | undefined;
}

/** The indices of `equation` sized by `shapes`; undefined when the equation and the shapes do not fit. */
export function einsumIndices(equation: string, shapes: readonly (readonly number[])[]): EinsumIndices | undefined {
  const [lhs = '', output] = equation.replace(/\s/g, '').split('->');
  const terms = lhs.split(',');
  if (terms.length !== shapes.length) return undefined;
  const size = new Map<string, number>();
  const seen = new Map<string, number>();
  let ellipsis: number[] | undefined;
  for (const [i, term] of terms.entries()) {
    const shape = shapes[i]!;
    const letters = term.replace('...', '');
    if (!/^[A-Za-z]*$/.test(letters)) return undefined;
    const spread = shape.length - letters.length;
    if (spread < 0 || (!term.includes('...') && spread !== 0)) return undefined;
    for (let j = 0, at = 0; j < term.length;) {
      if (term.startsWith('...', j)) {
        // Aligned on the right against the other operands' "..." dimensions.
        const dims = shape.slice(at, at + spread);
        const prev = ellipsis ?? [];
        const n = Math.max(prev.length, dims.length);
        const merged: number[] = [];
        for (let k = 0; k < n; k++) {
          const x = prev[prev.length - n + k] ?? 1;
          const y = dims[dims.length - n + k] ?? 1;
          if (x !== y && x !== 1 && y !== 1) return undefined;
          merged.push(x === 1 ? y : x);
        }
        ellipsis = merged;
        at += spread;
        j += 3;
        continue;
      }
      const l = term[j]!;
      const d = shape[at]!;
      const before = size.get(l);
      if (before !== undefined && before !== d && before !== 1 && d !== 1) return undefined;
      size.set(l, before === undefined || before === 1 ? d : before);
      seen.set(l, (seen.get(l) ?? 0) + 1);
      at += 1;
      j += 1;
    }
  }
  return { terms, output, size, seen, ellipsis };
}
