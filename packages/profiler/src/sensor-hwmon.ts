// hwmon power (power*_input, µW) and energy (energy*_input, µJ) channels.
import { ProfileError } from './errors.js';
import { SampledSensor, type SamplerOptions, type Sensor } from './sensor.js';
import { list, readNumber, readText, under } from './_sysfs.js';

export interface HwmonDevice {
  readonly dir: string;
  readonly name: string;
  /** Cumulative energy channels (µJ), preferred when present. */
  readonly energy: readonly string[];
  /** Power channels (µW): power*_input, else power*_average. */
  readonly power: readonly string[];
}

/** hwmon devices under `root` that have energy or power channels. */
export async function findHwmonDevices(root = '/'): Promise<HwmonDevice[]> {
  const base = under(root, '/sys/class/hwmon');
  const out: HwmonDevice[] = [];
  for (const entry of await list(base)) {
    const dir = `${base}/${entry}`;
    const files = await list(dir);
    const energy = files.filter((f) => /^energy\d+_input$/.test(f));
    let power = files.filter((f) => /^power\d+_input$/.test(f));
    if (power.length === 0) power = files.filter((f) => /^power\d+_average$/.test(f));
    if (energy.length + power.length === 0) continue;
    out.push({ dir, name: (await readText(`${dir}/name`)) ?? entry, energy, power });
  }
  return out;
}

/**
 * A hwmon sensor on one device (the first with power data, or the one whose `name` is `device`),
 * summing its energy channels, or its power channels when it has no energy counters.
 */
export async function hwmonSensor(options: SamplerOptions & { readonly root?: string; readonly device?: string } = {}): Promise<Sensor & SampledSensor> {
  const devices = await findHwmonDevices(options.root ?? '/');
  const d = options.device ? devices.find((x) => x.name === options.device) : devices[0];
  if (!d) {
    throw new ProfileError('PROFILE_SENSOR', `hwmon: no ${options.device ? `device named "${options.device}" with ` : ''}power*_input or energy*_input under ${options.root ?? '/'}sys/class/hwmon`);
  }
  const useEnergy = d.energy.length > 0;
  const channels = useEnergy ? d.energy : d.power;
  const read = async () => {
    let sum = 0;
    for (const c of channels) sum += await readNumber(`${d.dir}/${c}`);
    return useEnergy ? { kind: 'energy' as const, joules: sum / 1e6 } : { kind: 'power' as const, watts: sum / 1e6 };
  };
  return new SampledSensor('hwmon', `hwmon ${d.name} ${channels.join(' + ')} (${d.dir})`, read, options);
}
