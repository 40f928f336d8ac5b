/**
 * A real rsyslogd as the SIEM's collector, for the audit-shipping tests:
 * imtcp with the gtls (GnuTLS) stream driver, TLS only (StreamDriver.Mode 1,
 * no client authentication: AuthMode "anon"), or with `protocol: 'relp'`
 * imrelp (rsyslog-relp) over TLS with the OpenSSL library and client
 * certificates checked against `clientCa` (tls.authMode "certvalid"), on
 * 127.0.0.1 at a free port, writing every message it receives with omfile to
 * a file in a temp dir. pause() stops it with SIGSTOP: a collector that keeps
 * its connections up but reads nothing.
 *
 * It runs in the foreground (-n) with its own config, pid file and work
 * directory in the temp dir, and loads no input but imtcp (no imuxsock, no
 * imklog), so it never touches /dev/log, /run or the system's rsyslog. Works
 * as root and as an ordinary user (the port is unprivileged).
 *
 * It holds what it reads for up to `holdMs` (100 ms) before writing, like a
 * collector that batches its writes, so a SIGKILL reliably loses messages it
 * had received: that is what the shipper's settle time is there for.
 *
 * Output line, one per message: `%timegenerated% %structured-data% %msg%`
 * (timegenerated: when rsyslog received it, with microseconds).
 * rsyslog keeps the RFC 5424 BOM at the start of %msg% (it passes MSG through
 * unchanged); readMessages() reports and strips it.
 *
 * rsyslogd is a CI dependency (.ci/run installs rsyslog, rsyslog-gnutls and rsyslog-relp):
 * when it is missing, start() throws — the test fails, it does not skip.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';

const RSYSLOGD_CANDIDATES = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd', '/usr/local/sbin/rsyslogd'];
const SD_ID = 'pinstation@32473';
const BOM = '\uFEFF';

/** A certificate and its private key, PEM. */
export interface CertifiedKey {
  readonly cert: string;
  readonly key: string;
}

export interface TestCertificates {
  /** The collector's CA, which the shipper trusts. */
  readonly ca: CertifiedKey;
  /** The collector's certificate from `ca`, for 127.0.0.1 (IP SAN and CN). */
  readonly server: CertifiedKey;
  /** Another CA, which the shipper does not trust. */
  readonly wrongCa: CertifiedKey;
  /** A certificate for 127.0.0.1 from `wrongCa`. */
  readonly wrongServer: CertifiedKey;
  /** A station's client certificate from `ca` (RELP's mutual TLS). */
  readonly client: CertifiedKey;
  /** A station's client certificate from `wrongCa`, which the collector does not trust. */
  readonly wrongClient: CertifiedKey;
}

/** One message as the collector wrote it. */
export interface CollectorMessage {
  readonly station: string;
  readonly seq: number;
  readonly mac: string;
  /** MSG without its BOM. */
  readonly msg: string;
  /** MSG started with the UTF-8 BOM. */
  readonly bom: boolean;
  /** When rsyslog received it (ms since the epoch, from %timegenerated%). */
  readonly receivedAt: number;
}

function rsaKey(): { publicKey: string; privateKey: string } {
  // Node makes the key (fast, native); node-forge makes the certificates. PKCS#1 PEM, which GnuTLS reads.
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
}

function serial(): string {
  return '01' + forge.util.bytesToHex(forge.random.getBytesSync(8));
}

function makeCa(name: string): CertifiedKey {
  const pair = rsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicKey);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3_600_000);
  const subject = [{ name: 'commonName', value: name }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(pair.privateKey), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: pair.privateKey };
}

function makeClient(ca: CertifiedKey, name: string): CertifiedKey {
  const pair = rsaKey();
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicKey);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3_600_000);
  cert.setSubject([{ name: 'commonName', value: name }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.key), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: pair.privateKey };
}

function makeServer(ca: CertifiedKey, ip: string): CertifiedKey {
  const pair = rsaKey();
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicKey);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3_600_000);
  cert.setSubject([{ name: 'commonName', value: ip }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip }] },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.key), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: pair.privateKey };
}

/** A CA with a collector certificate for 127.0.0.1, and a second, untrusted pair. */
export function makeTestCertificates(): TestCertificates {
  const ca = makeCa('PIN Station test SIEM CA');
  const wrongCa = makeCa('Some other CA');
  return {
    ca,
    server: makeServer(ca, '127.0.0.1'),
    wrongCa,
    wrongServer: makeServer(wrongCa, '127.0.0.1'),
    client: makeClient(ca, 'station-test'),
    wrongClient: makeClient(wrongCa, 'station-impostor'),
  };
}

function findRsyslogd(): string {
  for (const path of [process.env.RSYSLOGD, ...RSYSLOGD_CANDIDATES]) {
    if (!path) continue;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // next candidate
    }
  }
  throw new Error(
    'rsyslogd was not found (looked in ' +
      RSYSLOGD_CANDIDATES.join(', ') +
      '). The audit-shipping tests need a real collector: install the Debian packages rsyslog, rsyslog-gnutls and rsyslog-relp (.ci/run does).',
  );
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const LINE = new RegExp(`^(\\S+) \\[${SD_ID} station="((?:[^"\\\\]|\\\\.)*)" seq="(\\d+)" mac="((?:[^"\\\\]|\\\\.)*)"\\] (.*)$`, 's');

function unescapeParam(value: string): string {
  return value.replace(/\\(["\\\]])/g, '$1');
}

/** Parses the collector's output file; throws on a line it cannot read, so a test never passes on garbage. */
export function parseCollectorOutput(text: string): CollectorMessage[] {
  const messages: CollectorMessage[] = [];
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty, or a line rsyslog is still writing
  lines.forEach((line, index) => {
    const match = LINE.exec(line);
    if (!match) throw new Error(`collector output line ${index + 1} is not a pin-station message: ${line.slice(0, 200)}`);
    const [, time = '', station = '', seq = '', mac = '', rawMsg = ''] = match;
    const receivedAt = Date.parse(time);
    if (Number.isNaN(receivedAt)) throw new Error(`collector output line ${index + 1} has no readable time: ${time}`);
    const bom = rawMsg.startsWith(BOM);
    messages.push({ station: unescapeParam(station), seq: Number(seq), mac: unescapeParam(mac), msg: bom ? rawMsg.slice(1) : rawMsg, bom, receivedAt });
  });
  return messages;
}

export interface RsyslogCollectorOptions {
  /** The certificate and key the collector presents. */
  readonly server: CertifiedKey;
  /** The CA file rsyslog is given (gtls wants one even with AuthMode anon). */
  readonly ca: string;
  /**
   * How long the collector holds what it has read before writing it (default 100 ms), like a
   * collector that batches its writes: a SIGKILL loses what it holds, as a real one would.
   */
  readonly holdMs?: number;
  /** `syslog-tls` (imtcp, the default) or `relp` (imrelp over TLS, client certificates required). */
  readonly protocol?: 'syslog-tls' | 'relp';
  /** relp: the CA whose client certificates the collector accepts (default: `ca`). */
  readonly clientCa?: string;
}

export class RsyslogCollector {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private output = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly binary: string,
  ) {}

  /** Starts rsyslogd on a free port of 127.0.0.1 and waits until it accepts connections. */
  static async start(options: RsyslogCollectorOptions): Promise<RsyslogCollector> {
    const binary = findRsyslogd();
    const dir = mkdtempSync(join(tmpdir(), 'pin-station-rsyslog-'));
    const collector = new RsyslogCollector(dir, await freePort(), binary);
    collector.writeConfig(options);
    try {
      await collector.spawn();
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return collector;
  }

  /** The file the collector writes the messages to. */
  get messagesPath(): string {
    return join(this.dir, 'messages.log');
  }

  private get confPath(): string {
    return join(this.dir, 'rsyslog.conf');
  }

  private writeConfig(options: RsyslogCollectorOptions): void {
    const work = join(this.dir, 'work');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(this.dir, 'ca.pem'), options.ca);
    writeFileSync(join(this.dir, 'client-ca.pem'), options.clientCa ?? options.ca);
    writeFileSync(join(this.dir, 'server.pem'), options.server.cert);
    writeFileSync(join(this.dir, 'server-key.pem'), options.server.key, { mode: 0o600 });
    const q = (value: string): string => JSON.stringify(value); // RainerScript strings take the same escapes
    const holdMs = Math.max(1, Math.round(options.holdMs ?? 100));
    const conf = [
      `global(workDirectory=${q(work)} maxMessageSize="64k"`,
      `  defaultNetstreamDriverCAFile=${q(join(this.dir, 'ca.pem'))}`,
      `  defaultNetstreamDriverCertFile=${q(join(this.dir, 'server.pem'))}`,
      `  defaultNetstreamDriverKeyFile=${q(join(this.dir, 'server-key.pem'))})`,
      ...(options.protocol === 'relp'
        ? [`module(load="imrelp" tls.tlslib="openssl")`]
        : [`module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")`]),
      `template(name="pinStation" type="string" string="%timegenerated:::date-rfc3339% %structured-data% %msg%\\n")`,
      options.protocol === 'relp'
        ? // RELP answers a record once the ruleset has it; with no queue of its own the write comes first, so an answered
          // record survives a SIGKILL (as a collector with a disk queue keeps it). holdMs does not apply.
          `ruleset(name="collect" queue.type="Direct") {`
        : // Its own queue, dequeued in batches of "everything that came in the last holdMs".
          `ruleset(name="collect" queue.type="LinkedList" queue.size="200000" queue.minDequeueBatchSize="100000" queue.minDequeueBatchSize.timeout="${holdMs}") {`,
      // A buffer larger than any batch: each batch is one write(), so a SIGKILL never leaves half a line.
      `  action(type="omfile" file=${q(this.messagesPath)} template="pinStation" ioBufferSize="1m" flushOnTXEnd="on")`,
      `}`,
      options.protocol === 'relp'
        ? // Only stations whose certificate is from clientCa get through (mutual TLS).
          `input(type="imrelp" address="127.0.0.1" port="${this.port}" ruleset="collect" tls="on" tls.authMode="certvalid"` +
          ` tls.caCert=${q(join(this.dir, 'client-ca.pem'))} tls.myCert=${q(join(this.dir, 'server.pem'))} tls.myPrivKey=${q(join(this.dir, 'server-key.pem'))})`
        : `input(type="imtcp" address="127.0.0.1" port="${this.port}" ruleset="collect")`,
      // rsyslog's own messages (TLS handshake errors, …) go to a file of their own, for diagnosis.
      `*.* action(type="omfile" file=${q(join(this.dir, 'internal.log'))})`,
      '',
    ].join('\n');
    writeFileSync(this.confPath, conf);
  }

  private async spawn(): Promise<void> {
    this.output = '';
    const child = spawn(this.binary, ['-n', '-f', this.confPath, '-i', join(this.dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC' },
    });
    this.child = child;
    const collect = (chunk: Buffer): void => {
      if (this.output.length < 20_000) this.output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let exitInfo: string | null = null;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = `exit code ${code}, signal ${signal}`;
        if (this.child === child) this.child = null;
        resolve();
      });
      child.once('error', (error) => {
        exitInfo = `spawn failed: ${error.message}`;
        if (this.child === child) this.child = null;
        resolve();
      });
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (exitInfo !== null) break;
      if (await canConnect(this.port)) return;
      await sleep(25);
    }
    const why = exitInfo ?? 'it did not listen within 60 s';
    if (this.child === child) child.kill('SIGKILL');
    await this.exited;
    throw new Error(`rsyslogd did not start (${why}). Output: ${this.output.trim() || '(none)'}. Internal log: ${this.internalLog() || '(none)'}`);
  }

  /** rsyslog's own messages so far. */
  internalLog(): string {
    const path = join(this.dir, 'internal.log');
    return existsSync(path) ? readFileSync(path, 'utf8').slice(-5000) : '';
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Sends a signal (SIGKILL by default: what it had read but not written is lost) and waits for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    await this.exited;
  }

  /** SIGSTOP: connections stay up, nothing is read or answered. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Starts it again on the same port, with the same config and output file. */
  async restart(): Promise<void> {
    if (this.child) await this.kill('SIGKILL');
    await this.spawn();
  }

  /** The file's raw text (complete lines and whatever is being written). */
  readOutput(): string {
    return existsSync(this.messagesPath) ? readFileSync(this.messagesPath, 'utf8') : '';
  }

  readMessages(): CollectorMessage[] {
    return parseCollectorOutput(this.readOutput());
  }

  /** Stops rsyslogd and removes its temp dir. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child) {
      child.kill('SIGCONT'); // a paused one could not act on SIGTERM
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
