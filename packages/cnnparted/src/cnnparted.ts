// Import of the paper's data (itiv-kit/cnn-parted, examples/results): per-layer conv costs on two
// simulated accelerators, the network's graph from @dnnpart/zoo, and the paper's Ethernet link.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { graphParts, loadModel } from '@dnnpart/onnx-graph';
import { parseProblem, type BoardOrder, type Objective, type Problem, type ProblemBoard, type ProblemLink } from '@dnnpart/solver';
import { buildZooModel } from '@dnnpart/zoo';
import { CnnpartedError } from './errors.js';

/** The paper's data as shipped in this package (the same path from src/ and from dist/). */
export const CNNPARTED_DATA_DIR = fileURLToPath(new URL('../data/cnnparted-2024-02', import.meta.url));

/** The seven networks of the paper's data, and the zoo network with the same graph and node names. */
export const CNNPARTED_NETWORKS: Readonly<Record<string, string>> = {
  alexnet: 'alexnet',
  efficientnet: 'efficientnet_b0',
  googlenet: 'googlenet',
  regnet_x_400mf: 'regnet_x_400mf',
  resnet50: 'resnet50',
  squeezenet1_1: 'squeezenet1_1',
  vgg16: 'vgg16',
};
export const CNNPARTED_PLATFORMS = ['eyeriss_like', 'simba_like'] as const;

/** The paper's 1000BASE-T link: 125e6 B/s, Ethernet framing, 5 m x 6 ns/m, 600 mW. */
export const CNNPARTED_LINK = { bandwidthBytesPerSec: 125e6, latencyMs: 5 * 6e-6, powerW: 0.6, framing: 'ethernet' } as const;
/** The paper simulates 16-bit words (`data_bit_width: 16`). */
export const CNNPARTED_BYTES_PER_ELEMENT = 2;

export interface CnnpartedOptions {
  readonly net: string;
  /** Platforms in pipeline order; a name may repeat (two boards of one kind). Default eyeriss_like,simba_like. */
  readonly platforms?: readonly string[];
  readonly order?: BoardOrder;
  readonly objective?: Objective;
}

/** One row of `<net>_result.csv`: the paper's evaluated two-platform split. */
export interface CnnpartedResultRow {
  readonly cutAfter: string;
  readonly latencyMs: number;
  readonly energyMj: number;
  readonly throughputFps: number;
  readonly linkBytes: number;
  readonly label: string;
}

function readText(path: string): string {
  if (!existsSync(path)) throw new CnnpartedError('CNNPARTED_NOT_FOUND', `${path} not found; pass the cnn-parted results directory, or none for the bundled data`);
  return readFileSync(path, 'utf8');
}

function checkNet(net: string): string {
  const zoo = CNNPARTED_NETWORKS[net];
  if (zoo === undefined) {
    throw new CnnpartedError('CNNPARTED_BAD_OPTION', `--net: unknown network "${net}"; valid: ${Object.keys(CNNPARTED_NETWORKS).join(', ')}`);
  }
  return zoo;
}

/** Node names of `<net>_schedules.csv` in its topological order, without "input" and "output". */
export function readCnnpartedSchedule(dir: string, net: string): string[] {
  checkNet(net);
  const path = join(dir, `${net}_schedules.csv`);
  const cells = readText(path).trim().split(',').map((c) => c.trim());
  if (cells.length < 3 || cells[1] !== 'input' || cells[cells.length - 1] !== 'output') {
    throw new CnnpartedError('CNNPARTED_FORMAT', `${path}: expected "<id>,input,<nodes>...,output"`);
  }
  return cells.slice(2, -1);
}

/** Conv costs of one platform: layer name -> { latencyMs, energyMj }. */
export function readCnnpartedCosts(dir: string, net: string, platform: string): Map<string, { latencyMs: number; energyMj: number }> {
  const path = join(dir, `${net}_${platform}_convlayers.csv`);
  const lines = readText(path).trim().split(/\r?\n/);
  if (lines[0]?.trim() !== 'No.;Layer;Latency [ms];Energy [mJ]') {
    throw new CnnpartedError('CNNPARTED_FORMAT', `${path}:1: expected the header "No.;Layer;Latency [ms];Energy [mJ]"`);
  }
  const out = new Map<string, { latencyMs: number; energyMj: number }>();
  lines.slice(1).forEach((line, i) => {
    const [, layer, lat, en] = line.split(';');
    const latencyMs = Number(lat);
    const energyMj = Number(en);
    if (layer === undefined || !Number.isFinite(latencyMs) || !Number.isFinite(energyMj) || latencyMs < 0 || energyMj < 0) {
      throw new CnnpartedError('CNNPARTED_FORMAT', `${path}:${i + 2}: expected "No.;Layer;latency;energy" with numbers >= 0, got "${line}"`);
    }
    out.set(layer, { latencyMs, energyMj });
  });
  return out;
}

/** The rows of `<net>_result.csv` (the paper's evaluated splits, Eyeriss-like then Simba-like). */
export function readCnnpartedResults(dir: string, net: string): CnnpartedResultRow[] {
  checkNet(net);
  const path = join(dir, `${net}_result.csv`);
  return readText(path).trim().split(/\r?\n/).map((line, i) => {
    const c = line.split(',');
    const num = (k: number) => {
      const x = Number(c[k]);
      if (!Number.isFinite(x)) throw new CnnpartedError('CNNPARTED_FORMAT', `${path}:${i + 1}: column ${k + 1} is not a number: "${c[k]}"`);
      return x;
    };
    if (c.length !== 12) throw new CnnpartedError('CNNPARTED_FORMAT', `${path}:${i + 1}: expected 12 columns, got ${c.length}`);
    return { cutAfter: c[2]!, latencyMs: num(5), energyMj: num(6), throughputFps: num(7), linkBytes: num(8), label: c[11]! };
  });
}

/**
 * The input side the paper simulated: its "input" row carries the 16-bit RGB input, 3 x side^2 x 2
 * bytes (227 for alexnet, regnet_x_400mf and squeezenet1_1, though their configs say 224); else 224.
 */
export function cnnpartedInputSide(dir: string, net: string): number {
  const row = readCnnpartedResults(dir, net).find((r) => r.cutAfter === 'input');
  if (row === undefined) return 224;
  const side = Math.round(Math.sqrt(row.linkBytes / (3 * CNNPARTED_BYTES_PER_ELEMENT)));
  return 3 * side * side * CNNPARTED_BYTES_PER_ELEMENT === row.linkBytes ? side : 224;
}

/** A problem from the paper's data: conv costs per platform (other ops cost 0), zoo graph, paper link. */
export async function importCnnparted(dir: string, options: CnnpartedOptions): Promise<Problem> {
  const zooName = checkNet(options.net);
  const platforms = options.platforms ?? ['eyeriss_like', 'simba_like'];
  if (platforms.length === 0) throw new CnnpartedError('CNNPARTED_BAD_OPTION', '--platforms: name at least one platform');
  for (const p of platforms) {
    if (!(CNNPARTED_PLATFORMS as readonly string[]).includes(p)) {
      throw new CnnpartedError('CNNPARTED_BAD_OPTION', `--platforms: unknown platform "${p}"; valid: ${CNNPARTED_PLATFORMS.join(', ')}`);
    }
  }
  const order = options.order ?? 'fixed';
  if (order !== 'fixed' && order !== 'free') throw new CnnpartedError('CNNPARTED_BAD_OPTION', `--order: must be fixed or free, got "${String(order)}"`);
  const schedule = readCnnpartedSchedule(dir, options.net);
  const side = cnnpartedInputSide(dir, options.net);
  const { graph } = await loadModel(buildZooModel(zooName, { inputShape: [1, 3, side, side] }));
  const graphNames = new Set(graph.nodes.map((n) => n.name));
  const inSchedule = new Set(schedule);
  for (const name of schedule) {
    if (!graphNames.has(name)) throw new CnnpartedError('CNNPARTED_FORMAT', `${options.net}_schedules.csv: node "${name}" is not in the zoo's ${zooName}`);
  }
  for (const n of graph.nodes) {
    if (!inSchedule.has(n.name)) throw new CnnpartedError('CNNPARTED_FORMAT', `${options.net}_schedules.csv: the zoo's ${zooName} node "${n.name}" is missing`);
  }
  const { nodes, tensors } = graphParts(graph, { bytesPerElement: CNNPARTED_BYTES_PER_ELEMENT, weightBytesPerElement: CNNPARTED_BYTES_PER_ELEMENT });
  const costsOf = new Map(CNNPARTED_PLATFORMS.map((p) => [p, readCnnpartedCosts(dir, options.net, p)] as const));
  const seen = new Map<string, number>();
  const boards: ProblemBoard[] = platforms.map((p) => {
    const k = (seen.get(p) ?? 0) + 1;
    seen.set(p, k);
    const costs = costsOf.get(p as (typeof CNNPARTED_PLATFORMS)[number])!;
    for (const layer of costs.keys()) {
      if (!graphNames.has(layer)) throw new CnnpartedError('CNNPARTED_FORMAT', `${options.net}_${p}_convlayers.csv: layer "${layer}" is not a node of ${zooName}`);
    }
    const latencyMs: Record<string, number> = {};
    const energyMj: Record<string, number> = {};
    for (const n of graph.nodes) {
      const c = costs.get(n.name);
      if (c === undefined && n.op === 'Conv') {
        throw new CnnpartedError('CNNPARTED_FORMAT', `${options.net}_${p}_convlayers.csv: no costs for Conv node "${n.name}"`);
      }
      // The paper's model: only convolutions cost anything.
      latencyMs[n.name] = c?.latencyMs ?? 0;
      energyMj[n.name] = c?.energyMj ?? 0;
    }
    return { id: k === 1 ? p : `${p}#${k}`, memoryBytes: null, latencyMs, energyMj };
  });
  const links: ProblemLink[] = [];
  for (const a of boards) for (const b of boards) if (a.id !== b.id) links.push({ from: a.id, to: b.id, ...CNNPARTED_LINK });
  const problem = {
    version: 1,
    name: `cnnparted ${options.net} ${boards.map((b) => b.id).join(',')} ${order}`,
    nodes, tensors, boards, links,
    inputBoard: boards[0]!.id,
    objective: options.objective ?? 'throughput',
    boardOrder: order,
  };
  return parseProblem(problem, `cnnparted ${options.net}`);
}
