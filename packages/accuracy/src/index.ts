// @dnnpart/accuracy: precision as a dimension of a plan, measured by running it.
export { AccuracyError, isAccuracyError, type AccuracyErrorCode } from './errors.js';
export {
  cosine, sqnrDb, toDb, signalNoise, topK, argmax, topKAgreement, wilsonInterval, FidelityAccumulator, type Fidelity,
} from './metrics.js';
export {
  transferEncodings, isTransferEncoding, parseTransferEncoding, encodedBytes, scaleTransferBytes, encodeInt8, decodeInt8,
  roundTrip, INT8_HEADER_BYTES, type TransferEncoding, type Int8Encoded,
} from './transfer.js';
export { toHalfBits, fromHalfBits, halfRound } from '@dnnpart/onnx-graph';
export { calibrate, type ActivationRange, type CalibrationMethod, type CalibrateOptions } from './calibrate.js';
export {
  quantizeInt8, quantizeWeight, activationParams,
  type QuantizeOptions, type QuantizeReport, type QuantizedModel, type QuantizedWeight,
} from './quantize.js';
export { convertFp16, type Fp16Model, type Fp16Report } from './fp16.js';
export {
  generatedInputs, tokenInputs, readNpy, npySamples, imageSamples, imageTensor, decodeImage, folderSamples, readLabels, IMAGENET,
  type Feeds, type NpyArray, type ImageNormalisation,
} from './inputs.js';
export {
  evaluatePlan, classScores, precisions, MIN_STABLE_SAMPLES,
  type Precision, type EvaluateOptions, type PlanFidelity, type StageFidelity, type StageTiming,
} from './fidelity.js';
