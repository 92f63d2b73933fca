// The JSON Schemas of dnnpart/profile@2 (written) and dnnpart/profile@1 (still read). Extra fields
// are allowed at the top level only where listed.
import { PROFILE_SCHEMA_ID } from './types.js';

const nonNeg = { type: 'number', minimum: 0 } as const;
const efficiency = { type: 'number', exclusiveMinimum: 0, maximum: 1 } as const;

/** Schema properties of the roofline's parameters as dnnpart/profile@1 has them. */
const analyticParameterPropertiesV1 = {
  computeEfficiency: efficiency,
  memoryEfficiency: efficiency,
  perOpOverheadMs: nonNeg,
  groupedConvEfficiency: efficiency,
  groupedConvAsDense: { type: 'boolean' },
} as const;

const multiplier = { type: 'number', exclusiveMinimum: 0, maximum: 100 } as const;

/** Schema properties of the roofline's parameters, shared by board descriptions and analytic profiles. */
export const analyticParameterProperties = {
  ...analyticParameterPropertiesV1,
  opEfficiency: {
    type: 'object',
    additionalProperties: false,
    properties: { conv: multiplier, depthwiseConv: multiplier, matmul: multiplier, elementwise: multiplier },
  },
} as const;
const stats = {
  type: 'object',
  required: ['median', 'p90', 'mean', 'stddev'],
  additionalProperties: false,
  properties: { median: nonNeg, p90: nonNeg, mean: nonNeg, stddev: nonNeg },
} as const;

/** JSON Schema (draft-07) for a dnnpart/profile@1 file: frozen, so old profiles keep reading. */
export const profileV1JsonSchema = {
  $id: 'https://dnnpart.dev/schemas/profile-1.json',
  type: 'object',
  required: ['schema', 'source', 'board', 'model', 'settings', 'endToEnd', 'nodes', 'power', 'createdAt', 'tool', 'warnings'],
  additionalProperties: false,
  properties: {
    schema: { const: 'dnnpart/profile@1' },
    source: { enum: ['measured', 'analytic'] },
    board: {
      type: 'object',
      required: ['name', 'cpu', 'cores', 'memoryBytes', 'os', 'arch'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$' },
        cpu: { type: 'string' },
        cores: { type: 'integer', minimum: 0 },
        memoryBytes: nonNeg,
        os: { type: 'string' },
        arch: { type: 'string' },
        description: { type: 'string' },
      },
    },
    model: {
      type: 'object',
      required: ['name', 'sha256', 'inputs'],
      additionalProperties: false,
      properties: {
        name: { type: 'string' },
        sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        inputs: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'shape', 'dtype'],
            additionalProperties: false,
            properties: {
              name: { type: 'string' },
              shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
              dtype: { type: 'string' },
            },
          },
        },
      },
    },
    settings: {
      type: 'object',
      required: ['runs', 'warmup', 'threads', 'executionProvider'],
      additionalProperties: false,
      properties: {
        runs: { type: 'integer', minimum: 0 },
        warmup: { type: 'integer', minimum: 0 },
        threads: { type: 'integer', minimum: 0 },
        executionProvider: { type: 'string' },
        graphOptimizationLevel: { enum: ['disabled', 'basic', 'extended', 'all'] },
        ortVersion: { type: 'string' },
      },
    },
    endToEnd: {
      type: 'object',
      required: ['medianMs', 'p90Ms', 'runs'],
      additionalProperties: false,
      properties: { medianMs: nonNeg, p90Ms: nonNeg, runs: { type: 'integer', minimum: 0 }, meanMs: nonNeg, stddevMs: nonNeg },
    },
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'op', 'latencyMs', 'paramBytes', 'outputBytes', 'energyMj'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1 },
          op: { type: 'string' },
          latencyMs: stats,
          paramBytes: nonNeg,
          outputBytes: nonNeg,
          energyMj: { anyOf: [nonNeg, { type: 'null' }] },
          macs: nonNeg,
          runs: { type: 'integer', minimum: 0 },
          kernel: { type: 'string' },
        },
      },
    },
    power: {
      type: 'object',
      required: ['source'],
      additionalProperties: false,
      properties: {
        source: { enum: ['measured', 'estimated', 'unavailable'] },
        origin: { type: 'string' },
        idleW: nonNeg,
        activeW: nonNeg,
        energyPerInferenceMj: nonNeg,
        dynamicEnergyPerInferenceMj: { type: 'number' },
        attribution: { type: 'string' },
      },
    },
    createdAt: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T' },
    tool: {
      type: 'object',
      required: ['name', 'version'],
      additionalProperties: false,
      properties: { name: { type: 'string' }, version: { type: 'string' } },
    },
    unattributedShare: { type: 'number' },
    fusedNodes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kernel', 'op', 'nodes'],
        additionalProperties: false,
        properties: { kernel: { type: 'string' }, op: { type: 'string' }, nodes: { type: 'array', items: { type: 'string' } } },
      },
    },
    eliminatedNodes: { type: 'array', items: { type: 'string' } },
    overhead: {
      type: 'object',
      required: ['profiledMedianMs', 'ratio'],
      additionalProperties: false,
      properties: { profiledMedianMs: nonNeg, ratio: nonNeg },
    },
    nodeSumToEndToEnd: nonNeg,
    peakRssBytes: nonNeg,
    rssBeforeSessionsBytes: nonNeg,
    analytic: {
      type: 'object',
      required: ['computeEfficiency', 'memoryEfficiency', 'perOpOverheadMs', 'precision'],
      additionalProperties: false,
      properties: {
        ...analyticParameterPropertiesV1,
        precision: { enum: ['fp32', 'fp16', 'int16', 'int8'] },
      },
    },
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;

const v1 = profileV1JsonSchema.properties;
const v1Node = v1.nodes.items;

const encodingCost = {
  type: 'object',
  required: ['encodeMsPerByte', 'decodeMsPerByte'],
  additionalProperties: false,
  properties: { encodeMsPerByte: nonNeg, decodeMsPerByte: nonNeg },
} as const;

/** Schema of a board's stage-boundary cost (BoundaryCost). */
export const boundaryJsonSchema = {
  type: 'object',
  required: ['fixedMs', 'inMsPerByte', 'outMsPerByte', 'method'],
  additionalProperties: false,
  properties: {
    fixedMs: nonNeg,
    inMsPerByte: nonNeg,
    outMsPerByte: nonNeg,
    method: { enum: ['measured', 'default', 'estimated'] },
    runs: { type: 'integer', minimum: 0 },
    fitR2: { type: 'number', maximum: 1 },
    outputs: { enum: ['preallocated', 'allocated'] },
    origin: { type: 'string' },
    encodings: {
      type: 'object',
      required: ['fp16', 'int8', 'method'],
      additionalProperties: false,
      properties: { fp16: encodingCost, int8: encodingCost, method: { enum: ['measured', 'default', 'estimated'] } },
    },
  },
} as const;

/** JSON Schema (draft-07) for a dnnpart/profile@2 file: @1 plus boundary costs and corrected node times. */
export const profileJsonSchema = {
  ...profileV1JsonSchema,
  $id: 'https://dnnpart.dev/schemas/profile-2.json',
  properties: {
    ...v1,
    schema: { const: PROFILE_SCHEMA_ID },
    nodes: { ...v1.nodes, items: { ...v1Node, properties: { ...v1Node.properties, profiledMs: stats } } },
    settings: {
      ...v1.settings,
      properties: {
        ...v1.settings.properties,
        threadProbe: {
          type: 'array',
          items: { type: 'object', required: ['threads', 'medianMs'], additionalProperties: false, properties: { threads: { type: 'integer', minimum: 1 }, medianMs: nonNeg } },
        },
      },
    },
    boundary: boundaryJsonSchema,
    analytic: { ...v1.analytic, properties: { ...analyticParameterProperties, precision: v1.analytic.properties.precision } },
    correction: {
      type: 'object',
      required: ['profiledNodeSumMs', 'kernelBudgetMs', 'scale', 'boundaryMs', 'rawNodeSumToEndToEnd'],
      additionalProperties: false,
      properties: { profiledNodeSumMs: nonNeg, kernelBudgetMs: nonNeg, scale: nonNeg, boundaryMs: nonNeg, rawNodeSumToEndToEnd: nonNeg },
    },
  },
} as const;
