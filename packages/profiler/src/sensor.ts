// The power Sensor interface and the background sampler every live reader shares.
import { ProfileError, messageOf } from './errors.js';

/** One reading of a live sensor: a cumulative energy counter, or an instantaneous power. */
export type SensorReading = { readonly kind: 'energy'; readonly joules: number } | { readonly kind: 'power'; readonly watts: number };

/** A power sensor: samples in the background between start and stop, then answers energy questions. */
export interface Sensor {
  /** Reader kind: "rapl", "hwmon", "ina3221", "rpi-pmic", "csv-meter". */
  readonly name: string;
  /** What exactly is read (paths, rails), for the profile. */
  readonly description: string;
  /** Begin sampling in the background; throws PROFILE_SENSOR when the first reading fails. */
  start(): Promise<void>;
  /** Stop sampling (takes a last reading). */
  stop(): Promise<void>;
  /** Energy in joules between two wall-clock times (ms since the epoch); throws PROFILE_SENSOR when the samples cannot tell. */
  energyJ(fromMs: number, toMs: number): number;
}

/** Wall-clock milliseconds with sub-millisecond resolution. */
export const wallClockMs = (): number => performance.timeOrigin + performance.now();

export interface SamplerOptions {
  /** Sampling period; default 20 ms. */
  readonly intervalMs?: number;
  /** Clock in ms since the epoch (tests pass a fake one). */
  readonly now?: () => number;
}

interface Sample {
  readonly t: number;
  readonly v: number;
}

/**
 * A Sensor over a `read` function, sampled on a timer. Energy counters are interpolated
 * linearly between samples; power readings are integrated with the trapezoid rule.
 */
export class SampledSensor implements Sensor {
  readonly name: string;
  readonly description: string;
  readonly #read: () => Promise<SensorReading>;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #kind: SensorReading['kind'] | null = null;
  #samples: Sample[] = [];
  #timer: ReturnType<typeof setInterval> | null = null;
  #failure: string | null = null;
  #inFlight: Promise<void> | null = null;

  constructor(name: string, description: string, read: () => Promise<SensorReading>, options: SamplerOptions = {}) {
    this.name = name;
    this.description = description;
    this.#read = read;
    this.#intervalMs = options.intervalMs ?? 20;
    this.#now = options.now ?? wallClockMs;
  }

  /** The samples taken so far (time ms, joules or watts). */
  get samples(): readonly Sample[] {
    return this.#samples;
  }

  /** Why sampling stopped early, or null. */
  get failure(): string | null {
    return this.#failure;
  }

  /** Take one reading now; records a failure instead of throwing. */
  async sample(): Promise<void> {
    if (this.#failure) return;
    const t = this.#now();
    try {
      const r = await this.#read();
      if (this.#kind && r.kind !== this.#kind) throw new Error(`reading changed from ${this.#kind} to ${r.kind}`);
      this.#kind = r.kind;
      const v = r.kind === 'energy' ? r.joules : r.watts;
      if (!Number.isFinite(v)) throw new Error(`reading is not a number (${v})`);
      this.#samples.push({ t, v });
    } catch (e) {
      this.#failure = `${this.name} sensor failed at ${new Date(t).toISOString()}: ${messageOf(e)}`;
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  async start(): Promise<void> {
    this.#samples = [];
    this.#failure = null;
    await this.sample();
    if (this.#failure) throw new ProfileError('PROFILE_SENSOR', this.#failure);
    this.#timer = setInterval(() => {
      // One read at a time: a slow sysfs read or command must not pile up.
      if (this.#inFlight) return;
      this.#inFlight = this.sample().finally(() => {
        this.#inFlight = null;
      });
    }, this.#intervalMs);
    this.#timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#inFlight) await this.#inFlight;
    await this.sample();
  }

  energyJ(fromMs: number, toMs: number): number {
    if (this.#failure) throw new ProfileError('PROFILE_SENSOR', this.#failure);
    return energyFromSamples(this.name, this.#kind ?? 'power', this.#samples, fromMs, toMs);
  }
}

/** Energy (J) in [fromMs, toMs] from timed samples of a cumulative counter (J) or of power (W). */
export function energyFromSamples(name: string, kind: SensorReading['kind'], samples: readonly Sample[], fromMs: number, toMs: number): number {
  if (!(toMs >= fromMs)) throw new ProfileError('PROFILE_SENSOR', `${name}: energy window ends before it starts (${fromMs}..${toMs})`);
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last || samples.length < 2 || fromMs < first.t || toMs > last.t) {
    throw new ProfileError('PROFILE_SENSOR', `${name}: no samples cover the window ${new Date(fromMs).toISOString()}..${new Date(toMs).toISOString()} (${samples.length} samples)`);
  }
  if (kind === 'energy') return valueAt(samples, toMs) - valueAt(samples, fromMs);
  // Trapezoids over the piecewise-linear power curve, clipped to the window.
  let joules = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const t0 = Math.max(a.t, fromMs);
    const t1 = Math.min(b.t, toMs);
    if (t1 <= t0) continue;
    joules += ((valueAt(samples, t0, i) + valueAt(samples, t1, i)) / 2) * ((t1 - t0) / 1000);
  }
  return joules;
}

/** Linear interpolation of the sampled value at time t (optionally within segment ending at index `hint`). */
function valueAt(samples: readonly Sample[], t: number, hint?: number): number {
  let i = hint ?? samples.findIndex((s) => s.t >= t);
  if (i <= 0) return samples[0]!.v;
  const a = samples[i - 1]!;
  const b = samples[i]!;
  if (b.t === a.t) return b.v;
  return a.v + ((b.v - a.v) * (t - a.t)) / (b.t - a.t);
}
