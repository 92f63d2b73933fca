// @dnnpart/report: the report data, system files, and the dnnpart command as functions.
export type * from './report-data.js';

export { main } from './cli/main.js';
export type { CliIO, Output } from './cli/io.js';
export { commands, findCommand, globalOptions } from './cli/commands.js';
export type { CommandSpec, OptionSpec, PositionalSpec } from './cli/commands.js';
export { parseArgs, listOption } from './cli/args.js';
export type { ParsedArgs } from './cli/args.js';
export { UsageError } from './cli/errors.js';
export type { UsageCode } from './cli/errors.js';
export { quietContext } from './cli/context.js';
export type { CommandContext, CommandOutput } from './cli/context.js';
export { zooList, zooExport, inspect, split } from './cli/model-commands.js';
export { profile } from './cli/profile-command.js';
export { solve, loadProblem, readProblemFile, formatPlan } from './cli/solve-commands.js';
export { importPaper } from './cli/import-command.js';
export { report, start, summariseObjective, defaultSystem } from './cli/report-commands.js';
export { version } from './cli/version.js';
export { verify, splitByPlan, formatVerify, readVerifyFile } from './cli/verify-command.js';
export type { VerifyCommandOptions, PlanSourceOptions } from './cli/verify-command.js';
export { verifyPlan, estimateSeconds, pipelinePeriodMs, VERIFY_SCHEMA } from './verify/verify.js';
export type { VerifyOptions, VerifyResult, VerifyStage, VerifyFigures, StagePrediction } from './verify/verify.js';
export { timeBackToBack, runPipeline } from './verify/measure.js';
export type { StageRunnable, Span, BackToBackResult, PipelineResult } from './verify/measure.js';
export { chromeTraceOf } from './verify/trace.js';
export { VerifyError } from './verify/errors.js';
export type { VerifyErrorCode } from './verify/errors.js';

export { loadSystem, parseSystem, profilesDir } from './system/load.js';
export type { SystemSpec, SystemBoard, SystemLink, MeasureSettings } from './system/load.js';
export { systemSchema } from './system/schema.js';
export { resolveSystem } from './system/resolve.js';
export type { ResolvedSystem, ResolvedBoard, ResolveOptions, ResolveEvent } from './system/resolve.js';
export { buildProblem } from './system/build.js';
export type { BuiltProblem, ReportParts } from './system/build.js';
export { solveAll, partsFromProblem, problemCuts, objectives, paretoPairs } from './system/plans.js';
export { SystemError } from './system/errors.js';
export type { SystemErrorCode } from './system/errors.js';
