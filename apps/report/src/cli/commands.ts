// The declarative table of commands and options: the parser, the help text and the README
// all read it, so a flag exists in one place only.

export type OptionType = 'string' | 'number' | 'boolean';

export interface OptionSpec {
  /** Long name without the dashes (`time-limit`). */
  readonly name: string;
  /** One-letter alias without the dash (`o`). */
  readonly alias?: string;
  readonly type: OptionType;
  /** May be given more than once; the value is then an array in the order given. */
  readonly repeatable?: boolean;
  /** Allowed values (checked by the parser). */
  readonly choices?: readonly string[];
  /** Shown in help (`<file>`). */
  readonly placeholder?: string;
  readonly default?: string | number | boolean;
  readonly help: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly required: boolean;
  readonly help: string;
}

export interface CommandSpec {
  /** Words that select the command (`zoo export`). */
  readonly name: string;
  readonly summary: string;
  readonly positionals: readonly PositionalSpec[];
  readonly options: readonly OptionSpec[];
  readonly example: string;
}

/** Options every command accepts. */
export const globalOptions: readonly OptionSpec[] = [
  { name: 'help', alias: 'h', type: 'boolean', help: 'show this help' },
  { name: 'json', type: 'boolean', help: 'machine-readable output on stdout' },
  { name: 'quiet', alias: 'q', type: 'boolean', help: 'no progress and no summary; errors only' },
];

const input: OptionSpec = {
  name: 'input',
  type: 'string',
  repeatable: true,
  placeholder: '<shape>|<name>=<shape>',
  help: 'fix dynamic dimensions: 1x3x224x224 for the only input, or name=shape once per input; name= for a scalar, name=:16000 to fix a scalar\'s value',
};
const out = (what: string): OptionSpec => ({ name: 'output', alias: 'o', type: 'string', placeholder: '<path>', help: what });
const timeLimit: OptionSpec = {
  name: 'time-limit',
  type: 'number',
  placeholder: '<s>',
  default: 60,
  help: 'stop each solve (a whole Pareto front) after this many seconds (the best plan, or the points found so far, reported as feasible)',
};
const objectives = ['throughput', 'latency', 'energy'] as const;

export const commands: readonly CommandSpec[] = [
  {
    name: 'zoo list',
    summary: 'list the built-in networks with their parameters and MACs',
    positionals: [],
    options: [],
    example: 'dnnpart zoo list --json',
  },
  {
    name: 'zoo export',
    summary: 'write a built-in network as an ONNX file',
    positionals: [{ name: 'name', required: true, help: 'a network from `dnnpart zoo list`' }],
    options: [
      { ...input, repeatable: false, placeholder: '<shape>', help: 'input shape (default: the network\'s, 1x3x224x224 for images, 1x128 for the text encoders)' },
      { name: 'seed', type: 'number', placeholder: '<n>', help: 'seed of the deterministic weights (default: the zoo\'s)' },
      out('the ONNX file to write (required)'),
    ],
    example: 'dnnpart zoo export resnet18 --input 1x3x224x224 -o resnet18.onnx',
  },
  {
    name: 'inspect',
    summary: 'count nodes, parameters and MACs of a model and list its cut points',
    positionals: [{ name: 'model', required: true, help: 'an ONNX file' }],
    options: [
      input,
      { name: 'all', type: 'boolean', help: 'list every cut point (default: those where one tensor crosses)' },
      { name: 'loop-trips', type: 'string', repeatable: true, placeholder: '<node>=<n>', help: 'iterations of a Loop node whose trip count is computed at run time (default: 1, with a warning naming the node)' },
    ],
    example: 'dnnpart inspect resnet18.onnx --json',
  },
  {
    name: 'split',
    summary: 'cut a model after the named nodes, or by a plan, into stage models and a manifest.json',
    positionals: [{ name: 'model', required: true, help: 'an ONNX file' }],
    options: [
      { name: 'after', type: 'string', repeatable: true, placeholder: '<node>[,<node>...]', help: 'cut after these nodes, in graph order (this or --plan)' },
      { name: 'plan', type: 'string', placeholder: '<plan.json>', help: 'the stages of a plan: dnnpart solve --json, verify --json, or a report\'s plans.json (DAG plans too)' },
      { name: 'row', type: 'string', placeholder: '<name>', help: 'the row of a plans.json to split by (default: the first optimum)' },
      input,
      out('the directory to write stage-N.onnx and manifest.json into (required)'),
    ],
    example: 'dnnpart split resnet18.onnx --after layer2.1.relu_1,layer4.0.relu -o stages/',
  },
  {
    name: 'profile',
    summary: 'measure per-layer latency of a model on this machine and write a board profile',
    positionals: [{ name: 'model', required: true, help: 'an ONNX file' }],
    options: [
      { name: 'board', type: 'string', placeholder: '<name>', help: 'the board name stored in the profile (required; lower-case letters, digits, - _ .)' },
      input,
      out('the profile to write (default <model>.<board>.profile.json beside the model)'),
      { name: 'runs', type: 'number', placeholder: '<n>', help: 'measured runs (default 20, and the end-to-end runs raised until they cover 0.5 s: a small model\'s few runs catch one moment of a machine whose speed moves; given, exactly n)' },
      { name: 'warmup', type: 'number', default: 3, placeholder: '<n>', help: 'unmeasured runs first' },
      { name: 'threads', type: 'number', placeholder: '<n>', help: 'intra-op threads (default: all cores, or 1 when the model runs 10 % faster there, as models of small kernels do; tried first, in the warnings)' },
      { name: 'describe', type: 'string', placeholder: '<board.yaml>', help: 'a board description whose idle/active power estimates energy when no sensor exists' },
      { name: 'trace', type: 'string', placeholder: '<trace.json>', help: 'also write a Chrome trace (Perfetto, chrome://tracing) of the profiled runs, spans named by ONNX node' },
      { name: 'boundary', type: 'string', placeholder: 'calibrate|default', help: 'measure what a stage boundary and encoding tensors for a link cost on the board first (calibrate, the default, a few seconds) or record the documented defaults' },
      { name: 'agents', type: 'string', placeholder: '<agents.yaml>', help: 'profile on every agent of this file at once instead of here; -o is then a directory for <id>.profile.json' },
    ],
    example: 'dnnpart profile resnet18.onnx --board my-laptop --runs 20 -o my-laptop.profile.json',
  },
  {
    name: 'solve',
    summary: 'find the optimal partition of a problem or a system file',
    positionals: [],
    options: [
      { name: 'problem', type: 'string', placeholder: '<p.json>', help: 'a problem file (JSON, version 1; see the README, "Problem format")' },
      { name: 'system', type: 'string', placeholder: '<system.yaml>', help: 'a system file (model, boards, links)' },
      { name: 'objective', type: 'string', choices: objectives, placeholder: '<objective>', help: 'override the file\'s objective' },
      { name: 'pareto', type: 'string', placeholder: '<a>,<b>', help: 'every non-dominated plan for two objectives, e.g. throughput,energy' },
      timeLimit,
    ],
    example: 'dnnpart solve --problem effnet.problem.json --objective throughput --json',
  },
  {
    name: 'import cnnparted',
    summary: 'turn the CNNParted paper\'s data into a problem file',
    positionals: [{ name: 'dir', required: false, help: 'the paper\'s results directory (default: the copy bundled with dnnpart)' }],
    options: [
      { name: 'net', type: 'string', placeholder: '<name>', help: 'the network (required), e.g. efficientnet' },
      { name: 'platforms', type: 'string', placeholder: '<p>,<p>...', default: 'eyeriss_like,simba_like', help: 'platforms in order; the first holds the input; a platform may appear twice' },
      { name: 'order', type: 'string', choices: ['fixed', 'free'], default: 'fixed', placeholder: '<order>', help: 'board order of the problem' },
      out('the problem file to write (required)'),
    ],
    example: 'dnnpart import cnnparted --net efficientnet -o effnet.problem.json',
  },
  {
    name: 'report',
    summary: 'solve every objective and the Pareto fronts and write report.html, report.md, plans.csv, plans.json',
    positionals: [],
    options: [
      { name: 'system', type: 'string', repeatable: true, placeholder: '<system.yaml>', help: 'a system file; repeat to compare systems' },
      { name: 'problem', type: 'string', repeatable: true, placeholder: '<p.json>', help: 'a problem file; repeat to compare problems' },
      { name: 'title', type: 'string', placeholder: '<text>', help: 'the report\'s title' },
      { name: 'verify', type: 'string', repeatable: true, placeholder: '<verify.json>', help: 'a dnnpart verify result: its predicted vs measured table goes into the report' },
      { name: 'run', type: 'string', repeatable: true, placeholder: '<run.json>', help: 'a dnnpart run --json result: measured throughput and latency on the agents beside the prediction (one system only)' },
      out('the directory to write the report into (required)'),
      timeLimit,
    ],
    example: 'dnnpart report --system profiles/systems/example.yaml -o out/',
  },
  {
    name: 'agent',
    summary: 'serve this board to a coordinator: board facts, profiling, link tests and pipeline stages over gRPC',
    positionals: [],
    options: [
      { name: 'listen', type: 'string', placeholder: '<host:port>', default: '127.0.0.1:7070', help: 'address to listen on (0.0.0.0:7070 to serve the network)' },
      { name: 'token-file', type: 'string', placeholder: '<file>', help: 'refuse every call without this bearer token' },
      { name: 'tls-cert', type: 'string', placeholder: '<pem>', help: 'this agent\'s certificate (mutual TLS, with --tls-key and --tls-ca)' },
      { name: 'tls-key', type: 'string', placeholder: '<pem>', help: 'this agent\'s private key' },
      { name: 'tls-ca', type: 'string', placeholder: '<pem>', help: 'the CA that clients\' certificates must chain to' },
      { name: 'board', type: 'string', placeholder: '<name>', help: 'board name in its facts and profiles (default: the host name)' },
      { name: 'max-tensor-bytes', type: 'number', placeholder: '<n>', help: 'refuse frames with a larger tensor (default 64 MiB)' },
      { name: 'max-model-bytes', type: 'number', placeholder: '<n>', help: 'refuse a larger model or stage model in one message (default 2 GiB; a stage\'s weights file comes apart)' },
      { name: 'queue-frames', type: 'number', placeholder: '<n>', help: 'frames a stage queues before the agent stops reading (default 4)' },
      { name: 'queue-bytes', type: 'number', placeholder: '<n>', help: 'bytes of frames a stage queues before the agent stops reading, one frame always taken (default 256 MiB)' },
      { name: 'engines', type: 'string', placeholder: '<e,e>', help: 'the engines this board reports, instead of those a one-node model runs on at start (onnxruntime-cpu, onnxruntime-cuda, onnxruntime-tensorrt, edgetpu, simulated)' },
      { name: 'preoptimise', type: 'boolean', help: 'load each stage from the graph onnxruntime\'s optimiser saves, made in a process of its own: one copy of the weights instead of up to three, same kernels (default: on; --no-preoptimise: load the stage model as sent)' },
    ],
    example: 'dnnpart agent --listen 0.0.0.0:7070 --token-file /etc/dnnpart/token',
  },
  {
    name: 'agents',
    summary: 'ask every agent of an agents file for its board facts (exit 2 naming one that does not answer)',
    positionals: [{ name: 'agents', required: true, help: 'an agents file (version: 1, agents: [{ id, address, tokenFile?, tls? }])' }],
    options: [],
    example: 'dnnpart agents agents.yaml',
  },
  {
    name: 'link',
    summary: 'measure every directed link between the agents and write a links file for system files (linksFile:)',
    positionals: [],
    options: [
      { name: 'agents', type: 'string', placeholder: '<agents.yaml>', help: 'the agents file (required)' },
      out('the links file to write (required)'),
      { name: 'repeats', type: 'number', placeholder: '<n>', default: 5, help: 'timed transfers per payload size' },
      { name: 'max-bytes', type: 'number', placeholder: '<n>', default: 16777216, help: 'largest payload (sizes go from 1 KB up by powers of 4)' },
    ],
    example: 'dnnpart link --agents agents.yaml -o links.yaml',
  },
  {
    name: 'run',
    summary: 'run a plan on the agents as a pipeline: measured throughput, latency and stage times beside the prediction',
    positionals: [],
    options: [
      { name: 'plan', type: 'string', placeholder: '<plan.json>', help: 'a plan from dnnpart solve --json (required)' },
      { name: 'agents', type: 'string', placeholder: '<agents.yaml>', help: 'the agents file; agent ids are the plan\'s boards (required)' },
      { name: 'model', type: 'string', placeholder: '<m.onnx>', help: 'the model the plan splits' },
      { name: 'system', type: 'string', placeholder: '<system.yaml>', help: 'or the system file the plan was solved for (its model, and the engine each board assumes)' },
      input,
      { name: 'frames', type: 'number', placeholder: '<n>', default: 50, help: 'frames to stream' },
      { name: 'rate', type: 'number', placeholder: '<fps>', help: 'offer frames at this rate (default: as fast as the pipeline takes them)' },
      { name: 'trace', type: 'string', placeholder: '<file.json>', help: 'write the run as a Chrome trace (a track per agent)' },
      { name: 'stall-timeout', type: 'number', placeholder: '<s>', default: 15, help: 'stop when no frame moves for this long, naming the stage' },
      { name: 'threads', type: 'number', placeholder: '<n>', help: 'onnxruntime threads per stage (default: each agent tries all cores and 1 on its stage and takes the faster, as a profile without --threads does)' },
      { name: 'transfer', type: 'string', choices: ['fp32', 'fp16', 'int8'], placeholder: '<enc>', help: 'how float tensors travel between stages (int8: per-tensor scale and zero point) (default: the system file\'s transfer and links[].transfer, else fp32)' },
    ],
    example: 'dnnpart run --plan plan.json --agents agents.yaml --model resnet18.onnx --frames 100 --trace run.json',
  },
  {
    name: 'verify',
    summary: 'time each stage of a plan on this machine against its prediction, back to back and as a pipeline',
    positionals: [{ name: 'model', required: false, help: 'the ONNX file the plan is of (default: the system file\'s model)' }],
    options: [
      { name: 'plan', type: 'string', placeholder: '<plan.json>', help: 'the plan: dnnpart solve --json, verify --json, or a report\'s plans.json' },
      { name: 'row', type: 'string', placeholder: '<name>', help: 'the row of a plans.json (default: the first optimum)' },
      { name: 'system', type: 'string', placeholder: '<system.yaml>', help: 'predict with this system (without --plan: verify its optimal plan)' },
      { name: 'problem', type: 'string', placeholder: '<p.json>', help: 'predict with this problem file' },
      { name: 'objective', type: 'string', choices: objectives, placeholder: '<objective>', help: 'the objective whose optimum is verified (default: the system\'s)' },
      input,
      { name: 'threads', type: 'number', placeholder: '<n>', help: 'intra-op threads of each stage (default: the threads the system\'s boards measured on this machine were profiled with, else 1)' },
      { name: 'runs', type: 'number', placeholder: '<n>', help: 'measured frames back to back (each stage: their median) (default 30, raised until they cover 0.5 s; given, exactly n)' },
      { name: 'warmup', type: 'number', default: 20, placeholder: '<n>', help: 'unmeasured frames first, back to back and through the pipeline (each stage session runs this often before timing)' },
      { name: 'frames', type: 'number', placeholder: '<n>', help: 'measured frames through the pipeline (0: no pipeline run) (default 30, raised until they cover 0.5 s; given, exactly n)' },
      { name: 'queue', type: 'number', default: 1, placeholder: '<n>', help: 'frames each stage\'s input queue holds in the pipeline' },
      { name: 'repeat', type: 'number', default: 1, placeholder: '<n>', help: 'run the pipeline this many times: its figures are the runs\' medians, and their spread is how much this machine moves the measurement' },
      { name: 'max-seconds', type: 'number', default: 120, placeholder: '<s>', help: 'refuse a run the prediction says takes longer' },
      { name: 'reference', type: 'boolean', help: 'time the whole model in the same runs as the stages, to check this machine\'s speed against its profile (default: on when a board of the plan was profiled here; --no-reference: off)' },
      { name: 'memory', type: 'boolean', help: 'measure the memory each stage takes, in a process of its own, beside the plan\'s memory of it (default: on; --no-memory: off)' },
      { name: 'trace', type: 'string', placeholder: '<file.json>', help: 'write a Chrome trace (Perfetto): one track per stage, spans by stage and ONNX node' },
      out('write the result as JSON here too (for dnnpart report --verify)'),
      timeLimit,
    ],
    example: 'dnnpart verify resnet18.onnx --plan plan.json --system my-system.yaml --threads 1 --trace verify.trace.json',
  },
  {
    name: 'start',
    summary: 'the main job: export, profile this machine, join with other boards, solve, report',
    positionals: [],
    options: [
      { name: 'model', type: 'string', placeholder: '<m.onnx>', help: 'your own model instead of the zoo network' },
      { name: 'net', type: 'string', placeholder: '<name>', help: 'a zoo network instead of the system file\'s model' },
      input,
      { name: 'system', type: 'string', placeholder: '<system.yaml>', help: 'the system to plan for; its `measure` boards are profiled here (default: the repository\'s profiles/systems/default.yaml)' },
      { name: 'runs', type: 'number', placeholder: '<n>', help: 'measured runs per profile (default: the system file\'s, else 10)' },
      { name: 'warmup', type: 'number', placeholder: '<n>', help: 'unmeasured runs first (default: the system file\'s, else 2)' },
      { name: 'threads', type: 'number', placeholder: '<n>', help: 'intra-op threads for profiling (default: the system file\'s, else all cores or 1, whichever runs the model faster)' },
      { ...out('the directory to write the report into'), default: 'out' },
      // Five solves at most 20 s each keep the whole job within three minutes.
      { ...timeLimit, default: 20 },
    ],
    example: 'dnnpart start --net resnet18 --input 1x3x224x224 -o out/',
  },
  {
    name: 'accuracy',
    summary: 'measure a plan\'s fidelity to the full-precision model with quantized stages and encoded transfers',
    positionals: [],
    options: [
      { name: 'model', type: 'string', placeholder: '<m.onnx>', help: 'the ONNX model (required)' },
      { name: 'plan', type: 'string', placeholder: '<plan.json>', help: 'a plan from dnnpart solve --json or verify --json, or a report\'s plans.json (its first optimum)' },
      { name: 'split-after', type: 'string', repeatable: true, placeholder: '<node>[,<node>...]', help: 'or cut after these nodes' },
      { name: 'transfer', type: 'string', choices: ['fp32', 'fp16', 'int8'], default: 'fp32', placeholder: '<enc>', help: 'encoding of the tensors crossing each cut (int8: per-tensor scale and zero point)' },
      { name: 'stage-precision', type: 'string', repeatable: true, placeholder: '<p>|<p>,<p>...|<board>=<p>', help: 'fp32, fp16 or int8: one for all stages, one per stage, or per board' },
      { name: 'samples', type: 'number', placeholder: '<n>', help: 'generated inputs to compare on (default 32), or the first n of --data' },
      { name: 'seed', type: 'number', placeholder: '<n>', help: 'seed of the generated inputs (default 1)' },
      input,
      { name: 'data', type: 'string', placeholder: '<dir>', help: 'your inputs instead of generated ones: a folder of .npy files or images (PNG, JPEG; ImageNet normalisation)' },
      { name: 'labels', type: 'string', placeholder: '<file>', help: 'true classes of --data, one per line (<class> or <file> <class>): true top-1 too' },
      { name: 'calibration', type: 'string', placeholder: '<dir>', help: 'int8 calibration inputs: a folder of .npy files or images (default: 16 generated inputs)' },
      { name: 'calibration-method', type: 'string', choices: ['minmax', 'percentile'], default: 'minmax', placeholder: '<m>', help: 'activation ranges from min-max or the 99.99th percentile' },
      { name: 'time', type: 'boolean', help: 'also time each stage on this machine at fp32 and at its precision (int8 as onnxruntime\'s int8 kernels)' },
      { name: 'threads', type: 'number', placeholder: '<n>', help: 'intra-op threads for --time (default: all cores)' },
    ],
    example: 'dnnpart accuracy --model resnet18.onnx --split-after /layer2/layer2.1/relu_1/Relu --transfer int8 --stage-precision fp16,int8 --json',
  },
];

/** The command whose words `words` start with (longest match), if any. */
export function findCommand(words: readonly string[]): CommandSpec | undefined {
  let best: CommandSpec | undefined;
  for (const c of commands) {
    const parts = c.name.split(' ');
    if (parts.every((p, i) => words[i] === p) && (!best || parts.length > best.name.split(' ').length)) best = c;
  }
  return best;
}
