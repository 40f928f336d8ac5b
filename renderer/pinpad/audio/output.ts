/**
 * Where guidance sounds: only the pad's own output device, found by its label. Never the default device (the
 * operator's speakers): when the named device is not there, audio guidance is unavailable.
 */
import type { Language } from '../../../common/domain';

export interface OutputDevice {
  readonly deviceId: string;
  readonly label: string;
}

/** Plays clips on an output device. The app uses the browser's media elements; the test harness injects its own. */
export interface AudioOutput {
  /** The audio outputs this page can see. */
  outputs(): Promise<readonly OutputDevice[]>;
  /** Plays the clip for `cue` at `url` on `deviceId`, stopping the one before; resolves once it ended or was stopped. */
  play(cue: string, language: Language, url: string, deviceId: string): Promise<void>;
}

/** Chromium's stand-ins for "whatever the system uses": never a target, even if one carries the configured label. */
const SYSTEM_CHOSEN = new Set(['default', 'communications', '']);

/** The configured device by its exact label, or null when it is not connected (or only the default would do). */
export function findOutputDevice(devices: readonly OutputDevice[], label: string | null): OutputDevice | null {
  if (label === null || label.trim() === '') return null;
  return devices.find((device) => !SYSTEM_CHOSEN.has(device.deviceId) && device.label === label) ?? null;
}

/** Output through one HTMLAudioElement routed with setSinkId; a clip is never played before its sink is set. */
export function mediaElementOutput(): AudioOutput {
  const element = new Audio();
  return {
    async outputs() {
      const devices = (await navigator.mediaDevices?.enumerateDevices?.()) ?? [];
      return devices.filter((device) => device.kind === 'audiooutput').map(({ deviceId, label }) => ({ deviceId, label }));
    },
    async play(_cue, _language, url, deviceId) {
      element.pause();
      await element.setSinkId(deviceId);
      element.src = url;
      // 'pause' comes at the clip's end and when the next clip stops it.
      const stopped = new Promise<void>((resolve) => element.addEventListener('pause', () => resolve(), { once: true }));
      await element.play();
      await stopped;
    },
  };
}

declare global {
  interface Window {
    /** Set only by the test harness (before the page loads) to observe what would be played. */
    pinpadAudioOutput?: AudioOutput;
  }
}
