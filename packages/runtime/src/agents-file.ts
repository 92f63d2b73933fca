// The agents file: which agents exist and how to reach them. YAML with line numbers, so every
// mistake names the file, the line and the field, like system files do.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { AgentEndpoint } from './client.js';
import { readTlsFiles, readTokenFile } from './credentials.js';
import { RuntimeError } from './errors.js';

export interface AgentsFile {
  readonly file: string;
  readonly agents: readonly AgentEndpoint[];
}

const ID = /^[a-z0-9][a-z0-9._-]*$/;
const ADDRESS = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Read and check an agents file; `display` is how messages name it. Token and TLS files are read now. */
export function loadAgentsFile(file: string, display: string = file): AgentsFile {
  if (!existsSync(file)) throw new RuntimeError('RUNTIME_AGENTS_FILE', `${display}: agents file not found`);
  return parseAgentsFile(readFileSync(file, 'utf8'), file, display);
}

/** Check agents YAML; relative token and TLS paths are taken from `file`'s directory. */
export function parseAgentsFile(text: string, file: string, display: string = file): AgentsFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new RuntimeError('RUNTIME_AGENTS_FILE', `${display}:${lc.linePos(e.pos[0]).line}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const lines: Record<string, number> = {};
  collectLines(doc.contents as YamlNode | null, '', lc, lines);
  const fail = (field: string, message: string): never => {
    let f = field;
    // Up to the nearest enclosing field that has a line; a top-level field has no parent (an empty
    // file, a missing `version:`): stop there, with no line.
    while (f && lines[f] === undefined) f = f.includes('.') || f.includes('[') ? f.replace(/(\.[^.[\]]+|\[\d+\])$/, '') : '';
    const line = lines[f];
    throw new RuntimeError('RUNTIME_AGENTS_FILE', `${display}${line !== undefined ? `:${line}` : ''}: ${field}: ${message}`);
  };
  const data = doc.toJS() as unknown;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) fail('version', 'an agents file is a mapping with version: 1 and agents: [...]');
  const raw = data as Record<string, unknown>;
  for (const k of Object.keys(raw)) if (k !== 'version' && k !== 'agents') fail(k, 'unknown field (allowed: version, agents)');
  if (raw.version !== 1) fail('version', raw.version === undefined ? 'missing (required): version: 1' : 'must be 1');
  if (!Array.isArray(raw.agents) || raw.agents.length === 0) fail('agents', 'must be a list of at least one agent { id, address }');
  const dir = path.dirname(file);
  const seen = new Map<string, number>();
  const agents = (raw.agents as unknown[]).map((a, i): AgentEndpoint => {
    const f = `agents[${i}]`;
    if (a === null || typeof a !== 'object' || Array.isArray(a)) fail(f, 'must be a mapping { id, address, tokenFile?, tls? }');
    const o = a as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['id', 'address', 'tokenFile', 'tls'].includes(k)) fail(`${f}.${k}`, 'unknown field (allowed: id, address, tokenFile, tls)');
    if (typeof o.id !== 'string') fail(`${f}.id`, 'missing (required): the board id used in system files and plans');
    const id = o.id as string;
    if (!ID.test(id)) fail(`${f}.id`, 'must be a lower-case name of letters, digits, -, _ and . (no spaces or slashes)');
    if (seen.has(id)) fail(`${f}.id`, `agent id "${id}" is used twice (also agents[${seen.get(id)}])`);
    seen.set(id, i);
    if (typeof o.address !== 'string') fail(`${f}.address`, 'missing (required): host:port of the agent, e.g. 10.0.0.2:7070');
    const m = ADDRESS.exec(o.address as string);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) fail(`${f}.address`, `"${String(o.address)}" is not host:port with a port from 1 to 65535`);
    let token: string | undefined;
    if (o.tokenFile !== undefined) {
      if (typeof o.tokenFile !== 'string' || o.tokenFile === '') fail(`${f}.tokenFile`, 'must be a path to a file holding the token');
      try {
        token = readTokenFile(path.resolve(dir, o.tokenFile as string), o.tokenFile as string);
      } catch (e) {
        fail(`${f}.tokenFile`, (e as Error).message);
      }
    }
    let tls;
    if (o.tls !== undefined) {
      const t = o.tls as Record<string, unknown>;
      if (t === null || typeof t !== 'object' || Array.isArray(t)) fail(`${f}.tls`, 'must be a mapping { ca, cert, key, serverName? }');
      for (const k of Object.keys(t)) if (!['ca', 'cert', 'key', 'serverName'].includes(k)) fail(`${f}.tls.${k}`, 'unknown field (allowed: ca, cert, key, serverName)');
      for (const k of ['ca', 'cert', 'key']) if (typeof t[k] !== 'string' || t[k] === '') fail(`${f}.tls.${k}`, 'missing (required): a PEM file path');
      if (t.serverName !== undefined && typeof t.serverName !== 'string') fail(`${f}.tls.serverName`, 'must be a host name');
      try {
        tls = readTlsFiles({
          ca: path.resolve(dir, t.ca as string), cert: path.resolve(dir, t.cert as string), key: path.resolve(dir, t.key as string),
          ...(typeof t.serverName === 'string' ? { serverName: t.serverName } : {}),
        }, 'tls');
      } catch (e) {
        fail(`${f}.tls`, (e as Error).message);
      }
    }
    return { id, peer: { address: o.address as string, ...(token ? { token } : {}), ...(tls ? { tls } : {}) } };
  });
  return { file, agents };
}

function collectLines(node: YamlNode | null, prefix: string, lc: LineCounter, out: Record<string, number>): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key as YamlNode & { value?: unknown };
      const field = prefix ? `${prefix}.${String(key.value ?? key)}` : String(key.value ?? key);
      if (key.range) out[field] = lc.linePos(key.range[0]).line;
      collectLines(pair.value as YamlNode | null, field, lc, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const n = item as YamlNode;
      if (n?.range) out[`${prefix}[${i}]`] = lc.linePos(n.range[0]).line;
      collectLines(n, `${prefix}[${i}]`, lc, out);
    });
  }
}
