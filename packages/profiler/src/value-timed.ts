// Nodes a board description cannot price, carried over from a board that ran them.
//
// An analytic profile prices a node from its shapes. Some nodes take as long as their input values
// make them (onnx-graph's `valueTimedNodes`: NonMaxSuppression's suppression loop, a Loop whose trip
// count the data decides): SSDLite's one NMS took 60 ms on this machine where its shapes price it at
// 0.03-0.15 ms on every described board. A plan that sees that figure sends the NMS to a described
// board and predicts a throughput the pipeline will never reach. When a board of the same system ran
// the model, its time for such a node is the only figure there is, and a described board gets it
// scaled by how the two boards compare on the rest of the model (the described board's estimate of
// every other node over the measured board's times): the same ratio at which the solver already sees
// the two boards, so the node moves between them at no false discount.
import { round } from './_stats.js';
import type { Profile, ProfileNode } from './types.js';

/** One node priced from a measured board (`carryMeasuredNodes`). */
export interface CarriedNode {
  readonly node: string;
  readonly op: string;
  /** The described board's own estimate, replaced. */
  readonly estimatedMs: number;
  /** The measured board's median. */
  readonly measuredMs: number;
  /** estimatedMs of the other nodes over measuredMs of them (`ratio`), times measuredMs. */
  readonly carriedMs: number;
}

export interface CarriedProfile {
  readonly profile: Profile;
  /** Σ the described board's estimates / Σ the measured board's medians over every other node both have. */
  readonly ratio: number;
  readonly nodes: readonly CarriedNode[];
}

/**
 * `target` (an analytic profile) with the nodes `names` priced from `measured` (a profile of the same
 * model on a board that ran it): measured median × the ratio of the two profiles over every other
 * node both give a time, energy at the target's own power per ms. Nodes `measured` has no time for
 * (or 0), and a pair of profiles with no other node in common, are left as they were (an empty
 * `nodes`). The end-to-end figures follow the node sum, as an analytic profile's do.
 */
export function carryMeasuredNodes(target: Profile, measured: Profile, names: readonly string[]): CarriedProfile {
  const carry = new Set(names);
  const own = new Map(measured.nodes.map((n) => [n.name, n.latencyMs.median]));
  let estimated = 0;
  let ran = 0;
  for (const n of target.nodes) {
    const m = own.get(n.name);
    if (carry.has(n.name) || m === undefined) continue;
    estimated += n.latencyMs.median;
    ran += m;
  }
  if (!(ran > 0) || !(estimated > 0)) return { profile: target, ratio: 0, nodes: [] };
  const ratio = estimated / ran;
  const latency = target.nodes.reduce((s, n) => s + n.latencyMs.median, 0);
  const energy = target.nodes.reduce((s, n) => s + (n.energyMj ?? 0), 0);
  // The board's power while it runs this model: its description's, else what its nodes imply.
  const wattsPerMs = target.power.activeW ?? (latency > 0 ? energy / latency : 0);
  const carried: CarriedNode[] = [];
  const nodes: ProfileNode[] = target.nodes.map((n) => {
    const m = own.get(n.name);
    if (!carry.has(n.name) || m === undefined || !(m > 0)) return n;
    const ms = round(m * ratio);
    carried.push({ node: n.name, op: n.op, estimatedMs: n.latencyMs.median, measuredMs: m, carriedMs: ms });
    return { ...n, latencyMs: { median: ms, p90: ms, mean: ms, stddev: 0 }, energyMj: n.energyMj === null ? null : round(wattsPerMs * ms) };
  });
  if (carried.length === 0) return { profile: target, ratio, nodes: [] };
  const total = round(nodes.reduce((s, n) => s + n.latencyMs.median, 0));
  const power = target.power;
  const profile: Profile = {
    ...target,
    endToEnd: { ...target.endToEnd, medianMs: total, p90Ms: total },
    nodes,
    power: {
      ...power,
      ...(power.activeW !== undefined ? { energyPerInferenceMj: round(power.activeW * total) } : {}),
      ...(power.activeW !== undefined && power.idleW !== undefined ? { dynamicEnergyPerInferenceMj: round((power.activeW - power.idleW) * total) } : {}),
    },
  };
  return { profile, ratio, nodes: carried };
}
