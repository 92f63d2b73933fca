// Faults: an agent killed or stopped mid-run, garbage on every method, tensors over the limit,
// a model whose hash does not match, clients without the token or the TLS certificate. After
// each, the agents that are left keep serving and hold no stage.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAgents, connectAgent, readTlsFiles, runPlan, type AgentEndpoint } from '@dnnpart/runtime';
import { ensureBuilt, eventually, spawnAgent, type SpawnedAgent } from './_agents.js';
import { prefixPlan, squeezenet } from './_models.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dnnpart-faults-'));
const started: SpawnedAgent[] = [];
const start = async (id: string, args: string[] = [], peer = {}) => {
  const a = await spawnAgent(id, args, { peer });
  started.push(a);
  return a;
};
const token = 'tok-' + 'x'.repeat(20);
const openssl = (() => {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
})();
const f = (n: string) => path.join(dir, n);

/** A CA, an agent certificate and a client certificate it signed, and one from another CA. */
function makeCertificates(): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) ssl('req', '-x509', ...key, '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '1', '-subj', `/CN=${ca}`);
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, ca] of [['server', 'ca'], ['client', 'ca'], ['stranger', 'other-ca']]) {
    ssl('req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', 'san.ext');
  }
}

// Every agent of this file starts at once: starting one costs seconds (onnxruntime, board facts).
const agent: Record<string, SpawnedAgent> = {};
beforeAll(async () => {
  ensureBuilt();
  writeFileSync(f('token'), `${token}\n`);
  if (openssl) makeCertificates();
  const specs: [string, string, string[], object][] = [
    ['a', 'a', [], {}], ['b1', 'b', [], {}], ['b2', 'b', [], {}], ['c', 'c', [], {}],
    ['garbage', 'garbage', ['--max-tensor-bytes', '100000'], {}],
    ['secured', 'secured', ['--token-file', f('token')], { token }],
    ...(openssl ? [['tls', 'tls', ['--tls-cert', f('server.pem'), '--tls-key', f('server.key'), '--tls-ca', f('ca.pem')], {}] as [string, string, string[], object]] : []),
  ];
  await Promise.all(specs.map(async ([key, id, args, peer]) => (agent[key] = await start(id, args, peer))));
});
afterAll(async () => {
  for (const a of started) {
    a.proc.kill('SIGCONT');
    await a.kill();
  }
});

/** A message as the agents expect it: 4-byte header length, JSON header, payload. */
function message(header: object, payload = Buffer.alloc(0)): Buffer {
  const h = Buffer.from(JSON.stringify(header));
  const n = Buffer.alloc(4);
  n.writeUInt32BE(h.length);
  return Buffer.concat([n, h, payload]);
}

type Kind = 'unary' | 'client' | 'bidi';
const KIND: Record<string, Kind> = { Info: 'unary', Sink: 'unary', LinkTest: 'unary', Profile: 'client', Push: 'client', Stage: 'bidi' };

/** Call `method` with raw messages; the status it ends with. */
function raw(address: string, method: string, messages: readonly Buffer[], metadata = new grpc.Metadata(), creds = grpc.credentials.createInsecure()): Promise<{ code: number; details: string }> {
  const client = new grpc.Client(address, creds);
  const id = (b: Buffer) => b;
  const p = `/dnnpart.runtime.Agent/${method}`;
  const deadline = Date.now() + 10_000;
  return new Promise((resolve) => {
    const done = (err: grpc.ServiceError | null) => {
      client.close();
      resolve({ code: err ? err.code : grpc.status.OK, details: err ? err.details : '' });
    };
    if (KIND[method] === 'unary') client.makeUnaryRequest(p, id, id, messages[0]!, metadata, { deadline }, (e) => done(e));
    else if (KIND[method] === 'client') {
      const call = client.makeClientStreamRequest(p, id, id, metadata, { deadline }, (e) => done(e));
      call.on('error', () => {});
      for (const m of messages) call.write(m);
      call.end();
    } else {
      const call = client.makeBidiStreamRequest(p, id, id, metadata, { deadline });
      call.on('data', () => {});
      call.on('error', (e: grpc.ServiceError) => done(e));
      call.on('end', () => done(null));
      for (const m of messages) call.write(m);
      call.end();
    }
  });
}

describe('an agent that dies or stalls mid-run', () => {
  it('killed: the run stops, naming the agent and its stage, and the other agent holds no stage', async () => {
    const { model } = await squeezenet();
    const [a, b] = [agent.a!, agent.b1!];
    let streaming!: () => void;
    const begun = new Promise<void>((r) => (streaming = r));
    const run = runPlan({ model, plan: prefixPlan(model, ['a', 'b']), agents: [a.endpoint, b.endpoint], frames: 2000, rate: 20, compareFrames: 0, onProgress: (m) => m.startsWith('streaming') && streaming() });
    run.catch(() => {});
    await begun;
    await new Promise((r) => setTimeout(r, 800));
    await b.kill('SIGKILL');
    await expect(run).rejects.toMatchObject({ code: 'RUNTIME_UNAVAILABLE', message: expect.stringMatching(/^run stopped at stage 1 on agent b: agent b at 127\.0\.0\.1:\d+ does not answer/) });
    const c = connectAgent(a.endpoint);
    expect(await eventually(async () => (await c.info()).stages === 0)).toBe(true);
    c.close();
  });

  it('stopped (SIGSTOP): the stall deadline names the stage holding the frames', async () => {
    const { model } = await squeezenet();
    const [a, b, c] = [agent.a!, agent.b2!, agent.c!];
    let streaming!: () => void;
    const begun = new Promise<void>((r) => (streaming = r));
    const run = runPlan({
      model, plan: prefixPlan(model, ['a', 'b', 'c']), agents: [a.endpoint, b.endpoint, c.endpoint], frames: 2000, rate: 20, stallTimeoutMs: 4000, compareFrames: 0,
      onProgress: (m) => m.startsWith('streaming') && streaming(),
    });
    run.catch(() => {});
    await begun;
    await new Promise((r) => setTimeout(r, 800));
    b.proc.kill('SIGSTOP');
    await expect(run).rejects.toMatchObject({ code: 'RUNTIME_STALLED', message: expect.stringMatching(/^stage 1 on agent b at 127\.0\.0\.1:\d+ made no progress for 4\.0 s/) });
    for (const other of [a, c]) {
      const client = connectAgent(other.endpoint);
      expect(await eventually(async () => (await client.info()).stages === 0)).toBe(true);
      client.close();
    }
    b.proc.kill('SIGCONT');
  });
});

describe('bad messages are refused with a clear status, and the agent keeps serving', () => {
  const sha = 'ab'.repeat(32);
  it.each([
    ['Push', [Buffer.from('garbage')], grpc.status.INVALID_ARGUMENT, /malformed message \(header length \d+ does not fit/],
    ['Push', [Buffer.alloc(2)], grpc.status.INVALID_ARGUMENT, /shorter than its 4-byte header length/],
    ['Push', [message({ run: 'x', stage: 0, frame: 0, sentAt: 0, tensors: [] })], grpc.status.INVALID_ARGUMENT, /no stage 0 of run x is deployed on this agent/],
    ['Stage', [message({ kind: 'ping' })], grpc.status.INVALID_ARGUMENT, /the deploy header must come first/],
    ['Stage', [Buffer.from([0, 0, 0, 3, 0x7b, 0x7b, 0x7b])], grpc.status.INVALID_ARGUMENT, /its header is not JSON/],
    ['Stage', [message({ kind: 'deploy', run: 'r', stage: 0, sha256: sha, size: 10, inputs: [], outputs: [], forward: [] }), message({ kind: 'chunk' }, Buffer.alloc(10))], grpc.status.DATA_LOSS, /the model's sha256 is [0-9a-f]{12}…, not abababababab… as announced/],
    ['Profile', [message({ kind: 'model', sha256: sha, size: 4 }), message({ kind: 'chunk' }, Buffer.alloc(4))], grpc.status.DATA_LOSS, /sha256 .* as announced; it was damaged on the way/],
    ['Profile', [message({ kind: 'model', sha256: sha, size: 4 }), message({ kind: 'chunk' }, Buffer.alloc(8))], grpc.status.INVALID_ARGUMENT, /received more than the 4 bytes announced/],
    ['Profile', [message({ kind: 'model', sha256: 'x', size: 4 })], grpc.status.INVALID_ARGUMENT, /must say the model's sha256/],
    ['Profile', [message({ kind: 'model', sha256: sha, size: 1e12 })], grpc.status.RESOURCE_EXHAUSTED, /over this agent's limit/],
    ['LinkTest', [Buffer.from('x')], grpc.status.INVALID_ARGUMENT, /malformed message/],
    ['LinkTest', [message({ sizes: [1, 2], repeats: 1 })], grpc.status.INVALID_ARGUMENT, /must name the peer/],
  ] as const)('%s with %#', async (method, messages, code, details) => {
    const r = await raw(agent.garbage!.address, method, messages);
    expect(r.code).toBe(code);
    expect(r.details).toMatch(details);
    const c = connectAgent(agent.garbage!.endpoint);
    expect((await c.info()).board.name).toBe('garbage');
    c.close();
  });

  it('a tensor over the agent\'s limit stops the run with the tensor named', async () => {
    const { model } = await squeezenet();
    const names = model.graph.nodes.map((n) => n.name);
    await expect(runPlan({ model, plan: { stages: [{ board: 'garbage', nodes: names }] }, agents: [agent.garbage!.endpoint], frames: 3, compareFrames: 0 })).rejects.toMatchObject({
      code: 'RUNTIME_TOO_LARGE',
      message: expect.stringMatching(/tensor \S+ has 602112 bytes, over this agent's limit of 100000/),
    });
    const c = connectAgent(agent.garbage!.endpoint);
    expect(await eventually(async () => (await c.info()).stages === 0)).toBe(true);
    c.close();
  });
});

describe('credentials', () => {
  it('with a token, every method refuses a client without it or with another one', async () => {
    const secured = agent.secured!;
    for (const method of Object.keys(KIND)) {
      const none = await raw(secured.address, method, [message({})]);
      expect([method, none.code, none.details]).toEqual([method, grpc.status.UNAUTHENTICATED, expect.stringMatching(/needs a bearer token/)]);
      const md = new grpc.Metadata();
      md.set('authorization', 'Bearer wrong-token-123');
      const wrong = await raw(secured.address, method, [message({})], md);
      expect([method, wrong.code, wrong.details]).toEqual([method, grpc.status.UNAUTHENTICATED, 'this agent refused the bearer token']);
    }
    const [without, withToken] = await checkAgents([{ id: 'secured', peer: { address: secured.address } }, secured.endpoint]);
    expect(without).toMatchObject({ ok: false, code: 'RUNTIME_UNAUTHENTICATED', error: expect.stringMatching(/^agent secured at 127\.0\.0\.1:\d+ refused the credentials/) });
    expect(withToken).toMatchObject({ ok: true, info: { token: true } });
  });

  it.skipIf(!openssl)('with mutual TLS, a client without a certificate from its CA is refused', async () => {
    const address = agent.tls!.address;
    const tls = (cert: string) => readTlsFiles({ ca: f('ca.pem'), cert: f(`${cert}.pem`), key: f(`${cert}.key`) }, 'tls');
    const endpoints: AgentEndpoint[] = [
      { id: 'plain', peer: { address } },
      { id: 'stranger', peer: { address, tls: tls('stranger') } },
      { id: 'client', peer: { address, tls: tls('client') } },
    ];
    const status = await checkAgents(endpoints, { timeoutMs: 3000 });
    expect(status.map((s) => [s.id, s.ok, s.code ?? null])).toEqual([
      ['plain', false, expect.stringMatching(/RUNTIME_(UNAVAILABLE|DEADLINE)/)],
      ['stranger', false, expect.stringMatching(/RUNTIME_(UNAVAILABLE|DEADLINE)/)],
      ['client', true, null],
    ]);
    expect(status[2]!.info!.tls).toBe(true);
  });
});
