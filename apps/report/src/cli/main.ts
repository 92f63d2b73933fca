// The entry point: pick the command, parse its options from the table, call its function,
// format the answer, and map errors to exit codes (0 done, 2 the user's mistake, 1 ours,
// 130 interrupted).
import path from 'node:path';
import { setRuntimeLogLevel } from '@dnnpart/onnx-graph';
import { listOption, parseArgs, type ParsedArgs } from './args.js';
import { createProgress } from './_progress.js';
import { commandHelp, groupHelp, mainHelp } from './_usage.js';
import { commands, findCommand, globalOptions, type CommandSpec } from './commands.js';
import type { CommandContext, CommandOutput } from './context.js';
import { UsageError } from './errors.js';
import type { CliIO } from './io.js';
import { version } from './version.js';

// Command modules load on demand: `dnnpart --help` should not wait for onnxruntime, GLPK or vega.
const models = () => import('./model-commands.js');
const profiling = () => import('./profile-command.js');
const solving = () => import('./solve-commands.js');
const importing = () => import('./import-command.js');
const reporting = () => import('./report-commands.js');
const verifying = () => import('./verify-command.js');
const measuringAccuracy = () => import('./accuracy-command.js');
const running = () => import('./runtime-commands.js');

type Handler = (args: ParsedArgs, ctx: CommandContext) => CommandOutput | Promise<CommandOutput>;

const str = (a: ParsedArgs, name: string): string | undefined => {
  const v = a.options[name];
  return typeof v === 'string' ? v : undefined;
};
const num = (a: ParsedArgs, name: string): number | undefined => {
  const v = a.options[name];
  return typeof v === 'number' ? v : undefined;
};
const list = (a: ParsedArgs, name: string): string[] | undefined => {
  const v = listOption(a.options[name]);
  return v.length > 0 ? v : undefined;
};
const strings = (a: ParsedArgs, name: string): string[] | undefined => {
  const v = a.options[name];
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : undefined;
};
const required = (a: ParsedArgs, name: string, cmd: string): string => {
  const v = str(a, name);
  if (v === undefined) throw new UsageError('CLI_MISSING_ARGUMENT', `${cmd} needs --${name} (see dnnpart ${cmd} --help)`);
  return v;
};
const opt = <K extends string, V>(key: K, v: V | undefined): { [k in K]?: V } => (v === undefined ? {} : ({ [key]: v } as { [k in K]: V }));

/** Each command's function, keyed by its name in the table. */
const handlers: Record<string, Handler> = {
  accuracy: async (a, ctx) =>
    (await measuringAccuracy()).accuracy(
      {
        model: required(a, 'model', 'accuracy'),
        ...opt('plan', str(a, 'plan')),
        ...opt('splitAfter', list(a, 'split-after')),
        ...opt('transfer', str(a, 'transfer')),
        ...opt('stagePrecision', strings(a, 'stage-precision')),
        ...opt('samples', num(a, 'samples')),
        ...opt('seed', num(a, 'seed')),
        ...opt('input', strings(a, 'input')),
        ...opt('data', str(a, 'data')),
        ...opt('labels', str(a, 'labels')),
        ...opt('calibration', str(a, 'calibration')),
        ...opt('calibrationMethod', str(a, 'calibration-method')),
        time: a.options.time === true,
        ...opt('threads', num(a, 'threads')),
      },
      ctx,
    ),
  'zoo list': async () => (await models()).zooList(),
  'zoo export': async (a, ctx) =>
    (await models()).zooExport({ name: a.positionals[0]!, ...opt('input', str(a, 'input')), ...opt('seed', num(a, 'seed')), output: required(a, 'output', 'zoo export') }, ctx),
  inspect: async (a, ctx) => (await models()).inspect({ model: a.positionals[0]!, ...opt('input', strings(a, 'input')), ...opt('loopTrips', strings(a, 'loop-trips')), all: a.options.all === true }, ctx),
  split: async (a, ctx) => {
    const after = list(a, 'after');
    const plan = str(a, 'plan');
    if (after && plan) throw new UsageError('CLI_CONFLICTING_FLAGS', 'split takes --after or --plan, not both');
    if (plan) {
      return (await verifying()).splitByPlan({ model: a.positionals[0]!, plan, ...opt('row', str(a, 'row')), ...opt('input', strings(a, 'input')), output: required(a, 'output', 'split') }, ctx);
    }
    if (!after) throw new UsageError('CLI_MISSING_ARGUMENT', 'split needs --after <node>[,<node>...] or --plan <plan.json> (see dnnpart split --help)');
    return (await models()).split({ model: a.positionals[0]!, after, ...opt('input', strings(a, 'input')), output: required(a, 'output', 'split') }, ctx);
  },
  profile: async (a, ctx) =>
    str(a, 'agents') !== undefined
      ? (await running()).profileAgents(
          { agents: str(a, 'agents')!, model: a.positionals[0]!, output: required(a, 'output', 'profile --agents'), ...opt('runs', num(a, 'runs')), ...opt('warmup', num(a, 'warmup')), ...opt('threads', num(a, 'threads')), ...opt('boundary', str(a, 'boundary')), ...opt('input', strings(a, 'input')) },
          ctx,
        )
      : (await profiling()).profile(
      {
        model: a.positionals[0]!,
        board: required(a, 'board', 'profile'),
        ...opt('input', strings(a, 'input')),
        ...opt('output', str(a, 'output')),
        ...opt('runs', num(a, 'runs')),
        ...opt('warmup', num(a, 'warmup')),
        ...opt('threads', num(a, 'threads')),
        ...opt('describe', str(a, 'describe')),
        ...opt('trace', str(a, 'trace')),
        ...opt('boundary', str(a, 'boundary')),
      },
      ctx,
    ),
  solve: async (a, ctx) =>
    (await solving()).solve(
      {
        ...opt('problem', str(a, 'problem')),
        ...opt('system', str(a, 'system')),
        ...opt('objective', str(a, 'objective') as 'throughput' | 'latency' | 'energy' | undefined),
        ...opt('pareto', list(a, 'pareto')),
        ...opt('timeLimitS', num(a, 'time-limit')),
      },
      ctx,
    ),
  'import cnnparted': async (a, ctx) =>
    (await importing()).importPaper(
      {
        ...opt('dir', a.positionals[0]),
        net: required(a, 'net', 'import cnnparted'),
        ...opt('platforms', list(a, 'platforms')),
        ...opt('order', str(a, 'order') as 'fixed' | 'free' | undefined),
        output: required(a, 'output', 'import cnnparted'),
      },
      ctx,
    ),
  report: async (a, ctx) =>
    (await reporting()).report(
      {
        ...opt('systems', strings(a, 'system')),
        ...opt('problems', strings(a, 'problem')),
        output: required(a, 'output', 'report'),
        ...opt('title', str(a, 'title')),
        ...opt('verify', strings(a, 'verify')),
        ...opt('runs', strings(a, 'run')),
        ...opt('timeLimitS', num(a, 'time-limit')),
      },
      ctx,
    ),
  agent: async (a, ctx) =>
    (await running()).agent(
      {
        ...opt('listen', str(a, 'listen')),
        ...opt('tokenFile', str(a, 'token-file')),
        ...opt('tlsCert', str(a, 'tls-cert')),
        ...opt('tlsKey', str(a, 'tls-key')),
        ...opt('tlsCa', str(a, 'tls-ca')),
        ...opt('board', str(a, 'board')),
        ...opt('maxTensorBytes', num(a, 'max-tensor-bytes')),
        ...opt('maxModelBytes', num(a, 'max-model-bytes')),
        ...opt('queueFrames', num(a, 'queue-frames')),
        ...opt('queueBytes', num(a, 'queue-bytes')),
        ...opt('engines', list(a, 'engines')),
        ...(a.options.preoptimise === false ? { preoptimise: false } : {}),
      },
      ctx,
    ),
  agents: async (a, ctx) => (await running()).agents({ file: a.positionals[0]! }, ctx),
  link: async (a, ctx) =>
    (await running()).link({ agents: required(a, 'agents', 'link'), output: required(a, 'output', 'link'), ...opt('repeats', num(a, 'repeats')), ...opt('maxBytes', num(a, 'max-bytes')) }, ctx),
  run: async (a, ctx) =>
    (await running()).run(
      {
        plan: required(a, 'plan', 'run'),
        agents: required(a, 'agents', 'run'),
        ...opt('model', str(a, 'model')),
        ...opt('system', str(a, 'system')),
        ...opt('input', strings(a, 'input')),
        ...opt('frames', num(a, 'frames')),
        ...opt('rate', num(a, 'rate')),
        ...opt('trace', str(a, 'trace')),
        ...opt('stallTimeoutS', num(a, 'stall-timeout')),
        ...opt('threads', num(a, 'threads')),
        ...opt('transfer', str(a, 'transfer')),
      },
      ctx,
    ),
  verify: async (a, ctx) =>
    (await verifying()).verify(
      {
        ...opt('model', a.positionals[0]),
        ...opt('plan', str(a, 'plan')),
        ...opt('row', str(a, 'row')),
        ...opt('system', str(a, 'system')),
        ...opt('problem', str(a, 'problem')),
        ...opt('objective', str(a, 'objective') as 'throughput' | 'latency' | 'energy' | undefined),
        ...opt('input', strings(a, 'input')),
        ...opt('threads', num(a, 'threads')),
        ...opt('runs', num(a, 'runs')),
        ...opt('warmup', num(a, 'warmup')),
        ...opt('frames', num(a, 'frames')),
        ...opt('queue', num(a, 'queue')),
        ...opt('repeat', num(a, 'repeat')),
        ...opt('maxSeconds', num(a, 'max-seconds')),
        ...(a.options.reference === false ? { reference: false } : {}),
        ...(a.options.memory === false ? { memory: false } : {}),
        ...opt('trace', str(a, 'trace')),
        ...opt('output', str(a, 'output')),
        ...opt('timeLimitS', num(a, 'time-limit')),
      },
      ctx,
    ),
  start: async (a, ctx) =>
    (await reporting()).start(
      {
        ...opt('model', str(a, 'model')),
        ...opt('net', str(a, 'net')),
        ...opt('input', strings(a, 'input')),
        ...opt('system', str(a, 'system')),
        ...opt('output', str(a, 'output')),
        ...opt('runs', num(a, 'runs')),
        ...opt('warmup', num(a, 'warmup')),
        ...opt('threads', num(a, 'threads')),
        ...opt('timeLimitS', num(a, 'time-limit')),
      },
      ctx,
    ),
};

/** Run the dnnpart command line; returns the exit code (never exits the process). */
export async function main(argv: readonly string[], io?: Partial<CliIO>): Promise<number> {
  const stdout = io?.stdout ?? process.stdout;
  const stderr = io?.stderr ?? process.stderr;
  const env = io?.env ?? process.env;
  const cwd = io?.cwd ?? process.cwd();

  // Ctrl-C aborts long work cleanly when we own the process; tests pass their own signal.
  const controller = new AbortController();
  const onSigint = () => controller.abort(new UsageError('CLI_ABORTED', 'interrupted'));
  const signal = io?.signal ?? controller.signal;
  if (!io?.signal) process.once('SIGINT', onSigint);

  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      const cmd = argv[0] === 'help' && argv.length > 1 ? findCommand(argv.slice(1)) : undefined;
      // No command at all is a usage error: the help goes to stderr and the exit code says so.
      (argv.length === 0 ? stderr : stdout).write(cmd ? commandHelp(cmd) : mainHelp(version));
      return argv.length === 0 ? 2 : 0;
    }
    if (argv[0] === '--version' || argv[0] === '-v') {
      stdout.write(`${version}\n`);
      return 0;
    }
    const spec = findCommand(argv);
    if (!spec) return unknownCommand(argv, stdout, stderr);
    const rest = argv.slice(spec.name.split(' ').length);
    const args = parseArgs(rest, [...globalOptions, ...spec.options], spec.name);
    if (args.options.help === true) {
      stdout.write(commandHelp(spec));
      return 0;
    }
    checkPositionals(spec, args);
    const quiet = args.options.quiet === true;
    // Before any session exists: onnxruntime's own warnings bypass our output and would reach stderr.
    if (quiet) setRuntimeLogLevel('error');
    const json = args.options.json === true;
    const ctx: CommandContext = { cwd, progress: createProgress(stderr, quiet), signal };
    const out = await handlers[spec.name]!(args, ctx);
    ctx.progress.end();
    if (json) stdout.write(JSON.stringify(out.data, null, 2) + '\n');
    else if (!quiet) stdout.write(out.text + '\n');
    return 0;
  } catch (e) {
    if (signal.aborted) {
      stderr.write('\ndnnpart: interrupted; no partial profile was written\n');
      return 130;
    }
    const code = (e as { code?: unknown } | null)?.code;
    if (e instanceof Error && typeof code === 'string' && isInputError(code)) {
      stderr.write(`dnnpart: ${tempDirMessage(e) ?? e.message.replace(/\s*\n\s*/g, ' ')}\n`);
      if (env.DNNPART_DEBUG === '1') stderr.write(`(${code}) ${e.stack ?? ''}\n`);
      return 2;
    }
    const message = e instanceof Error ? e.message : String(e);
    stderr.write(`dnnpart: unexpected failure: ${message.split('\n')[0]}\n`);
    if (env.DNNPART_DEBUG === '1') stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    else stderr.write('(set DNNPART_DEBUG=1 to see the stack; please report it)\n');
    return 1;
  } finally {
    if (!io?.signal) process.removeListener('SIGINT', onSigint);
  }
}

/** Node's error for a temporary directory it could not make, said as the environment's: which directory (TMPDIR) and why. */
function tempDirMessage(e: Error): string | null {
  const { syscall, path: where } = e as NodeJS.ErrnoException;
  if (syscall !== 'mkdtemp' || typeof where !== 'string') return null;
  const reason = e.message.split(',')[0]!.replace(/^[A-Z]+: /, '');
  return `cannot make a temporary directory in ${path.dirname(where)} (${reason}); set TMPDIR to a writable directory`;
}

/**
 * An error with a string code is the user's mistake or environment (GRAPH_…, SYSTEM_…, and Node's
 * ENOENT/EACCES on a path they gave); Node's ERR_* codes are programming errors, so exit 1.
 */
function isInputError(code: string): boolean {
  return !code.startsWith('ERR_');
}

function checkPositionals(spec: CommandSpec, args: ParsedArgs): void {
  const needed = spec.positionals.filter((p) => p.required);
  if (args.positionals.length < needed.length) {
    const missing = needed[args.positionals.length]!;
    throw new UsageError('CLI_MISSING_ARGUMENT', `${spec.name} needs <${missing.name}> (${missing.help}); see dnnpart ${spec.name} --help`);
  }
  if (args.positionals.length > spec.positionals.length) {
    throw new UsageError('CLI_TOO_MANY_ARGUMENTS', `${spec.name} takes ${spec.positionals.length === 0 ? 'no arguments' : spec.positionals.map((p) => `<${p.name}>`).join(' ')}, got extra "${args.positionals[spec.positionals.length]}"`);
  }
}

function unknownCommand(argv: readonly string[], stdout: CliIO['stdout'], stderr: CliIO['stderr']): number {
  const group = commands.filter((c) => c.name.startsWith(argv[0] + ' '));
  if (group.length > 0) {
    if (argv.length === 1) {
      stderr.write(groupHelp(argv[0]!));
      return 2;
    }
    if (argv[1] === '--help' || argv[1] === '-h') {
      stdout.write(groupHelp(argv[0]!));
      return 0;
    }
    throw new UsageError('CLI_UNKNOWN_COMMAND', `unknown command "${argv[0]} ${argv[1]}" (${argv[0]} has: ${group.map((c) => c.name.split(' ')[1]).join(', ')})`);
  }
  throw new UsageError('CLI_UNKNOWN_COMMAND', `unknown command "${argv[0]}" (see dnnpart --help)`);
}
