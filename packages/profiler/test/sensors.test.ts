import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SampledSensor,
  csvMeterSensor,
  detectSensor,
  findIna3221Rails,
  findRaplZones,
  hwmonSensor,
  ina3221Sensor,
  isProfileError,
  parseMeterCsv,
  parsePmicReadAdc,
  raplSensor,
  rpiPmicSensor,
  type CommandRunner,
} from '@dnnpart/profiler';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const temps: string[] = [];

/** A writable copy of a recorded sysfs tree. */
async function tree(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dnnpart-sysfs-'));
  temps.push(dir);
  await cp(join(FIXTURES, 'sysfs', name), dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

afterEach(async () => {
  for (const d of temps.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const pmicText = await readFile(join(FIXTURES, 'vcgencmd-pmic_read_adc.txt'), 'utf8');

describe('RAPL', () => {
  it('finds package zones only (not sub-zones or the control dir)', async () => {
    const root = await tree('rapl');
    const zones = await findRaplZones(root);
    expect(zones.map((z) => z.name)).toEqual(['package-0', 'package-1']);
    expect(zones[0]!.maxEnergyRangeUj).toBe(262143328850);
  });

  it('sums packages and undoes counter wraparound', async () => {
    const root = await tree('rapl');
    const clock = fakeClock();
    const s = await raplSensor({ root, now: clock.now });
    const pkg0 = join(root, 'sys/class/powercap/intel-rapl:0/energy_uj');
    const pkg1 = join(root, 'sys/class/powercap/intel-rapl:1/energy_uj');
    await s.sample(); // t=0: pkg0 262143000000, pkg1 5000000
    clock.t += 1000;
    // pkg0 wraps: 328850 µJ to the top, then 671150 µJ more = 1 J; pkg1 +2 J.
    await writeFile(pkg0, '671150\n');
    await writeFile(pkg1, '7000000\n');
    await s.sample();
    clock.t += 1000;
    await writeFile(pkg0, '1671150\n');
    await writeFile(pkg1, '8000000\n');
    await s.sample();
    expect(s.energyJ(1_000_000, 1_001_000)).toBeCloseTo(3, 9);
    expect(s.energyJ(1_001_000, 1_002_000)).toBeCloseTo(2, 9);
    // Linear interpolation inside a sample interval.
    expect(s.energyJ(1_000_500, 1_001_500)).toBeCloseTo(1.5 + 1, 9);
  });

  it('reports a sensor that disappears mid-run as a failure, not a number', async () => {
    const root = await tree('rapl');
    const clock = fakeClock();
    const s = await raplSensor({ root, now: clock.now });
    await s.sample();
    clock.t += 100;
    await rm(join(root, 'sys/class/powercap/intel-rapl:1'), { recursive: true });
    await s.sample();
    expect(s.failure).toMatch(/rapl sensor failed at .*intel-rapl:1\/energy_uj/);
    expect(() => s.energyJ(1_000_000, 1_000_050)).toThrow(expect.objectContaining({ code: 'PROFILE_SENSOR' }));
  });

  it('refuses a tree without RAPL', async () => {
    const root = await tree('hwmon-power');
    await expect(raplSensor({ root })).rejects.toMatchObject({ code: 'PROFILE_SENSOR' });
  });
});

describe('hwmon', () => {
  it('reads power*_input in µW and integrates it', async () => {
    const root = await tree('hwmon-power');
    const clock = fakeClock();
    const s = await hwmonSensor({ root, now: clock.now });
    expect(s.description).toContain('ina226 power1_input');
    const p = join(root, 'sys/class/hwmon/hwmon1/power1_input');
    await s.sample(); // 2.35 W
    clock.t += 1000;
    await writeFile(p, '4350000\n');
    await s.sample(); // 4.35 W
    clock.t += 1000;
    await s.sample();
    // Trapezoids: (2.35 + 4.35) / 2 * 1 s + 4.35 * 1 s.
    expect(s.energyJ(1_000_000, 1_002_000)).toBeCloseTo(3.35 + 4.35, 9);
    expect(s.energyJ(1_001_000, 1_002_000)).toBeCloseTo(4.35, 9);
  });

  it('prefers energy*_input counters (µJ) and sums channels', async () => {
    const root = await tree('hwmon-energy');
    const clock = fakeClock();
    const s = await hwmonSensor({ root, now: clock.now });
    await s.sample();
    clock.t += 500;
    await writeFile(join(root, 'sys/class/hwmon/hwmon0/energy1_input'), '1500250000\n');
    await writeFile(join(root, 'sys/class/hwmon/hwmon0/energy2_input'), '1700750000\n');
    await s.sample();
    expect(s.energyJ(1_000_000, 1_000_500)).toBeCloseTo(1.0, 9);
  });

  it('picks a device by name, and says which name is missing', async () => {
    const root = await tree('hwmon-power');
    await expect(hwmonSensor({ root, device: 'k10temp' })).rejects.toThrow(/no device named "k10temp"/);
    expect((await hwmonSensor({ root, device: 'ina226' })).name).toBe('hwmon');
  });
});

describe('INA3221 (Jetson)', () => {
  it.each([
    // [tree, rails found, default rails, watts]
    ['jetson-orin-nano', ['VDD_IN', 'VDD_CPU_GPU_CV', 'VDD_SOC'], 'VDD_IN', (5064 * 1232) / 1e6],
    ['jetson-nano', ['POM_5V_IN', 'POM_5V_GPU', 'POM_5V_CPU'], 'POM_5V_IN', 3.12],
  ] as const)('%s: finds the rails and reads the module input rail', async (name, labels, rail, watts) => {
    const root = await tree(name);
    expect((await findIna3221Rails(root)).map((r) => r.label)).toEqual(labels);
    const clock = fakeClock();
    const s = await ina3221Sensor({ root, now: clock.now });
    expect(s.description).toContain(rail);
    await s.sample();
    clock.t += 2000;
    await s.sample();
    expect(s.energyJ(1_000_000, 1_002_000)).toBeCloseTo(2 * watts, 9);
  });

  it('sums named rails and rejects an unknown rail', async () => {
    const root = await tree('jetson-orin-nano');
    const clock = fakeClock();
    const s = await ina3221Sensor({ root, rails: ['VDD_CPU_GPU_CV', 'VDD_SOC'], now: clock.now });
    await s.sample();
    clock.t += 1000;
    await s.sample();
    expect(s.energyJ(1_000_000, 1_001_000)).toBeCloseTo((5056 * 368 + 5064 * 568) / 1e6, 9);
    await expect(ina3221Sensor({ root, rails: ['VDD_GPU'] })).rejects.toThrow(/no rail named VDD_GPU/);
  });
});

describe('Raspberry Pi 5 PMIC', () => {
  it('parses V and A pairs and skips rails without a current', () => {
    const rails = parsePmicReadAdc(pmicText);
    expect(rails).toHaveLength(12);
    expect(rails.find((r) => r.rail === 'VDD_CORE')).toEqual({ rail: 'VDD_CORE', volts: 0.7249013, amps: 0.81052, watts: 0.7249013 * 0.81052 });
    expect(rails.some((r) => r.rail === 'EXT5V')).toBe(false);
    expect(rails.reduce((s, r) => s + r.watts, 0)).toBeCloseTo(2.172941914932416, 12);
  });

  it('samples through the command runner', async () => {
    const calls: string[] = [];
    const run: CommandRunner = async (cmd, args) => {
      calls.push([cmd, ...args].join(' '));
      return pmicText;
    };
    const clock = fakeClock();
    const s = await rpiPmicSensor({ run, now: clock.now });
    await s.sample();
    clock.t += 1000;
    await s.sample();
    expect(calls[0]).toBe('vcgencmd pmic_read_adc');
    expect(s.energyJ(1_000_000, 1_001_000)).toBeCloseTo(2.172941914932416, 9);
  });

  it('refuses when vcgencmd fails', async () => {
    const run: CommandRunner = async () => {
      throw new Error('vcgencmd: not found');
    };
    await expect(rpiPmicSensor({ run })).rejects.toMatchObject({ code: 'PROFILE_SENSOR' });
  });
});

describe('external meter CSV', () => {
  it('parses a header with named columns and ISO timestamps', () => {
    const rows = parseMeterCsv('timestamp,voltage_v,current_a,watts\n2026-11-28T10:00:00Z,5,1,5\n2026-11-28T10:00:01Z,5,1,6\n');
    expect(rows).toEqual([
      { t: Date.parse('2026-11-28T10:00:00Z'), v: 5 },
      { t: Date.parse('2026-11-28T10:00:01Z'), v: 6 },
    ]);
  });

  it.each([
    ['a,b\n1,2\n', /no timestamp and watts columns/],
    ['1795860000,2\nnot-a-time,3\n', /row 2/],
  ])('rejects %j', (text, message) => {
    expect(() => parseMeterCsv(text, 'log.csv')).toThrow(message);
  });

  it.each([
    ['meter-iso.csv', Date.parse('2026-11-28T10:00:00.000Z'), 2000, (3.06 + 4.072) / 4 + (4.072 + 5.09) / 4 + 5.09 / 2 + (5.09 + 3.06) / 4],
    ['meter-epoch.csv', 1795860000000, 3000, 3 + 4 + 3],
  ])('%s: energy over the run window, aligned by time', async (file, t0, span, joules) => {
    const s = csvMeterSensor(join(FIXTURES, file));
    await s.start();
    await s.stop();
    expect(s.energyJ(t0, t0 + span)).toBeCloseTo(joules, 9);
  });

  it('applies a clock offset, and refuses windows the log does not cover', async () => {
    const s = csvMeterSensor(join(FIXTURES, 'meter-epoch.csv'), { offsetMs: 1000 });
    await s.stop();
    expect(s.energyJ(1795860001000, 1795860002000)).toBeCloseTo(3, 9);
    expect(() => s.energyJ(1795860000000, 1795860001000)).toThrow(expect.objectContaining({ code: 'PROFILE_SENSOR' }));
  });
});

describe('detectSensor', () => {
  it.each([
    ['rapl', 'rapl'],
    ['hwmon-power', 'hwmon'],
    ['hwmon-energy', 'hwmon'],
    ['jetson-orin-nano', 'ina3221'],
    ['jetson-nano', 'ina3221'],
  ])('%s -> %s', async (name, kind) => {
    const root = await tree(name);
    expect((await detectSensor(root))?.name).toBe(kind);
  });

  it('finds the PMIC through a runner, and nothing on an empty tree', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'dnnpart-sysfs-'));
    temps.push(empty);
    expect(await detectSensor(empty)).toBeNull();
    expect((await detectSensor(empty, { run: async () => pmicText }))?.name).toBe('rpi-pmic');
  });
});

describe('SampledSensor', () => {
  it('samples in the background between start and stop', async () => {
    let w = 0;
    const s = new SampledSensor('test', 'counter', async () => ({ kind: 'power', watts: ++w }), { intervalMs: 5 });
    await s.start();
    // Wait for the timer to take a few samples (generously: a loaded machine delays timers).
    for (let i = 0; i < 400 && s.samples.length < 4; i++) await new Promise((r) => setTimeout(r, 5));
    await s.stop();
    expect(s.samples.length).toBeGreaterThan(4);
    expect(s.samples.map((x) => x.v)).toEqual(s.samples.map((_, i) => i + 1));
  });

  it('fails start when the first reading fails', async () => {
    const s = new SampledSensor('test', 'broken', async () => {
      throw new Error('EIO');
    });
    const e = await s.start().catch((x: unknown) => x);
    expect(isProfileError(e, 'PROFILE_SENSOR')).toBe(true);
  });
});
