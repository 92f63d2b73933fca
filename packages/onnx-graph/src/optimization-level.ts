// The optimisation level a model's onnxruntime session can be made at.
//
// onnxruntime's graph optimiser can turn a valid model into one it then refuses: at level
// "extended" and above it fuses a float8 QDQ Conv, Relu and QuantizeLinear into a QLinearConv, an op
// with no float8 type, and the session fails with "Type 'tensor(float8e4m3fn)' of input parameter
// (xq) of operator (QLinearConv) in node (conv) is invalid", naming an op the file does not have.
// At "basic" (constant folding, redundant nodes) the same model loads and runs. A user's model must
// not end there: the session is made at the highest level below that onnxruntime accepts, and the
// caller says so, since node and stage times at a lower level are not those of the usual one.

import { runtimeMessage } from './errors.js';

/** onnxruntime-node's graph optimisation levels, lowest first. */
export const OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;
export type OptimizationLevel = (typeof OPTIMIZATION_LEVELS)[number];

/**
 * The level sessions of one model (or stage) are made at, shared by every session made of it: it
 * starts at the level asked for and is lowered, once, when onnxruntime refuses its own optimised
 * graph. `refused` then holds the level that failed and onnxruntime's message.
 */
export interface LevelChoice {
  level: OptimizationLevel;
  refused?: { readonly level: OptimizationLevel; readonly message: string };
}

/** A new choice starting at `level` (default "all"). */
export function levelChoice(level: OptimizationLevel = 'all'): LevelChoice {
  return { level };
}

/**
 * Whether a session failure may be the optimiser's doing (worth a lower level): not a file that
 * cannot be read or parsed, nor memory that ran out, which fail at every level.
 */
export function optimiserMayHaveFailed(e: unknown): boolean {
  const m = e instanceof Error ? `${e.message} ${e.cause instanceof Error ? e.cause.message : ''}` : String(e);
  return !/Protobuf parsing failed|No such file|ENOENT|bad_alloc|Failed to allocate|out of memory|Unsupported model IR version|onnx\.ModelProto exceeds/i.test(m);
}

/**
 * `create(level)` at `choice.level`; when onnxruntime refuses it and the optimiser may be the cause,
 * at each lower level in turn. The first that works lowers `choice` for every later session of the
 * same model; when none does, the first failure is thrown (the model's own problem, worded at the
 * level asked for).
 */
export async function atUsableLevel<T>(choice: LevelChoice, create: (level: OptimizationLevel) => Promise<T>): Promise<T> {
  const asked = choice.level;
  try {
    return await create(asked);
  } catch (first) {
    if (asked === 'disabled' || !optimiserMayHaveFailed(first)) throw first;
    for (let i = OPTIMIZATION_LEVELS.indexOf(asked) - 1; i >= 0; i--) {
      const level = OPTIMIZATION_LEVELS[i]!;
      let made: T;
      try {
        made = await create(level);
      } catch {
        continue;
      }
      choice.level = level;
      choice.refused ??= { level: asked, message: runtimeMessage(first instanceof Error && first.cause instanceof Error ? first.cause : first, 240) };
      return made;
    }
    throw first;
  }
}

/** One line saying that `who` runs at a lower level than asked and why, or undefined when it runs as asked. */
export function levelNote(who: string, choice: LevelChoice): string | undefined {
  if (!choice.refused) return undefined;
  return `${who}: onnxruntime refuses the graph its optimiser makes at level "${choice.refused.level}" (${choice.refused.message}); run at level "${choice.level}", whose times are not those of level "${choice.refused.level}"`;
}
