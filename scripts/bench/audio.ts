/**
 * Audio guidance: from Start clicked in the operator window to the pad's audio output asked to play the entry
 * prompt, through launchStation() (the real built pages, the real main core in this process). Both ends are
 * read in their page as performance.timeOrigin + performance.now() (the two pages are separate renderer processes
 * of one browser on one clock). Each Start meets a freshly reloaded pad page with its guidance loaded, as at the
 * desk: the pad reloads after every card. The harness's output records play() instead of sounding, so the figure
 * is everything up to the clip's start, not the audio device's own latency.
 */
import { launchStation } from '../../test/harness/launch-station';
import { BUDGETS, naRow, row } from './report';
import type { Row } from './report';
import { summarize } from './stats';
import type { Summary } from './stats';

export interface AudioBenchOptions {
  readonly starts: number;
  readonly progress?: (line: string) => void;
}

const PAD_DEVICE = 'Pad headset';
/** Time the fresh pad page gets to load its guidance after a reload (the operator's next Start is seconds away). */
const SETTLE_MS = 1_000;

const until = async (check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`audio bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

export async function runAudioBench(options: AudioBenchOptions): Promise<Summary> {
  const station = await launchStation({
    config: { pad: { audio: { outputDevice: PAD_DEVICE } }, approval: { require: [] } },
    audioOutputs: [PAD_DEVICE],
  });
  try {
    const { operator } = station;
    const checkbox = operator.getByRole('checkbox', { name: 'Audio guidance for the cardholder' });
    await checkbox.waitFor();
    await until(() => station.core.station.operatorView().audio.available, 'the pad to find its device');
    // Stamped in the operator page as the click reaches the Start button.
    await operator.evaluate(`document.addEventListener('click', (event) => {
      if (event.target instanceof Element && event.target.closest('button')?.textContent?.trim() === 'Start') window.__startClickedAt = performance.timeOrigin + performance.now();
    }, true)`);
    const samples: number[] = [];
    for (let start = 0; start < options.starts; start++) {
      await operator.getByRole('textbox', { name: 'Card ID' }).fill(`CARD-B${String(start).padStart(3, '0')}`);
      await operator.getByRole('radio', { name: 'Customer chooses PIN' }).check();
      await checkbox.check();
      const cuesBefore = station.audioCues().length;
      await operator.getByRole('button', { name: 'Start' }).click();
      await until(() => station.audioCues().length > cuesBefore, 'the prompt cue');
      const cue = station.audioCues()[cuesBefore];
      if (!cue?.cue.startsWith('prompt-')) throw new Error(`audio bench: the first cue after Start was ${cue?.cue ?? 'none'}, not the prompt`);
      const clickedAt = (await operator.evaluate('window.__startClickedAt')) as number;
      samples.push((station.audioCueTimes()[cuesBefore] as number) - clickedAt);
      // End the card; the pad reloads once its "cancelled" cue has played, and the next Start meets the fresh page.
      const reloads = station.padReloads();
      station.core.station.cancel();
      await station.core.station.settled();
      await until(() => station.padReloads() > reloads, 'the pad to reload');
      station.core.station.nextCard();
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      options.progress?.(`  audio start ${start + 1}/${options.starts}: ${samples.at(-1)?.toFixed(1)} ms`);
    }
    return summarize(samples);
  } finally {
    await station.close();
  }
}

/** The rows for the report: the median and p95 against the budget, or why they could not be measured. */
export function audioRows(result: Summary | null, error: string | undefined, starts: number): Row[] {
  const section = `audio guidance: Start clicked -> the pad's output asked to play the prompt (N=${starts} starts, each on a freshly reloaded pad)`;
  if (result === null) {
    return [naRow({ id: 'audio.firstPrompt.p95', section, label: 'Start -> first prompt play(), p95', unit: 'ms', budget: BUDGETS.audioFirstPrompt }, error ?? 'not run')];
  }
  const detail = `min ${result.min.toFixed(1)}, max ${result.max.toFixed(1)}`;
  return [
    row({ id: 'audio.firstPrompt.p50', section, label: 'Start -> first prompt play(), median', value: result.p50, unit: 'ms', detail, budget: null }),
    row({ id: 'audio.firstPrompt.p95', section, label: 'Start -> first prompt play(), p95', value: result.p95, unit: 'ms', detail, budget: BUDGETS.audioFirstPrompt }),
  ];
}
