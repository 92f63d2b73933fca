// `dnnpart-agent`: the agent's own small command line, for boards that have only this package
// installed (no report, no solver). `dnnpart agent` in apps/report takes the same flags.
import { readTlsFiles, readTokenFile } from './credentials.js';
import { RuntimeError, messageOf } from './errors.js';
import { startAgent, type AgentOptions, type RunningAgent } from './agent.js';
import { enterWorkDir, type WorkDir } from './workdir.js';
import { REUSE_PREFIX } from '@dnnpart/onnx-graph';
import { ENGINES, type Engine } from './types.js';

const USAGE = `usage: dnnpart-agent [--listen host:port] [--token-file f] [--tls-cert f --tls-key f --tls-ca f]
                     [--board name] [--max-tensor-bytes n] [--max-model-bytes n] [--queue-frames n] [--queue-bytes n] [--engines e,e]
                     [--no-preoptimise]
Serves Info, Profile, LinkTest and Stage over gRPC; listens on 127.0.0.1:7070 unless told otherwise.
Each stage is loaded from the graph onnxruntime's optimiser saves (one copy of its weights);
--no-preoptimise loads the stage model as sent.
Temporary files (stage models, a profiled model) go in $TMPDIR/dnnpart-agent.<host>.<pid>, removed when it
stops; at start it removes those that agents killed on this host left.
On glibc, stages handing back tensors of 32 MiB or more reuse their memory when the agent starts with
${REUSE_PREFIX} in its environment (else their pages fault in every run).
Example: dnnpart-agent --listen 0.0.0.0:7070 --token-file /etc/dnnpart/token`;

export interface AgentFlags {
  readonly listen?: string;
  readonly tokenFile?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsCa?: string;
  readonly board?: string;
  readonly maxTensorBytes?: number;
  readonly maxModelBytes?: number;
  readonly queueFrames?: number;
  readonly queueBytes?: number;
  readonly engines?: readonly string[];
  /** False: load each stage model as sent (AgentOptions.preoptimise). */
  readonly preoptimise?: boolean;
}

/** Agent options from command-line flags (files read, combinations checked). */
export function agentOptionsFromFlags(f: AgentFlags, onLog?: (line: string) => void): AgentOptions {
  const tlsGiven = [f.tlsCert, f.tlsKey, f.tlsCa].filter((x) => x !== undefined).length;
  if (tlsGiven !== 0 && tlsGiven !== 3) throw new RuntimeError('RUNTIME_BAD_OPTIONS', 'mutual TLS needs all of --tls-cert, --tls-key and --tls-ca');
  for (const e of f.engines ?? []) if (!ENGINES.includes(e as Engine)) throw new RuntimeError('RUNTIME_BAD_OPTIONS', `--engines: unknown engine "${e}" (known: ${ENGINES.join(', ')})`);
  return {
    ...(f.listen ? { listen: f.listen } : {}),
    ...(f.tokenFile ? { token: readTokenFile(f.tokenFile, '--token-file') } : {}),
    ...(tlsGiven === 3 ? { tls: readTlsFiles({ cert: f.tlsCert!, key: f.tlsKey!, ca: f.tlsCa! }, '--tls') } : {}),
    ...(f.board ? { board: f.board } : {}),
    ...(f.maxTensorBytes !== undefined ? { maxTensorBytes: f.maxTensorBytes } : {}),
    ...(f.maxModelBytes !== undefined ? { maxModelBytes: f.maxModelBytes } : {}),
    ...(f.queueFrames !== undefined ? { queueFrames: f.queueFrames } : {}),
    ...(f.queueBytes !== undefined ? { queueBytes: f.queueBytes } : {}),
    ...(f.engines ? { engines: f.engines as Engine[] } : {}),
    ...(f.preoptimise === false ? { preoptimise: false } : {}),
    ...(onLog ? { onLog } : {}),
  };
}

function parse(argv: readonly string[]): AgentFlags | 'help' {
  const out: Record<string, unknown> = {};
  const names: Record<string, [string, 'string' | 'number' | 'list']> = {
    '--listen': ['listen', 'string'], '--token-file': ['tokenFile', 'string'], '--tls-cert': ['tlsCert', 'string'], '--tls-key': ['tlsKey', 'string'],
    '--tls-ca': ['tlsCa', 'string'], '--board': ['board', 'string'], '--max-tensor-bytes': ['maxTensorBytes', 'number'],
    '--max-model-bytes': ['maxModelBytes', 'number'], '--queue-frames': ['queueFrames', 'number'], '--queue-bytes': ['queueBytes', 'number'], '--engines': ['engines', 'list'],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--no-preoptimise') {
      out.preoptimise = false;
      continue;
    }
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const spec = names[flag];
    if (!spec) throw new RuntimeError('RUNTIME_BAD_OPTIONS', `unknown option ${flag} (see dnnpart-agent --help)`);
    const v = inline ?? argv[++i];
    if (v === undefined) throw new RuntimeError('RUNTIME_BAD_OPTIONS', `${flag} needs a value`);
    if (spec[1] === 'number') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new RuntimeError('RUNTIME_BAD_OPTIONS', `${flag} needs a positive integer, got "${v}"`);
      out[spec[0]] = n;
    } else out[spec[0]] = spec[1] === 'list' ? v.split(',').filter(Boolean) : v;
  }
  return out as AgentFlags;
}

/** Run the agent until SIGINT/SIGTERM; returns the exit code (0, or 2 for a usage mistake). */
export async function agentMain(argv: readonly string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process): Promise<number> {
  let agent: RunningAgent;
  let work: WorkDir | undefined;
  // A closed log pipe must not take the agent down.
  io.stdout.on?.('error', () => {});
  io.stderr.on?.('error', () => {});
  try {
    const flags = parse(argv);
    if (flags === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const log = (line: string) => io.stdout.write(`dnnpart-agent: ${line}\n`);
    const options = agentOptionsFromFlags(flags, log);
    // Its temporary files in a directory of its own, and what killed agents left removed (workdir.ts).
    work = enterWorkDir(log);
    agent = await startAgent(options);
  } catch (e) {
    work?.release();
    io.stderr.write(`dnnpart-agent: ${messageOf(e)}\n`);
    return (e as { code?: unknown }).code && typeof (e as { code?: unknown }).code === 'string' ? 2 : 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await agent.close();
  work.release();
  return 0;
}
