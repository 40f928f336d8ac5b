/** Chooses the display for the customer-facing PIN pad. Pure, for tests. */

export type PadDisplaySetting = 'primary' | 'secondary' | number;

export interface DisplayLike {
  readonly id: number;
  readonly bounds: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
}

export interface PadDisplayChoice {
  readonly display: DisplayLike;
  /** True when the configured display is absent and the pad falls back to the primary one. */
  readonly fellBack: boolean;
  /** True when the pad shares the operator's (primary) display, so it must not cover it. */
  readonly sharesOperatorDisplay: boolean;
}

export function choosePadDisplay(displays: readonly DisplayLike[], primary: DisplayLike, setting: PadDisplaySetting): PadDisplayChoice {
  let wanted: DisplayLike | undefined;
  if (setting === 'primary') wanted = primary;
  else if (setting === 'secondary') wanted = displays.find((d) => d.id !== primary.id);
  else wanted = displays[setting];
  const display = wanted ?? primary;
  return { display, fellBack: wanted === undefined, sharesOperatorDisplay: display.id === primary.id };
}
