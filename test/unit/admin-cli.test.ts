/**
 * What the admin commands share (main/admin/cli/): the base exit codes every command and the dispatcher use, and
 * the piped reader a whole value (a PEM) is read with.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES as AUDIT_EXIT_CODES } from '../../main/admin/audit/cli';
import { BASE_EXIT_CODES, CANCELLED_EXIT_CODE, CliError, pipedText } from '../../main/admin/cli';
import type { CliInput } from '../../main/admin/cli';
import { ADMIN_EXIT_CODES } from '../../main/admin/entry';
import { EXIT_CODES as KEYS_EXIT_CODES } from '../../main/admin/keys/cli';
import { EXIT_CODES as POLICY_EXIT_CODES } from '../../main/admin/policy/cli';
import { EXIT_CODES as STAFF_EXIT_CODES } from '../../main/admin/staff/cli';

describe('exit codes', () => {
  const commands = { keys: KEYS_EXIT_CODES, audit: AUDIT_EXIT_CODES, staff: STAFF_EXIT_CODES, policy: POLICY_EXIT_CODES };

  it('every command and the dispatcher start from the same 0, 1 and 2, listed first', () => {
    expect(BASE_EXIT_CODES).toEqual({ OK: 0, INTERNAL: 1, USAGE: 2 });
    expect(ADMIN_EXIT_CODES).toEqual(BASE_EXIT_CODES);
    for (const codes of Object.values(commands)) expect(Object.entries(codes).slice(0, 3)).toEqual(Object.entries(BASE_EXIT_CODES));
  });

  it("a command's own codes do not reuse a code, and Ctrl-C is 130 wherever a prompt can be cancelled", () => {
    for (const codes of Object.values(commands)) {
      const values = Object.values(codes);
      expect(new Set(values).size).toBe(values.length);
    }
    expect(CANCELLED_EXIT_CODE).toBe(130);
    expect(KEYS_EXIT_CODES.CANCELLED).toBe(130);
    expect(STAFF_EXIT_CODES.CANCELLED).toBe(130);
  });
});

describe('pipedText', () => {
  const errors = {
    tooLong: () => new CliError(4, 'too long'),
    unreadable: () => new CliError(1, 'unreadable'),
  };
  const piped = (...chunks: string[]): CliInput => Readable.from(chunks.map((chunk) => Buffer.from(chunk, 'utf8')));

  it('drops one trailing line ending (LF or CRLF) and keeps the lines between, across chunks', async () => {
    expect(await pipedText(piped('ABCD\n'), 64, errors)).toBe('ABCD');
    expect(await pipedText(piped('ABCD\r\n'), 64, errors)).toBe('ABCD');
    expect(await pipedText(piped('ABCD\n\n'), 64, errors)).toBe('ABCD\n');
    expect(await pipedText(piped('-----BEGIN X-----\r\nAA', 'AA\r\n-----END X-----\r\n'), 64, errors)).toBe('-----BEGIN X-----\nAAAA\n-----END X-----');
    expect(await pipedText(piped('no newline'), 64, errors)).toBe('no newline');
  });

  it('empty input is the empty string', async () => {
    expect(await pipedText(piped(), 64, errors)).toBe('');
    expect(await pipedText(piped('\n'), 64, errors)).toBe('');
  });

  it('more than maxChars in all is tooLong, whether in one line or many', async () => {
    await expect(pipedText(piped('A'.repeat(65)), 64, errors)).rejects.toThrow('too long');
    await expect(pipedText(piped(`${'A'.repeat(40)}\n${'B'.repeat(40)}\n`), 64, errors)).rejects.toThrow('too long');
    expect(await pipedText(piped(`${'A'.repeat(31)}\n${'B'.repeat(32)}\n`), 64, errors)).toHaveLength(64);
  });

  it('a stream that fails is unreadable', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('EIO'));
      },
    });
    await expect(pipedText(failing, 64, errors)).rejects.toThrow('unreadable');
  });
});
