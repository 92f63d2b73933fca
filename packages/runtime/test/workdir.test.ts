// An agent's temporary files live in a directory of its own, and an agent that was killed leaves
// nothing that the next one to start does not remove (workdir.ts): the sweep on a made-up tree, then
// real agent processes killed with SIGKILL and stopped with SIGTERM.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimWorkDir, profileOnAgents } from '@dnnpart/runtime';
import { ensureBuilt, spawnAgent, type SpawnedAgent } from './_agents.js';
import { squeezenet } from './_models.js';

const base = mkdtempSync(path.join(tmpdir(), 'dnnpart-workdir-'));
const trees = mkdtempSync(path.join(tmpdir(), 'dnnpart-workdir-trees-'));
const started: SpawnedAgent[] = [];

beforeAll(() => ensureBuilt());
afterAll(async () => {
  await Promise.all(started.map((a) => a.kill()));
  rmSync(base, { recursive: true, force: true });
  rmSync(trees, { recursive: true, force: true });
});

function fill(dir: string, files: Record<string, number>): void {
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), Buffer.alloc(bytes, 1));
  }
}

describe('claimWorkDir', () => {
  it("removes the directories of this host's agents that no longer run, and nothing else", () => {
    const root = path.join(trees, 'sweep');
    fill(path.join(root, 'dnnpart-agent.h.111'), { 'dnnpart-stage-x/model.onnx': 1000, 'dnnpart-stage-x/weights.bin': 500, 'note': 24 });
    fill(path.join(root, 'dnnpart-agent.h.222'), { 'model.onnx': 10 }); // running
    fill(path.join(root, 'dnnpart-agent.other.333'), { 'model.onnx': 10 }); // another host's (a container sharing /tmp)
    fill(path.join(root, 'dnnpart-agent.h.abc'), { 'model.onnx': 10 }); // not an agent's name
    fill(path.join(root, 'dnnpart-stage-old'), { 'model.onnx': 10 }); // not in an agent's directory
    fill(path.join(root, 'dnnpart-agent.h.444'), { 'left.onnx': 7 }); // this process's id, left by an earlier one
    const asked: number[] = [];
    const work = claimWorkDir({ base: root, host: 'h', pid: 444, alive: (p) => (asked.push(p), p === 222) });
    expect(work.dir).toBe(path.join(root, 'dnnpart-agent.h.444'));
    expect(work.swept).toEqual({ dirs: 1, bytes: 1524 });
    expect(readdirSync(work.dir)).toEqual([]);
    expect(readdirSync(root).sort()).toEqual(['dnnpart-agent.h.222', 'dnnpart-agent.h.444', 'dnnpart-agent.h.abc', 'dnnpart-agent.other.333', 'dnnpart-stage-old']);
    // Only the other agents of this host were asked about; its own id needs no asking.
    expect(asked.sort()).toEqual([111, 222]);
    work.release();
    expect(existsSync(work.dir)).toBe(false);
    work.release();
  });

  it('makes the base when it does not exist, and names a host with dots in a file-safe way', () => {
    const root = path.join(trees, 'new', 'deeper');
    const work = claimWorkDir({ base: root, host: 'board.local', pid: 7 });
    expect(work.dir).toBe(path.join(root, 'dnnpart-agent.board_local.7'));
    expect(work.swept).toEqual({ dirs: 0, bytes: 0 });
    work.release();
  });
});

describe('dnnpart-agent and its work directory', () => {
  const env = { ...process.env, DNNPART_MALLOC: 'as-is', TMPDIR: base };
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '_');
  const dirOf = (a: SpawnedAgent) => path.join(base, `dnnpart-agent.${host}.${a.proc.pid}`);

  it("keeps its temporary files in its own directory, and the next agent removes a killed one's", async () => {
    const a = await spawnAgent('w1', [], { env });
    started.push(a);
    expect(a.log()).toContain(`temporary files in ${dirOf(a)}`);
    expect(existsSync(dirOf(a))).toBe(true);
    // What a stage being deployed writes there when the agent is killed (out of memory, say).
    fill(dirOf(a), { 'dnnpart-stage-abc/model.onnx': 4096 });
    await a.kill('SIGKILL');
    expect(existsSync(dirOf(a))).toBe(true);

    const b = await spawnAgent('w2', [], { env });
    started.push(b);
    expect(existsSync(dirOf(a))).toBe(false);
    expect(b.log()).toMatch(/removed 1 directory \(0\.0 MB\) that agents which stopped without cleaning up had left/);
    // A profile on it (a model file and the profiler's own temporary files) leaves nothing outside its directory.
    const { bytes } = await squeezenet();
    const file = path.join(base, 'squeezenet.onnx');
    writeFileSync(file, bytes);
    const inside = new Set<string>();
    const outside = new Set<string>();
    const watch = setInterval(() => {
      try {
        for (const n of readdirSync(dirOf(b))) inside.add(n);
        for (const n of readdirSync(base)) if (n !== path.basename(dirOf(b)) && n !== 'squeezenet.onnx') outside.add(n);
      } catch {}
    }, 2);
    const [p] = await profileOnAgents([b.endpoint], file, { runs: 2, warmup: 1, threads: 1 }).finally(() => clearInterval(watch));
    expect(p!.profile.nodes.length).toBeGreaterThan(0);
    // The model it was sent, in a directory of its own inside the agent's while it profiled.
    expect([...inside].some((n) => n.startsWith('dnnpart-agent-'))).toBe(true);
    expect([...outside]).toEqual([]);
    expect(readdirSync(base).sort()).toEqual([path.basename(dirOf(b)), 'squeezenet.onnx'].sort());

    // Stopped as a service manager stops it: its directory goes with it.
    const exited = new Promise<number | null>((r) => b.proc.once('exit', (code) => r(code)));
    b.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(dirOf(b))).toBe(false);
  }, 120_000);
});
