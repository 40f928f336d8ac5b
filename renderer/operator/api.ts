import type { StationApi } from '../../common/ipc';

/** The operator preload's API (window.station). */
export const station: StationApi = window.station;
