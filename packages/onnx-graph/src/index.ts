export type * from './types.js';
export { GraphError, isGraphError, runtimeMessage, runtimeLoadFailure, unknownRuntimeOp, type GraphErrorCode } from './errors.js';
export { loadModel, decodeModel, type EmptyTensor, type LoadedModel, type LoadOptions } from './load.js';
export type { ReplacedOutput } from './_pass-zipmap.js';
export type { ShapeMismatch } from './_build.js';
export { simplifyProto, PASSES, type SimplifyReport, type PassReport } from './simplify.js';
export { parseShape, parseInputSpecs, parseLoopTrips } from './shapes.js';
export { nodeCost, graphCosts, convWeight, type GraphCosts } from './costs.js';
export { cutPoints } from './cuts.js';
export { dataSizedTensors, valueTimedNodes, type ValueTimedNode } from './data-sized.js';
export { EXTERNAL_DATA_ABOVE, disposeModelFiles, externalDataAbove, externalDataLocations, modelSource, weightBytes, writeModelFile, type ModelFiles } from './model-file.js';
export { cpuBytes, liveBytes, scratchBytes } from './live.js';
export { graphParts, type GraphPartsOptions, type PartNode, type PartTensor } from './graph-parts.js';
export { inspectModel, inputBranches, type InspectResult, type InspectTensor, type InspectLayer, type InputBranch } from './inspect.js';
export {
  splitModel, writeSplit, saveModel, encodeModel, stageAssignment, runnableModel, wholeStage, edgeDtype, edgeBytes,
  type SplitSpec, type SplitResult, type StageModel,
} from './split.js';
export { tensorFromProto, tensorOf, typedArrayFor } from './tensors.js';
export { toHalfBits, fromHalfBits, halfRound } from './half.js';
export { encodeInt8, decodeInt8, encodeHalf, decodeHalf, type Int8Encoded } from './tensor-encoding.js';
export { byteSize, onnxElementType } from './_proto.js';
export { FRESH_OUTPUT_BYTES, REUSE_ENV, REUSE_PREFIX, freshOutputAdvice, glibcVersion, largeOutputBytes, outputMemory, runWithReusedMemory, type LargeOutputs } from './output-memory.js';
export { OPTIMIZATION_LEVELS, atUsableLevel, levelChoice, levelNote, optimiserMayHaveFailed, type LevelChoice, type OptimizationLevel } from './optimization-level.js';
export { verifySplit, runModel, runStages, maxAbsDiff, randomFeeds, sampleInputs, setRuntimeLogLevel, type SplitCheck } from './verify.js';
export { SAMPLE_SEED, prng, seededInputs, zeroInputsAdvice, type InputToFeed } from './sample-input.js';
