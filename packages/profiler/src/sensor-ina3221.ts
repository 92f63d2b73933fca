// NVIDIA Jetson INA3221 power monitors: the hwmon layout (L4T 34+: in*_input mV, curr*_input mA,
// in*_label) and the older iio layout (Jetson Nano/TX2, L4T 32: in_power*_input mW, rail_name_*).
import { ProfileError } from './errors.js';
import { SampledSensor, type SamplerOptions, type Sensor } from './sensor.js';
import { list, readNumber, readText, under } from './_sysfs.js';

export interface Ina3221Rail {
  readonly label: string;
  /** Returns the rail's power in watts. */
  readonly read: () => Promise<number>;
  readonly path: string;
}

/** Rails that measure the whole module's input; when one is present, it alone is the board's power. */
const TOTAL_RAILS = ['VDD_IN', 'POM_5V_IN'];

/** All INA3221 rails under `root`, in either layout. */
export async function findIna3221Rails(root = '/'): Promise<Ina3221Rail[]> {
  const drivers = under(root, '/sys/bus/i2c/drivers');
  const rails: Ina3221Rail[] = [];
  for (const driver of (await list(drivers)).filter((d) => d.startsWith('ina3221'))) {
    for (const dev of await list(`${drivers}/${driver}`)) {
      const devDir = `${drivers}/${driver}/${dev}`;
      // hwmon layout: in<N>_input (mV) × curr<N>_input (mA).
      for (const hw of (await list(`${devDir}/hwmon`)).filter((h) => h.startsWith('hwmon'))) {
        const dir = `${devDir}/hwmon/${hw}`;
        for (const f of await list(dir)) {
          const m = /^curr(\d+)_input$/.exec(f);
          if (!m) continue;
          const n = m[1]!;
          if ((await readText(`${dir}/in${n}_input`)) === null) continue;
          const label = (await readText(`${dir}/in${n}_label`)) ?? `${dev}:in${n}`;
          rails.push({ label, path: `${dir}/in${n}_input`, read: async () => ((await readNumber(`${dir}/in${n}_input`)) * (await readNumber(`${dir}/curr${n}_input`))) / 1e6 });
        }
      }
      // iio layout: in_power<N>_input (mW).
      for (const iio of (await list(devDir)).filter((d) => d.startsWith('iio:device'))) {
        const dir = `${devDir}/${iio}`;
        for (const f of await list(dir)) {
          const m = /^in_power(\d+)_input$/.exec(f);
          if (!m) continue;
          const n = m[1]!;
          const label = (await readText(`${dir}/rail_name_${n}`)) ?? `${dev}:power${n}`;
          rails.push({ label, path: `${dir}/${f}`, read: async () => (await readNumber(`${dir}/${f}`)) / 1e3 });
        }
      }
    }
  }
  return rails;
}

/**
 * A Jetson sensor: the named `rails` summed, or by default the module input rail (VDD_IN,
 * POM_5V_IN) when present, else all rails summed.
 */
export async function ina3221Sensor(options: SamplerOptions & { readonly root?: string; readonly rails?: readonly string[] } = {}): Promise<Sensor & SampledSensor> {
  const all = await findIna3221Rails(options.root ?? '/');
  if (all.length === 0) throw new ProfileError('PROFILE_SENSOR', `ina3221: no INA3221 rails under ${options.root ?? '/'}sys/bus/i2c/drivers/ina3221*`);
  let rails: Ina3221Rail[];
  if (options.rails) {
    rails = all.filter((r) => options.rails!.includes(r.label));
    const missing = options.rails.filter((l) => !rails.some((r) => r.label === l));
    if (missing.length) throw new ProfileError('PROFILE_SENSOR', `ina3221: no rail named ${missing.join(', ')} (rails: ${all.map((r) => r.label).join(', ')})`);
  } else {
    const total = all.filter((r) => TOTAL_RAILS.includes(r.label));
    rails = total.length ? total.slice(0, 1) : all;
  }
  const read = async () => {
    let watts = 0;
    for (const r of rails) watts += await r.read();
    return { kind: 'power' as const, watts };
  };
  return new SampledSensor('ina3221', `INA3221 ${rails.map((r) => r.label).join(' + ')} (${rails.map((r) => r.path).join(', ')})`, read, options);
}
