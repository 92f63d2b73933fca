export { ProfileError, isProfileError, type ProfileErrorCode } from './errors.js';
export {
  PROFILE_SCHEMA_ID,
  PROFILE_SCHEMA_IDS,
  type AnalyticParameters,
  type BoardDescription,
  type BoundaryCost,
  type BoundaryMethod,
  type EncodingCost,
  type EncodingCosts,
  type CostSourceKind,
  type FusedKernel,
  type GraphOptimizationLevel,
  type LatencyStats,
  type LinkDescription,
  type LinkFraming,
  type PowerSource,
  type Precision,
  type Profile,
  type ProfileBoard,
  type ProfileModelInput,
  type ProfileNode,
  type ProfilePower,
  type ProfileCorrection,
  type ProfileSchemaId,
  type OpEfficiency,
} from './types.js';
export { boundaryJsonSchema, profileJsonSchema, profileV1JsonSchema } from './profile-schema.js';
export {
  DEFAULT_BOUNDARY,
  DEFAULT_CALIBRATION_SIZES,
  DEFAULT_CUT_CHAINS,
  boundaryMs,
  boundaryOf,
  calibrateBoundary,
  estimatedBoundary,
  fitBoundary,
  boundaryFromCuts,
  type BoundaryCalibration,
  type BoundaryCutSample,
  type BoundaryCalibrationOptions,
  type BoundaryCalibrationSample,
  type BoundarySample,
} from './boundary.js';
export { DEFAULT_ENCODINGS, DEFAULT_ENCODING_SIZES, calibrateEncodings, type EncodingCalibrationOptions, type EncodingSample } from './encoding.js';
export { convChainModel, glueChainModel, type ConvChainModel, type ConvChainPart, type GlueChainModel } from './_calibration-models.js';
export { calibrateDispatch, type DispatchCalibration, type DispatchCalibrationOptions } from './dispatch.js';
export { fetchesFor, preallocatedFetches } from './fetches.js';
export { chromeTrace, writeChromeTrace, type ChromeTrace, type ChromeTraceSpan } from './chrome-trace.js';
export { assertProfileMatchesModel, assertWritable, readProfile, validateProfile, writeProfile } from './profile-file.js';
export { assertBoardName, boardDescriptionJsonSchema, boardEngines, listBoardDescriptions, loadBoardDescription, validateBoardDescription } from './board.js';
export { linkDescriptionJsonSchema, listLinkDescriptions, loadLinkDescription, validateLinkDescription } from './link.js';
export { boardFacts } from './board-facts.js';
export { DEFAULT_MIN_END_TO_END_MS, MAX_END_TO_END_RUNS, SECOND_SESSION_ROOM, availableMemory, endToEndRuns, roomFor, profileModel, type ProfileOptions, type ProgressEvent } from './measure.js';
export { chooseModelThreads, THREAD_PROBE_SKIP_MS, type ThreadProbe } from './_threads.js';
export { sessionOptions as profileSessionOptions } from './_session.js';
export { carryMeasuredNodes, type CarriedNode, type CarriedProfile } from './value-timed.js';
export { analyticProfile, int8MacShare, float16MacShare, calibrateAnalytic, calibrateAnalyticPerOp, compareProfiles, type AnalyticOptions, type CalibrationFixed, type CalibrationResult, type OpClass, type ProfileComparison } from './analytic.js';
export { SampledSensor, energyFromSamples, wallClockMs, type SamplerOptions, type Sensor, type SensorReading } from './sensor.js';
export { findRaplZones, raplSensor, type RaplZone } from './sensor-rapl.js';
export { findHwmonDevices, hwmonSensor, type HwmonDevice } from './sensor-hwmon.js';
export { findIna3221Rails, ina3221Sensor, type Ina3221Rail } from './sensor-ina3221.js';
export { execRunner, parsePmicReadAdc, rpiPmicSensor, type CommandRunner, type PmicRail } from './sensor-rpi-pmic.js';
export { csvMeterSensor, parseMeterCsv, type CsvMeterOptions } from './sensor-csv.js';
export { detectSensor, type DetectOptions } from './sensor-detect.js';
export { TOOL } from './version.js';
