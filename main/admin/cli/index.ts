/** What the admin commands share (main/admin/{keys,audit,staff,policy}/): one way in. */
export * from './args';
export * from './run';
export * from './station';
export * from './stdin';
