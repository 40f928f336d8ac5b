/**
 * Operational log: JSON Lines with an allowlisted shape. Fields are flat
 * scalars, so a view, a request or a key object cannot be logged by accident;
 * callers pass only what they mean to (card IDs, modes, codes, counts).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Readonly<Record<string, string | number | boolean | null>>;

export interface LogSink {
  write(line: string): void;
}

export class Logger {
  private readonly threshold: number;

  constructor(
    level: LogLevel,
    private readonly sinks: readonly LogSink[],
    private readonly now: () => Date = () => new Date(),
  ) {
    this.threshold = LOG_LEVELS.indexOf(level);
  }

  error(event: string, fields: LogFields = {}): void {
    this.log('error', event, fields);
  }
  warn(event: string, fields: LogFields = {}): void {
    this.log('warn', event, fields);
  }
  info(event: string, fields: LogFields = {}): void {
    this.log('info', event, fields);
  }
  debug(event: string, fields: LogFields = {}): void {
    this.log('debug', event, fields);
  }

  private log(level: LogLevel, event: string, fields: LogFields): void {
    if (LOG_LEVELS.indexOf(level) > this.threshold) return;
    const line = JSON.stringify({ time: this.now().toISOString(), level, event, ...fields });
    for (const sink of this.sinks) {
      try {
        sink.write(line);
      } catch {
        // A full disk must not stop a PIN session; the audit trail (not this log) is the record.
      }
    }
  }
}

/** Appends each line to a file, creating its folder. */
export function fileSink(path: string): LogSink {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  return { write: (line) => appendFileSync(path, `${line}\n`, { mode: 0o600 }) };
}

export function memorySink(lines: string[]): LogSink {
  return { write: (line) => void lines.push(line) };
}

export const silentLogger = new Logger('error', []);
