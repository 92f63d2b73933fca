// Facts about the machine at hand, from systeminformation.
import si from 'systeminformation';
import type { ProfileBoard } from './types.js';

/** CPU model, core count, memory, OS and architecture of this machine, under the board name `name`. */
export async function boardFacts(name: string): Promise<ProfileBoard> {
  const [cpu, mem, os] = await Promise.all([si.cpu(), si.mem(), si.osInfo()]);
  return {
    name,
    cpu: `${cpu.manufacturer} ${cpu.brand}`.trim() + (cpu.speed ? ` @ ${cpu.speed} GHz` : ''),
    cores: cpu.cores,
    memoryBytes: mem.total,
    os: `${os.distro} ${os.release} (${os.platform} ${os.kernel})`.trim(),
    arch: os.arch,
  };
}
