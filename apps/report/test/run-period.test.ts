// The line `dnnpart run` prints about its frame period (periodLine), both ways.
import { describe, expect, it } from 'vitest';
import { periodLine } from '../src/cli/runtime-commands.js';

describe('periodLine', () => {
  it('names the slowest step; nothing more when the steps account for the period', () => {
    expect(periodLine({ frameMs: 25.84, slowest: { step: 'transfer into stage 1 from rpi4', ms: 20.1 }, unaccountedMs: 5.74 }))
      .toBe('a frame every 25.84 ms; the slowest timed step, transfer into stage 1 from rpi4, took 20.10 ms');
  });

  it('says where a period the steps do not account for goes, and how a plan can price it', () => {
    expect(periodLine({ frameMs: 1.4, slowest: { step: 'outputs back from rpi5', ms: 0.42 }, unaccountedMs: 0.98 })).toBe(
      'a frame every 1.40 ms; the slowest timed step, outputs back from rpi5, took 0.42 ms: 0.98 ms a frame (70 %) is in no timed step '
      + "(the agents' channel, the coordinator); a plan prices it only through links measured between the agents (dnnpart link --agents ..., then linksFile: in the system file)");
  });
});
