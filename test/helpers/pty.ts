/**
 * Runs a command in a real pseudo-terminal and types into it, for tests of
 * hidden prompts. Node has no pty module here, so python3's `pty` drives it:
 * it forks the command onto a new terminal, waits for each expected text in
 * what the terminal shows, then types the answer. For a hidden step it first
 * waits (up to 2 s) until the terminal's ECHO flag is off, and records
 * whether it was; what the terminal showed (echo included) comes back whole.
 */
import { spawn } from 'node:child_process';

export interface PtyStep {
  /** Typed once this text has appeared on the terminal (after the previous step's). */
  readonly waitFor: string;
  /** What is typed: "\r" is Enter, "\u0003" Ctrl-C. */
  readonly send: string;
  /** A secret: typed once echo is off, or after 2 s anyway (so a test sees the echo). */
  readonly hidden?: boolean;
  /**
   * Instead of `send`: types what the test writes to this file once it exists (the file is then removed), so an
   * answer can depend on what the terminal showed (read it from the `transcript` file meanwhile).
   */
  readonly sendFile?: string;
}

export interface PtyResult {
  /** The exit code, or -1 if the command was killed (timeout). */
  readonly code: number;
  /** Everything the terminal showed: the program's output and the terminal's echo of what was typed. */
  readonly output: string;
  /** For each step taken, whether the terminal echoed input when it was typed. */
  readonly echoWhenTyped: readonly boolean[];
  readonly stepsTaken: number;
  readonly timedOut: boolean;
}

const DRIVER = String.raw`
import base64, json, os, pty, select, signal, sys, termios, time
spec = json.loads(sys.argv[1])
steps = spec['steps']
pid, fd = pty.fork()
if pid == 0:
    try:
        os.chdir(spec['cwd'])
        os.execvpe(spec['command'][0], spec['command'], dict(spec['env']))
    finally:
        os._exit(127)
out = bytearray()
deadline = time.monotonic() + spec['timeoutMs'] / 1000
step = 0
start = 0
seen_at = None
echo_when_typed = []
timed_out = False
def echo_on():
    return bool(termios.tcgetattr(fd)[3] & termios.ECHO)
while True:
    if step < len(steps):
        s = steps[step]
        at = out.find(s['waitFor'].encode(), start)
        if at >= 0:
            if seen_at is None:
                seen_at = time.monotonic()
            answer = s['send']
            if s.get('sendFile'):
                answer = None
                if os.path.exists(s['sendFile']):
                    with open(s['sendFile'], 'rb') as f:
                        answer = f.read().decode()
                    os.remove(s['sendFile'])
            if answer is not None and (not s.get('hidden') or not echo_on() or time.monotonic() - seen_at > 2):
                echo_when_typed.append(echo_on())
                os.write(fd, answer.encode())
                start = at + len(s['waitFor'])
                step += 1
                seen_at = None
                continue
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        timed_out = True
        os.kill(pid, signal.SIGKILL)
        break
    ready, _, _ = select.select([fd], [], [], min(remaining, 0.02))
    if ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
        if spec.get('transcript'):
            with open(spec['transcript'], 'ab') as f:
                f.write(data)
_, status = os.waitpid(pid, 0)
code = -1 if timed_out else os.waitstatus_to_exitcode(status)
print(json.dumps({'code': code, 'output': base64.b64encode(bytes(out)).decode(), 'echoWhenTyped': echo_when_typed, 'stepsTaken': step, 'timedOut': timed_out}))
`;

/** Runs `command` (argv, no shell) on a new pseudo-terminal in `cwd`, typing each step's answer in turn. */
export function runInPty(
  command: readonly string[],
  steps: readonly PtyStep[],
  options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number; readonly transcript?: string },
): Promise<PtyResult> {
  const spec = JSON.stringify({
    command,
    steps,
    cwd: options.cwd,
    env: options.env ?? process.env,
    timeoutMs: options.timeoutMs ?? 20_000,
    transcript: options.transcript ?? null,
  });
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', DRIVER, spec], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`pty driver exited with ${code}: ${stderr.trim()}`));
      const result = JSON.parse(stdout) as Omit<PtyResult, 'output'> & { output: string };
      resolve({ ...result, output: Buffer.from(result.output, 'base64').toString('utf8') });
    });
  });
}
