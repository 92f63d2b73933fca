// Wide synthetic DAGs for the coarsened path: k parallel branches of length L between a stem and a join
// (its downsets number about (L+1)^k), with seeded random costs on heterogeneous boards.

import type { Objective, Problem, ProblemBoard, ProblemLink, ProblemTensor } from '../src/index.js';
import { rng } from './_random.js';

export interface WideOptions {
  readonly branches: number;
  readonly length: number;
  readonly boards: number;
  readonly objective?: Objective;
  readonly boardOrder?: 'fixed' | 'free';
  /** Repeat the stem-branches-join block this many times (in series). */
  readonly blocks?: number;
  readonly memoryCaps?: boolean;
  readonly constraints?: Problem['constraints'];
}

/** stem -> k branches of L nodes -> join, `blocks` times in a row, then a head. */
export function wideProblem(seed: number, o: WideOptions): Problem {
  const r = rng(seed);
  const ids: string[] = [];
  const tensors: ProblemTensor[] = [];
  const add = (id: string) => { ids.push(id); return id; };
  let prev = add('stem');
  tensors.push({ id: 'x', producer: null, consumers: ['stem'], bytes: 150_000 });
  for (let k = 0; k < (o.blocks ?? 1); k++) {
    const ends: string[] = [];
    const firsts: string[] = [];
    for (let b = 0; b < o.branches; b++) {
      let last = '';
      for (let i = 0; i < o.length; i++) {
        const id = add(`k${k}b${b}n${i}`);
        if (i === 0) firsts.push(id);
        else tensors.push({ id: `t_${last}`, producer: last, consumers: [id], bytes: Math.round(20_000 + r() * 200_000) });
        last = id;
      }
      ends.push(last);
    }
    tensors.push({ id: `t_${prev}`, producer: prev, consumers: firsts, bytes: Math.round(50_000 + r() * 200_000) });
    const join = add(`k${k}join`);
    for (const e of ends) tensors.push({ id: `t_${e}`, producer: e, consumers: [join], bytes: Math.round(20_000 + r() * 100_000) });
    prev = join;
  }
  const head = add('head');
  tensors.push({ id: `t_${prev}`, producer: prev, consumers: [head], bytes: 40_000 });
  tensors.push({ id: 'y', producer: head, consumers: [], bytes: 4_000 });
  const nodes = ids.map((id) => ({ id, memoryBytes: Math.round(1e5 + r() * 1e6), macs: Math.round(1e6 + r() * 1e8) }));
  const boards: ProblemBoard[] = Array.from({ length: o.boards }, (_, b) => {
    const speed = 0.5 + r() * 3;
    const latencyMs: Record<string, number> = {};
    const energyMj: Record<string, number> = {};
    for (const n of nodes) {
      latencyMs[n.id] = Math.round(((n.macs / 1e8) * 5 / speed) * 1e4) / 1e4;
      energyMj[n.id] = Math.round(latencyMs[n.id]! * (1 + b) * 1e4) / 1e4;
    }
    const total = nodes.reduce((s, x) => s + x.memoryBytes, 0);
    return { id: `b${b}`, memoryBytes: o.memoryCaps === true ? Math.round(total * 0.45) : null, latencyMs, energyMj };
  });
  const links: ProblemLink[] = [];
  for (let a = 0; a < o.boards; a++) {
    for (let b = 0; b < o.boards; b++) {
      if (a !== b) links.push({ from: `b${a}`, to: `b${b}`, bandwidthBytesPerSec: 125e6, latencyMs: 0.05, powerW: 0.6, framing: 'ethernet' });
    }
  }
  return {
    version: 1, name: `wide ${o.branches}x${o.length}`, nodes, tensors, boards, links, inputBoard: 'b0',
    objective: o.objective ?? 'throughput', boardOrder: o.boardOrder ?? 'free',
    ...(o.constraints === undefined ? {} : { constraints: o.constraints }),
  };
}
