import { StationError } from '../../common/errors';

/** The StationError `action` throws; fails the test if it throws nothing or something else. */
export function thrownStationError(action: () => unknown): StationError {
  try {
    action();
  } catch (error) {
    if (error instanceof StationError) return error;
    throw error;
  }
  throw new Error('expected a StationError, but nothing was thrown');
}
