// carryMeasuredNodes on plain profiles whose figures are known in advance: the carried node takes the
// measured board's time times the ratio of the two boards over every other node, the others keep
// the description's figures, and what cannot be carried is left as it was.
import { describe, expect, it } from 'vitest';
import { carryMeasuredNodes, type Profile } from '@dnnpart/profiler';
import { sampleProfile } from './_profiles.js';

function profileOf(source: 'measured' | 'analytic', nodes: Record<string, number>, power: Profile['power']): Profile {
  const base = sampleProfile();
  const total = Object.values(nodes).reduce((s, x) => s + x, 0);
  return {
    ...base,
    source,
    endToEnd: { medianMs: total, p90Ms: total, runs: 0 },
    nodes: Object.entries(nodes).map(([name, ms]) => ({
      name, op: name === 'nms' ? 'NonMaxSuppression' : 'Conv', latencyMs: { median: ms, p90: ms, mean: ms, stddev: 0 },
      paramBytes: 0, outputBytes: 0, energyMj: power.activeW !== undefined ? power.activeW * ms : null,
    })),
    power,
    fusedNodes: [],
  };
}

const described = () => profileOf('analytic', { a: 6, b: 3, nms: 0.1 }, { source: 'estimated', idleW: 2, activeW: 8, energyPerInferenceMj: 72.8, dynamicEnergyPerInferenceMj: 54.6 });
// The measured board runs a and b in 2 + 1 = 3 ms, which the description puts at 9: a ratio of 3.
const measured = () => profileOf('measured', { a: 2, b: 1, nms: 40 }, { source: 'unavailable' });

describe('carryMeasuredNodes', () => {
  it("prices the node at the measured time times the ratio of the other nodes, at the board's power; the rest as described", () => {
    const r = carryMeasuredNodes(described(), measured(), ['nms']);
    expect(r.ratio).toBe(3);
    expect(r.nodes).toEqual([{ node: 'nms', op: 'NonMaxSuppression', estimatedMs: 0.1, measuredMs: 40, carriedMs: 120 }]);
    const nodes = new Map(r.profile.nodes.map((n) => [n.name, n]));
    expect(nodes.get('nms')!.latencyMs).toEqual({ median: 120, p90: 120, mean: 120, stddev: 0 });
    expect(nodes.get('nms')!.energyMj).toBe(960);
    expect(nodes.get('a')!.latencyMs.median).toBe(6);
    expect(nodes.get('a')!.energyMj).toBe(48);
    expect(r.profile.endToEnd.medianMs).toBe(129);
    expect(r.profile.power.energyPerInferenceMj).toBe(8 * 129);
    expect(r.profile.power.dynamicEnergyPerInferenceMj).toBe(6 * 129);
    // The input profile is not changed.
    expect(described().nodes.find((n) => n.name === 'nms')!.latencyMs.median).toBe(0.1);
  });

  it('a board without power figures keeps null energy; a ratio below 1 makes the node cheaper than measured', () => {
    const target = profileOf('analytic', { a: 1, b: 0.5, nms: 0.01 }, { source: 'unavailable' });
    const r = carryMeasuredNodes(target, measured(), ['nms']);
    expect(r.ratio).toBe(0.5);
    const nms = r.profile.nodes.find((n) => n.name === 'nms')!;
    expect(nms.latencyMs.median).toBe(20);
    expect(nms.energyMj).toBeNull();
  });

  it('leaves the profile as it was when the measured board has no time for the node, or no other node in common', () => {
    const noNms = profileOf('measured', { a: 2, b: 1 }, { source: 'unavailable' });
    const target = described();
    expect(carryMeasuredNodes(target, noNms, ['nms'])).toEqual({ profile: target, ratio: 3, nodes: [] });
    const onlyNms = profileOf('measured', { nms: 40 }, { source: 'unavailable' });
    expect(carryMeasuredNodes(target, onlyNms, ['nms'])).toEqual({ profile: target, ratio: 0, nodes: [] });
    expect(carryMeasuredNodes(target, measured(), [])).toEqual({ profile: target, ratio: 9.1 / 43, nodes: [] });
  });
});
