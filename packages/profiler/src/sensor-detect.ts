// Picks the first power sensor this machine has.
import { access } from 'node:fs/promises';
import { raplSensor } from './sensor-rapl.js';
import { hwmonSensor } from './sensor-hwmon.js';
import { ina3221Sensor } from './sensor-ina3221.js';
import { rpiPmicSensor, type CommandRunner } from './sensor-rpi-pmic.js';
import type { SamplerOptions, Sensor } from './sensor.js';
import { under } from './_sysfs.js';

export interface DetectOptions extends SamplerOptions {
  /** Command runner for vcgencmd; when absent, vcgencmd is tried only if `<root>/usr/bin/vcgencmd` exists. */
  readonly run?: CommandRunner;
}

/**
 * The first available sensor under `root`, in the order RAPL, INA3221 (Jetson; before hwmon,
 * whose class lists the same chips), Raspberry Pi PMIC, hwmon; null when there is none.
 */
export async function detectSensor(root = '/', options: DetectOptions = {}): Promise<Sensor | null> {
  const tries: (() => Promise<Sensor>)[] = [
    () => raplSensor({ ...options, root }),
    () => ina3221Sensor({ ...options, root }),
    async () => {
      if (!options.run) await access(under(root, '/usr/bin/vcgencmd'));
      return rpiPmicSensor(options);
    },
    () => hwmonSensor({ ...options, root }),
  ];
  for (const t of tries) {
    try {
      return await t();
    } catch {
      // Not this kind; try the next.
    }
  }
  return null;
}
