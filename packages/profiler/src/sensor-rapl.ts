// Linux RAPL through powercap: cumulative package energy counters in microjoules.
import { ProfileError } from './errors.js';
import { SampledSensor, type SamplerOptions, type Sensor } from './sensor.js';
import { list, readNumber, readText, under } from './_sysfs.js';

export interface RaplZone {
  readonly dir: string;
  readonly name: string;
  /** The counter wraps to 0 after this many µJ. */
  readonly maxEnergyRangeUj: number;
}

/** Top-level RAPL zones (packages, `intel-rapl:N`; sub-zones are parts of them) under `root`. */
export async function findRaplZones(root = '/'): Promise<RaplZone[]> {
  const base = under(root, '/sys/class/powercap');
  const zones: RaplZone[] = [];
  for (const entry of await list(base)) {
    if (!/^intel-rapl:\d+$/.test(entry)) continue;
    const dir = `${base}/${entry}`;
    if ((await readText(`${dir}/energy_uj`)) === null) continue;
    const max = Number(await readText(`${dir}/max_energy_range_uj`));
    zones.push({ dir, name: (await readText(`${dir}/name`)) ?? entry, maxEnergyRangeUj: Number.isFinite(max) && max > 0 ? max : 2 ** 32 });
  }
  return zones;
}

/** A RAPL sensor summing all package zones; counter wraparound is undone with max_energy_range_uj. */
export async function raplSensor(options: SamplerOptions & { readonly root?: string } = {}): Promise<Sensor & SampledSensor> {
  const zones = await findRaplZones(options.root ?? '/');
  if (zones.length === 0) throw new ProfileError('PROFILE_SENSOR', `rapl: no /sys/class/powercap/intel-rapl:N/energy_uj under ${options.root ?? '/'}`);
  const last = new Map<string, number>();
  const total = new Map<string, number>();
  const read = async () => {
    let joules = 0;
    for (const z of zones) {
      const raw = await readNumber(`${z.dir}/energy_uj`);
      const prev = last.get(z.dir);
      // A counter smaller than the last one wrapped around once (sampling is far faster than a wrap).
      const delta = prev === undefined ? 0 : raw >= prev ? raw - prev : raw + z.maxEnergyRangeUj - prev;
      last.set(z.dir, raw);
      const t = (total.get(z.dir) ?? 0) + delta;
      total.set(z.dir, t);
      joules += t / 1e6;
    }
    return { kind: 'energy' as const, joules };
  };
  return new SampledSensor('rapl', `RAPL ${zones.map((z) => z.name).join(' + ')} (${zones.map((z) => z.dir).join(', ')})`, read, options);
}
