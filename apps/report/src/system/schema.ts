// The JSON Schema of system files (version 1). The README documents the same fields;
// profiles/systems/system.schema.json is this object for editors (a test keeps them equal).

const id = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$', maxLength: 64 } as const;
const shape = { type: 'string', pattern: '^\\d+(x\\d+)*$' } as const;
/** One named input: a shape, '' for a scalar, or a fixed value after ':' (`sr: ":16000"`), as --input takes them. */
const namedInput = { type: 'string', pattern: '^(\\d+(x\\d+)*)?(:[-+0-9.eE, ]*)?$' } as const;
const nonNegative = { type: 'number', minimum: 0 } as const;
const positive = { type: 'number', exclusiveMinimum: 0 } as const;
/** How float tensors travel over a link: fp16 halves and int8 quarters their bytes. */
const transfer = { enum: ['fp32', 'fp16', 'int8'] } as const;

/** How to measure a board on this machine (`measure: true` takes the defaults). */
const measure = {
  oneOf: [
    { type: 'boolean', const: true },
    {
      type: 'object',
      additionalProperties: false,
      properties: {
        runs: { type: 'integer', minimum: 1 },
        warmup: { type: 'integer', minimum: 0 },
        threads: { type: 'integer', minimum: 1 },
      },
    },
  ],
} as const;

export const systemSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'model', 'boards'],
  properties: {
    version: { const: 1 },
    name: { type: 'string', minLength: 1 },
    model: {
      type: 'object',
      additionalProperties: false,
      properties: {
        file: { type: 'string', minLength: 1 },
        zoo: { type: 'string', minLength: 1 },
        input: {
          oneOf: [shape, { type: 'object', minProperties: 1, additionalProperties: namedInput }],
        },
        seed: { type: 'integer', minimum: 0 },
        // Iterations of Loop nodes whose trip count is computed at run time (node name -> count).
        loopTrips: { type: 'object', minProperties: 1, additionalProperties: { type: 'integer', minimum: 0 } },
      },
      oneOf: [{ required: ['file'] }, { required: ['zoo'] }],
    },
    boards: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: {
          id,
          profile: { type: 'string', minLength: 1 },
          measure,
          describe: { type: 'string', minLength: 1 },
          memoryBytes: { oneOf: [nonNegative, { type: 'null' }] },
          // The memory a stage holds on this board's agent for frames in flight, per byte in and out
          // (default: FRAME_BUFFERS, what dnnpart's agents held at their default queue limits).
          frameBuffers: {
            type: 'object',
            additionalProperties: false,
            required: ['perInByte', 'perOutByte'],
            properties: { perInByte: nonNegative, perOutByte: nonNegative },
          },
          // The arithmetic the board runs: its analytic latency follows it, and fidelity is measured at it.
          precision: { enum: ['fp32', 'fp16', 'int8', 'int16'] },
        },
        // The costs come from exactly one place: a profile file, a measurement here, or a
        // description alone (analytic). A description may accompany the other two.
        oneOf: [
          { required: ['profile'], not: { required: ['measure'] } },
          { required: ['measure'], not: { required: ['profile'] } },
          { required: ['describe'], allOf: [{ not: { required: ['profile'] } }, { not: { required: ['measure'] } }] },
        ],
      },
    },
    network: { type: 'string', minLength: 1 },
    linksFile: { type: 'string', minLength: 1 },
    links: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'to'],
        properties: {
          from: id,
          to: id,
          link: { type: 'string', minLength: 1 },
          bidirectional: { type: 'boolean' },
          bandwidthBytesPerSec: positive,
          latencyMs: nonNegative,
          powerW: nonNegative,
          framing: { enum: ['none', 'ethernet'] },
          transfer,
        },
      },
    },
    transfer,
    inputBoard: id,
    objective: { enum: ['throughput', 'latency', 'energy'] },
    boardOrder: { enum: ['fixed', 'free'] },
    constraints: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxLatencyMs: positive,
        maxEnergyMj: positive,
        minThroughputFps: positive,
        // Checked by running the chosen plan's stages (dnnpart accuracy), not by the solver.
        minCosine: { type: 'number', minimum: -1, maximum: 1 },
        minTop1Agreement: { type: 'number', minimum: 0, maximum: 1 },
      },
    },
  },
} as const;

/** A links file (what `dnnpart link` writes): `links:` items as in a system file. */
export const linksFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['links'],
  properties: {
    version: { const: 1 },
    links: systemSchema.properties.links,
  },
} as const;
