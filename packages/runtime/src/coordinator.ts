// The coordinator: asks agents who they are, profiles a model on all of them, measures every
// directed link between them, and produces YAML for the links a system file can reference.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { stringify } from 'yaml';
import { decodeModel, externalDataLocations, type InputShapes } from '@dnnpart/onnx-graph';
import type { Profile } from '@dnnpart/profiler';
import { fileDigest } from './_files.js';
import { connectAgent, type AgentClient, type AgentEndpoint, type ProfileData } from './client.js';
import { RuntimeError, isRuntimeError, messageOf } from './errors.js';
import type { AgentInfo, LinkMeasurement, LinkTestOptions } from './types.js';

/** How to reach an agent: gRPC by default; tests and other transports may pass their own. */
export type Connect = (endpoint: AgentEndpoint) => AgentClient;

/** One agent's answer (or why there is none). */
export interface AgentStatus {
  readonly id: string;
  readonly address: string;
  readonly ok: boolean;
  readonly info?: AgentInfo;
  /** Round trip of the Info call (ms). */
  readonly ms?: number;
  readonly error?: string;
  readonly code?: string;
}

/**
 * The files `modelFile` keeps its weights in beside it (ONNX external data, as exporters write models
 * over 2 GB), each with its sha256 and size; none for a model in one file. Bytes that are not a model
 * this reads are left for the agent to refuse.
 */
async function externalData(modelFile: string, bytes: Uint8Array): Promise<ProfileData[]> {
  let locations: string[];
  try {
    locations = externalDataLocations(decodeModel(bytes, modelFile));
  } catch {
    return [];
  }
  const out: ProfileData[] = [];
  for (const name of locations) {
    if (isAbsolute(name) || name.split(/[\\/]/).includes('..')) {
      throw new RuntimeError('RUNTIME_BAD_OPTIONS', `${modelFile}: its weights file ${name} is outside the model's directory; ONNX external data is named relative to it`);
    }
    const path = join(dirname(modelFile), name);
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw new RuntimeError('RUNTIME_BAD_OPTIONS', `${modelFile}: its weights file ${name} is not beside it (${path} not found); keep the model's external data files in its directory`);
    }
    out.push({ name, path, ...(await fileDigest(path)) });
  }
  return out;
}

/** Ask every agent for its facts, in parallel; never throws for an agent that does not answer. */
export async function checkAgents(agents: readonly AgentEndpoint[], options: { timeoutMs?: number; connect?: Connect } = {}): Promise<AgentStatus[]> {
  const connect = options.connect ?? connectAgent;
  return Promise.all(agents.map(async (a) => {
    const c = connect(a);
    const t0 = performance.now();
    try {
      const { nowMs: _n, ...info } = await c.info(options.timeoutMs ?? 5000);
      return { id: a.id, address: a.peer.address, ok: true, info, ms: performance.now() - t0 };
    } catch (e) {
      return { id: a.id, address: a.peer.address, ok: false, error: messageOf(e), ...(isRuntimeError(e) ? { code: e.code } : {}) };
    } finally {
      c.close();
    }
  }));
}

/** Measure every directed pair, one at a time (two tests at once would share the links they measure). */
export async function measureLinks(
  agents: readonly AgentEndpoint[],
  options: LinkTestOptions & { connect?: Connect; timeoutMs?: number; onProgress?: (done: number, total: number, pair: string) => void } = {},
): Promise<LinkMeasurement[]> {
  if (agents.length < 2) throw new RuntimeError('RUNTIME_BAD_OPTIONS', `measuring links needs at least two agents, the agents file has ${agents.length}`);
  const connect = options.connect ?? connectAgent;
  const pairs = agents.flatMap((a) => agents.filter((b) => b !== a).map((b) => [a, b] as const));
  const out: LinkMeasurement[] = [];
  for (const [i, [a, b]] of pairs.entries()) {
    options.onProgress?.(i, pairs.length, `${a.id} -> ${b.id}`);
    const c = connect(a);
    try {
      out.push(await c.linkTest(b, { ...(options.sizes ? { sizes: options.sizes } : {}), ...(options.repeats ? { repeats: options.repeats } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) }));
    } finally {
      c.close();
    }
  }
  options.onProgress?.(pairs.length, pairs.length, 'done');
  return out;
}

/** A links file: `links:` in the system-file format (measured bandwidth and latency, framing none). */
export function linksYaml(links: readonly LinkMeasurement[], note?: string): string {
  const body = {
    version: 1,
    links: links.map((l) => ({
      from: l.from,
      to: l.to,
      bandwidthBytesPerSec: Math.round(l.bandwidthBytesPerSec),
      latencyMs: Number(l.latencyMs.toFixed(4)),
      // Not measured: a link's power needs a meter; 0 keeps energy figures to the boards.
      powerW: 0,
      framing: 'none',
    })),
  };
  return `# Measured by dnnpart link${note ? ` ${note}` : ''}: time(bytes) = latencyMs + bytes / bandwidthBytesPerSec.\n${stringify(body)}`;
}

/** Profile `modelFile` on every agent at once; returns each agent's profile. */
export async function profileOnAgents(
  agents: readonly AgentEndpoint[],
  modelFile: string,
  options: { runs?: number; warmup?: number; threads?: number; boundary?: 'calibrate' | 'default'; inputShapes?: InputShapes; timeoutMs?: number; connect?: Connect; signal?: AbortSignal; onDone?: (id: string) => void } = {},
): Promise<{ id: string; profile: Profile }[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(modelFile);
  } catch (e) {
    throw new RuntimeError('RUNTIME_BAD_OPTIONS', `${modelFile}: cannot read the model (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const connect = options.connect ?? connectAgent;
  const name = basename(modelFile).replace(/\.onnx$/i, '');
  const data = await externalData(modelFile, bytes);
  const clients = agents.map((a) => connect(a));
  try {
    if (data.length > 0) {
      // An agent before external data would take the files' bytes for the model's.
      await Promise.all(clients.map(async (c) => {
        const info = await c.info();
        if (info.profileDataFiles !== true) {
          throw new RuntimeError('RUNTIME_BAD_OPTIONS', `${basename(modelFile)} keeps its weights in ${data.length === 1 ? data[0]!.name : `${data.length} files`} beside it, which agent ${c.id} at ${c.address} (version ${info.agentVersion}) cannot take with the model; update its dnnpart-agent`);
        }
      }));
    }
    return await Promise.all(clients.map(async (c) => {
      const profile = await c.profile(bytes, {
        name, board: c.id,
        ...(data.length > 0 ? { data } : {}),
        ...(options.runs !== undefined ? { runs: options.runs } : {}),
        ...(options.warmup !== undefined ? { warmup: options.warmup } : {}),
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        ...(options.boundary !== undefined ? { boundary: options.boundary } : {}),
        // The shapes (and values) of a model's dynamic inputs, as --input gives them to a local profile.
        ...(options.inputShapes ? { inputShapes: options.inputShapes } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      options.onDone?.(c.id);
      return { id: c.id, profile };
    }));
  } finally {
    for (const c of clients) c.close();
  }
}
