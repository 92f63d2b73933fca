// Hosts joined by a slow network on one machine: network namespaces on a bridge (in a namespace
// of its own), each host's link rate-limited and delayed with tc netem. Only 10.200.0.0/24 inside
// namespaces this module creates is used; nothing touches the machine's own interfaces.
// Needs root and iproute2 (ip, tc). Used by the runtime's tests and bench/runtime-pipeline.mjs.
import { execFileSync } from 'node:child_process';

const run = (...args) => execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Whether namespaces can be made here; `why` says what is missing. */
export function netnsSupport() {
  if (process.platform !== 'linux') return { ok: false, why: 'network namespaces need Linux' };
  if (process.getuid?.() !== 0) return { ok: false, why: 'network namespaces need root (CI runs the tests as root)' };
  for (const tool of ['ip', 'tc']) {
    try {
      run(tool, '-V');
    } catch {
      return { ok: false, why: `${tool} (iproute2) is not installed` };
    }
  }
  const probe = `dnpprobe${process.pid}`;
  try {
    run('ip', 'netns', 'add', probe);
    run('ip', 'netns', 'del', probe);
  } catch (e) {
    return { ok: false, why: `cannot create a network namespace (${String(e.stderr ?? e.message).trim().split('\n')[0]})` };
  }
  return { ok: true, why: '', netem: qdiscWorks(['netem', 'delay', '1ms']), tbf: qdiscWorks(['tbf', 'rate', '100mbit', 'burst', '64kb', 'latency', '50ms']) };
}

/** Whether this kernel has the queueing discipline (sch_netem is often missing in VMs). */
function qdiscWorks(qdisc) {
  const ns = `dnpq${process.pid}`;
  try {
    run('ip', 'netns', 'add', ns);
    run('ip', 'netns', 'exec', ns, 'ip', 'link', 'add', 'q0', 'type', 'veth', 'peer', 'name', 'q1');
    run('ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'q0', 'root', ...qdisc);
    return true;
  } catch {
    return false;
  } finally {
    try {
      run('ip', 'netns', 'del', ns);
    } catch {
      // not made
    }
  }
}

/** The shaping a host's egress gets: netem (rate and delay) when the kernel has it, else tbf (rate only). */
function shaping(rateMbit, delayMs, netem) {
  return netem
    ? ['netem', 'delay', `${delayMs}ms`, 'rate', `${rateMbit}mbit`, 'limit', '10000']
    : ['tbf', 'rate', `${rateMbit}mbit`, 'burst', '64kb', 'latency', '50ms'];
}

/**
 * `hosts` namespaces on one bridge; host i is 10.200.0.(10+i). Each host's egress is limited to
 * `rateMbit` and, with netem, delayed by `delayMs` (one way between two hosts); without netem
 * (`netem: false`) tbf limits the rate only. Call destroy() in a finally.
 */
export function createNetwork(hosts, { rateMbit = 100, delayMs = 5, netem = true } = {}) {
  const tag = `dnp${process.pid % 100000}`;
  const sw = `${tag}sw`;
  const made = [];
  const inNs = (ns, ...args) => run('ip', 'netns', 'exec', ns, ...args);
  const destroy = () => {
    for (const ns of made.reverse()) {
      try {
        run('ip', 'netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    made.length = 0;
  };
  try {
    run('ip', 'netns', 'add', sw);
    made.push(sw);
    inNs(sw, 'ip', 'link', 'add', 'br0', 'type', 'bridge');
    inNs(sw, 'ip', 'link', 'set', 'br0', 'up');
    const list = [];
    for (let i = 0; i < hosts; i++) {
      const ns = `${tag}h${i}`;
      const address = `10.200.0.${10 + i}`;
      run('ip', 'netns', 'add', ns);
      made.push(ns);
      // Create the pair inside the switch namespace, then move one end to the host.
      inNs(sw, 'ip', 'link', 'add', `s${i}`, 'type', 'veth', 'peer', 'name', `h${i}`);
      inNs(sw, 'ip', 'link', 'set', `h${i}`, 'netns', ns);
      inNs(sw, 'ip', 'link', 'set', `s${i}`, 'master', 'br0');
      inNs(sw, 'ip', 'link', 'set', `s${i}`, 'up');
      inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
      inNs(ns, 'ip', 'link', 'set', `h${i}`, 'name', 'eth0');
      inNs(ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
      inNs(ns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', ...shaping(rateMbit, delayMs, netem));
      list.push({ ns, address, prefix: ['ip', 'netns', 'exec', ns] });
    }
    return { hosts: list, rateMbit, delayMs: netem ? delayMs : 0, destroy };
  } catch (e) {
    destroy();
    throw new Error(`setting up the namespaces failed: ${String(e.stderr ?? e.message).trim().split('\n')[0]}`);
  }
}
