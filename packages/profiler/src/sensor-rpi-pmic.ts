// Raspberry Pi 5 PMIC readings through `vcgencmd pmic_read_adc`: per-rail volts and amps.
import { execFile } from 'node:child_process';
import { ProfileError } from './errors.js';
import { SampledSensor, type SamplerOptions, type Sensor } from './sensor.js';

/** Runs a command and returns its stdout (tests pass a recorded one). */
export type CommandRunner = (command: string, args: readonly string[]) => Promise<string>;

/** The default runner: execFile with a short timeout. */
export const execRunner: CommandRunner = (command, args) =>
  new Promise((resolve, reject) => {
    execFile(command, [...args], { timeout: 2000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });

export interface PmicRail {
  readonly rail: string;
  readonly volts: number;
  readonly amps: number;
  readonly watts: number;
}

/** Parse `vcgencmd pmic_read_adc` output: `<RAIL>_A current(n)=xA` and `<RAIL>_V volt(n)=yV` pairs. */
export function parsePmicReadAdc(text: string): PmicRail[] {
  const amps = new Map<string, number>();
  const volts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)_([AV])\s+(?:current|volt)\(\d+\)=([-+\d.eE]+)[AV]\s*$/.exec(line);
    if (!m) continue;
    (m[2] === 'A' ? amps : volts).set(m[1]!, Number(m[3]));
  }
  const rails: PmicRail[] = [];
  // Only rails with both a voltage and a current give power (EXT5V_V, the input, has no current).
  for (const [rail, a] of amps) {
    const v = volts.get(rail);
    if (v === undefined) continue;
    rails.push({ rail, volts: v, amps: a, watts: v * a });
  }
  return rails;
}

/** A Raspberry Pi 5 sensor: the sum of V × A over the PMIC rails (the SoC and board rails, not the 5 V input). */
export async function rpiPmicSensor(options: SamplerOptions & { readonly run?: CommandRunner } = {}): Promise<Sensor & SampledSensor> {
  const run = options.run ?? execRunner;
  const read = async () => {
    const rails = parsePmicReadAdc(await run('vcgencmd', ['pmic_read_adc']));
    if (rails.length === 0) throw new Error('vcgencmd pmic_read_adc printed no rail pairs');
    return { kind: 'power' as const, watts: rails.reduce((s, r) => s + r.watts, 0) };
  };
  try {
    await read();
  } catch (e) {
    throw new ProfileError('PROFILE_SENSOR', `rpi-pmic: vcgencmd pmic_read_adc failed (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  return new SampledSensor('rpi-pmic', 'Raspberry Pi PMIC rails, sum of V×A (vcgencmd pmic_read_adc)', read, options);
}
