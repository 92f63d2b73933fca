// Nodes whose time the data decides (NonMaxSuppression, a Loop of run-time trips), priced alike on
// every board of a system: a described board takes a measured board's time for them (profiler's
// `carryMeasuredNodes`), and without a measured board the user is told the estimate is blind.
import { valueTimedNodes, type Graph } from '@dnnpart/onnx-graph';
import { carryMeasuredNodes } from '@dnnpart/profiler';
import type { ResolvedBoard } from './resolve.js';

const ms = (x: number) => (x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2));

/**
 * `boards` with the value-timed nodes of their analytic profiles priced from the first measured
 * board that ran them, and one warning per board so priced (or one for the system when no board
 * was measured).
 */
export function priceValueTimed(graph: Graph, boards: readonly ResolvedBoard[]): { boards: ResolvedBoard[]; warnings: string[] } {
  const timed = valueTimedNodes(graph);
  const analytic = boards.filter((b) => b.source === 'analytic');
  if (timed.length === 0 || analytic.length === 0) return { boards: [...boards], warnings: [] };
  const names = timed.map((t) => t.node);
  const why = new Map(timed.map((t) => [t.node, t.why]));
  const measured = boards.filter((b) => b.source === 'measured');
  const warnings: string[] = [];
  // Nodes no measured board gave a time for (no measured board, or a profile without the node).
  const blind = timed.filter((t) => !measured.some((m) => (m.profile.nodes.find((n) => n.name === t.node)?.latencyMs.median ?? 0) > 0));
  if (blind.length > 0) {
    const first = blind[0]!;
    const estimates = analytic.map((b) => b.profile.nodes.find((n) => n.name === first.node)?.latencyMs.median ?? 0);
    const more = blind.length > 1 ? ` (and ${blind.length - 1} more such node(s))` : '';
    warnings.push(
      `node ${first.node} (${first.op}) takes as long as the data makes it (${first.why})${more}, which no board description can price: the described boards estimate it at ${ms(Math.min(...estimates))}-${ms(Math.max(...estimates))} ms from its shapes alone; ${measured.length === 0 ? 'measure one board of the system (a profile: or measure: entry) to price it from a run' : `and no measured profile of the system (${measured.map((m) => m.spec.id).join(', ')}) gives it a time`}`,
    );
  }
  if (measured.length === 0) return { boards: [...boards], warnings };
  const out = boards.map((b) => {
    if (b.source !== 'analytic') return b;
    // Each node from the first measured board that timed it.
    let profile = b.profile;
    const lines: string[] = [];
    const done = new Set<string>();
    for (const m of measured) {
      const r = carryMeasuredNodes(profile, m.profile, names.filter((n) => !done.has(n)));
      if (r.nodes.length === 0) continue;
      profile = r.profile;
      for (const c of r.nodes) done.add(c.node);
      for (const c of r.nodes) lines.push(`${c.node} (${c.op}, ${why.get(c.node)}) ${ms(c.estimatedMs)} -> ${ms(c.carriedMs)} ms (${m.spec.id}'s ${ms(c.measuredMs)} ms x ${r.ratio.toFixed(2)})`);
    }
    if (lines.length === 0) return b;
    warnings.push(
      `board ${b.spec.id}: its description cannot price ${lines.length === 1 ? 'a node that takes' : `${lines.length} nodes that take`} as long as the data makes ${lines.length === 1 ? 'it' : 'them'}, priced instead from a board that ran the model, times ${b.spec.id}'s estimate of the other nodes over that board's times: ${lines.slice(0, 3).join('; ')}${lines.length > 3 ? `; and ${lines.length - 3} more` : ''}`,
    );
    return { ...b, profile };
  });
  return { boards: out, warnings };
}
