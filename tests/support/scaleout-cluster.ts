import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { decodeBinaryFrame } from '../../app/shared/binary-frame';
import type { ServerMessage } from '../../app/shared/messages.contract';

/**
 * Several headless `serve` engines, each in a network namespace of its own joined to this one by a
 * veth pair, behind HAProxy on 127.0.0.1 running deploy/haproxy.cfg, with one shared data folder:
 * the scale-out test and the `scaleout` bench. Needs root, `ip` and `haproxy`; traffic goes only to
 * loopback and the namespaces made here. `close()` removes every namespace and process, also after a failure.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HAPROXY_CONFIG = join(root, 'deploy', 'haproxy.cfg');
const ENGINE_PORT = 8000;
/** deploy/haproxy.cfg names three engines. */
export const ENGINE_COUNT = 3;

/** Why the cluster cannot run here, or null when it can (for `describe.skipIf`). */
export function scaleoutMissingReason(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'ip netns needs root';
  for (const tool of ['ip', 'haproxy']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install iproute2 haproxy)`;
  }
  const probe = `avprobe${process.pid}`;
  const made = spawnSync('ip', ['netns', 'add', probe]);
  if (made.status !== 0) return `this machine does not allow new network namespaces (${made.stderr.toString().trim()})`;
  spawnSync('ip', ['netns', 'del', probe]);
  if (!existsSync(join(root, 'out/main/serve.js')) || !existsSync(join(root, 'out/renderer/index.html'))) return 'the app is not built (npm run build)';
  return null;
}

/** Kills whatever still runs in a namespace (an engine whose test process died). */
function killNamespacePids(namespace: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/** What earlier runs left when their process was killed before its cleanup: namespaces with their engines, HAProxy, the data folder. */
function removeAbandoned(): void {
  const names = (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((line) => line.split(' ')[0]!);
  for (const name of names) {
    const owner = /^av(\d+)ns\d$/.exec(name)?.[1];
    if (!owner || existsSync(`/proc/${owner}`)) continue;
    killNamespacePids(name);
    spawnSync('ip', ['netns', 'del', name]);
  }
  for (const entry of readdirSync(tmpdir())) {
    const owner = /^avatar-scaleout-(\d+)-/.exec(entry)?.[1];
    if (!owner || existsSync(`/proc/${owner}`)) continue;
    const dir = join(tmpdir(), entry);
    // Its HAProxy: the one running this project's configuration with that run's folder on its command line.
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      const commandLine = readFileSyncOrEmpty(`/proc/${pid}/cmdline`);
      if (commandLine.includes(HAPROXY_CONFIG) && commandLine.includes(dir)) process.kill(Number(pid), 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function readFileSyncOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.trim()}`);
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One engine: its namespace, its address as HAProxy reaches it, its process. */
export interface ClusterEngine {
  /** The HAProxy server name (engine1…). */
  name: string;
  namespace: string;
  address: string;
  child: ChildProcess;
  output(): string;
}

export class ScaleoutCluster {
  readonly engines: ClusterEngine[] = [];
  readonly token = `scaleout-${process.pid}-${Date.now().toString(36)}`;
  /** Named after this process: a later run removes what a killed one left (see removeAbandoned). */
  readonly dataDir = mkdtempSync(join(tmpdir(), `avatar-scaleout-${process.pid}-`));
  lbPort = 0;
  private profile = 'scripted';
  private haproxy: ChildProcess | undefined;
  private haproxyOutput = '';
  private readonly statsSocket = join(this.dataDir, 'haproxy.sock');
  private readonly prefix = `av${process.pid}`;
  /** 10.<a>.<b>.0/24 per run (a and b from the pid: two runs at once never share it), one /30 per engine. */
  private readonly subnet = `10.${64 + (process.pid % 128)}.${(process.pid >> 7) % 256}`;

  /** Starts the engines (scripted runtimes unless `profile` says otherwise) and HAProxy; resolves once HAProxy sees them all up. */
  async start(profile = 'scripted'): Promise<void> {
    this.profile = profile;
    removeAbandoned();
    // A test process that exits without its afterAll (a crash, a timeout) still leaves nothing behind.
    process.once('exit', this.closeNow);
    this.lbPort = await freeLoopbackPort();
    const ready: Promise<void>[] = [];
    for (let index = 1; index <= ENGINE_COUNT; index++) ready.push(this.startEngine(index, profile));
    await Promise.all(ready);
    this.startHaproxy();
    await this.waitFor(async () => (await this.serverStates()).filter((state) => state === 'UP').length === ENGINE_COUNT, 20_000, 'HAProxy to see every engine up');
  }

  /** `ws://127.0.0.1:<lb>` and so on: the address clients use. */
  get lbHost(): string {
    return `127.0.0.1:${this.lbPort}`;
  }

  engine(name: string): ClusterEngine {
    const found = this.engines.find((engine) => engine.name === name);
    if (!found) throw new Error(`no engine ${name}`);
    return found;
  }

  /** Kills an engine the hard way (no chance to let go of its leases or close its sockets). */
  async kill(name: string): Promise<void> {
    const { child } = this.engine(name);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Each engine's state as HAProxy's health checks see it (`UP`, `DOWN`, …), in server order. */
  async serverStates(): Promise<string[]> {
    const csv = await this.adminCommand('show stat');
    const rows = csv.split('\n').map((line) => line.split(','));
    const header = rows[0]!.map((name) => name.replace(/^# /, ''));
    const [svname, status] = [header.indexOf('svname'), header.indexOf('status')];
    return rows.filter((row) => /^engine\d+$/.test(row[svname] ?? '')).map((row) => row[status]!.split(' ')[0]!);
  }

  /** The stick table: conversation id → server id (1-based, in config order). */
  async stickTable(): Promise<Map<string, number>> {
    const text = await this.adminCommand('show table engines');
    const table = new Map<string, number>();
    for (const match of text.matchAll(/key=(\S+) use=\d+ exp=\d+(?: shard=\d+)? server_id=(\d+)/g)) table.set(match[1]!, Number(match[2]));
    return table;
  }

  /** What `close` does, synchronously (for process exit). */
  private readonly closeNow = (): void => {
    for (const child of [this.haproxy, ...this.engines.filter(Boolean).map((engine) => engine.child)]) {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (let index = 1; index <= ENGINE_COUNT; index++) {
      killNamespacePids(`${this.prefix}ns${index}`);
      spawnSync('ip', ['netns', 'del', `${this.prefix}ns${index}`]);
      spawnSync('ip', ['link', 'del', `${this.prefix}h${index}`]);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  };

  async close(): Promise<void> {
    process.off('exit', this.closeNow);
    this.haproxy?.kill('SIGKILL');
    // Sparse when a start failed halfway.
    const engines = this.engines.filter(Boolean);
    for (const engine of engines) if (engine.child.exitCode === null && engine.child.signalCode === null) engine.child.kill('SIGKILL');
    await Promise.all(
      [this.haproxy, ...engines.map((engine) => engine.child)].map((child) =>
        child && child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined,
      ),
    );
    for (let index = 1; index <= ENGINE_COUNT; index++) {
      spawnSync('ip', ['netns', 'del', `${this.prefix}ns${index}`]);
      // Gone with the namespace's end of the pair; this is for a pair whose other end never moved.
      spawnSync('ip', ['link', 'del', `${this.prefix}h${index}`]);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Everything the engines and HAProxy printed (for failure messages). */
  output(): string {
    return [...this.engines.filter(Boolean).map((engine) => `--- ${engine.name}\n${engine.output()}`), `--- haproxy\n${this.haproxyOutput}`].join('\n');
  }

  /** Starts a killed engine again in its namespace; resolves once HAProxy sees it up. */
  async restart(name: string): Promise<void> {
    const index = this.engines.findIndex((engine) => engine.name === name);
    await this.kill(name);
    await this.spawnEngine(index + 1, this.profile);
    await this.waitFor(async () => (await this.serverStates())[index] === 'UP', 20_000, `HAProxy to see ${name} up again`);
  }

  private async startEngine(index: number, profile: string): Promise<void> {
    const namespace = `${this.prefix}ns${index}`;
    const hostSide = `${this.prefix}h${index}`;
    const nsSide = `${this.prefix}n${index}`;
    const hostAddress = `${this.subnet}.${4 * index + 1}`;
    const address = `${this.subnet}.${4 * index + 2}`;
    run('ip', ['netns', 'add', namespace]);
    run('ip', ['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide]);
    run('ip', ['link', 'set', nsSide, 'netns', namespace]);
    run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostSide]);
    run('ip', ['link', 'set', hostSide, 'up']);
    run('ip', ['-n', namespace, 'addr', 'add', `${address}/30`, 'dev', nsSide]);
    run('ip', ['-n', namespace, 'link', 'set', nsSide, 'up']);
    run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
    await this.spawnEngine(index, profile);
  }

  private async spawnEngine(index: number, profile: string): Promise<void> {
    const namespace = `${this.prefix}ns${index}`;
    const address = `${this.subnet}.${4 * index + 2}`;
    const args = [
      join(root, 'out/main/serve.js'),
      ...['--bind', address, '--port', String(ENGINE_PORT), '--profile', profile, '--token', this.token],
      ...['--data-dir', this.dataDir, '--shared-data-dir', '--public-host', this.lbHost],
    ];
    // `ip netns exec` execs the engine: the child's pid is the engine's, so a SIGKILL reaches it.
    const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const engine: ClusterEngine = { name: `engine${index}`, namespace, address: `${address}:${ENGINE_PORT}`, child, output: () => output };
    this.engines[index - 1] = engine;
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Engine ready: all workers warm.')) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`engine${index} exited (${code}) before it was ready:\n${output}`)));
    });
  }

  private startHaproxy(): void {
    const env = {
      ...process.env,
      AVATAR_LB_BIND: this.lbHost,
      AVATAR_LB_PUBLIC_HOST: this.lbHost,
      AVATAR_LB_STATS_SOCKET: this.statsSocket,
      ...Object.fromEntries(this.engines.map((engine, i) => [`AVATAR_ENGINE_${i + 1}`, engine.address])),
    };
    // The pid file is never written in the foreground (-db); its path marks this run's HAProxy on its command line.
    this.haproxy = spawn('haproxy', ['-db', '-f', HAPROXY_CONFIG, '-p', join(this.dataDir, 'haproxy.pid')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk: Buffer): void => void (this.haproxyOutput += chunk.toString());
    this.haproxy.stdout!.on('data', onData);
    this.haproxy.stderr!.on('data', onData);
  }

  private adminCommand(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.statsSocket);
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.end(`${command}\n`);
    });
  }

  private async waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (performance.now() < until) {
      if (await check().catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}:\n${this.output()}`);
  }
}

type Loaded = Extract<ServerMessage, { type: 'conversation.loaded' }>;
type TurnEnded = Extract<ServerMessage, { type: 'turn.ended' }>;

/**
 * One conversation's client through the load balancer, as the page does it: `/ws?token=…&conversation=<id>`
 * and `session.open` naming that conversation. Keeps every message; says which engine answered.
 */
export class ConversationClient {
  readonly messages: ServerMessage[] = [];
  /** When each message arrived (performance.now()). */
  readonly arrivedAtMs: number[] = [];
  /** The engine HAProxy chose for the current connection (its X-Avatar-Engine header). */
  engine = '';
  sessionId = '';
  private socket: WebSocket | undefined;

  constructor(
    private readonly cluster: ScaleoutCluster,
    readonly conversationId: string,
  ) {}

  /** Connects and opens the session; resolves with the conversation as the engine loaded it. */
  async open(): Promise<Loaded> {
    const url = `ws://${this.cluster.lbHost}/ws?token=${encodeURIComponent(this.cluster.token)}&conversation=${this.conversationId}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    const from = this.messages.length;
    socket.on('upgrade', (response) => (this.engine = String(response.headers['x-avatar-engine'] ?? '')));
    socket.on('message', (data, isBinary) => {
      const message = isBinary ? decodeBinaryFrame(new Uint8Array(data as Buffer)) : (JSON.parse(String(data)) as unknown);
      this.messages.push(message as ServerMessage);
      this.arrivedAtMs.push(performance.now());
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed before it opened')));
    });
    socket.send(JSON.stringify({ type: 'session.open', requestId: `open-${from}`, conversation: this.conversationId }));
    const opened = await this.waitFor((m): m is Extract<ServerMessage, { type: 'session.opened' }> => m.type === 'session.opened', from);
    this.sessionId = opened.sessionId;
    return this.waitFor((m): m is Loaded => m.type === 'conversation.loaded' && m.sessionId === opened.sessionId, from);
  }

  /** Opens again and again until an engine answers (after a failover), up to `timeoutMs`. */
  async reopen(timeoutMs = 15_000): Promise<Loaded> {
    this.close();
    const until = performance.now() + timeoutMs;
    for (;;) {
      try {
        return await this.open();
      } catch (error) {
        this.close();
        if (performance.now() > until) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** Says `text`; resolves with the turn's end. */
  async say(text: string): Promise<TurnEnded> {
    return (await this.sayTimed(text)).end;
  }

  /** Says `text`; resolves with the turn's end and when its first audio chunk arrived (performance.now()). */
  async sayTimed(text: string): Promise<{ end: TurnEnded; firstAudioAtMs: number }> {
    const from = this.messages.length;
    this.socket!.send(JSON.stringify({ type: 'user.text', sessionId: this.sessionId, text }));
    const end = await this.waitFor((m): m is TurnEnded => m.type === 'turn.ended' && m.sessionId === this.sessionId, from);
    const chunk = this.messages.findIndex((m, index) => index >= from && m.type === 'tts.chunk' && m.turnId === end.turnId);
    return { end, firstAudioAtMs: chunk === -1 ? Number.NaN : this.arrivedAtMs[chunk]! };
  }

  /** Resolves when the socket closes (its engine died), or at once when it is closed. */
  closed(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => socket.once('close', () => resolve()));
  }

  close(): void {
    this.socket?.removeAllListeners('close');
    this.socket?.terminate();
    this.socket = undefined;
  }

  private async waitFor<T extends ServerMessage>(predicate: (message: ServerMessage) => message is T, from: number, timeoutMs = 20_000): Promise<T> {
    const until = performance.now() + timeoutMs;
    while (performance.now() < until) {
      const found = this.messages.slice(from).find(predicate);
      if (found) return found;
      if (!this.socket || this.socket.readyState === WebSocket.CLOSED) throw new Error(`the connection closed; got ${this.messages.slice(from).map((m) => m.type).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`timed out; got ${this.messages.slice(from).map((m) => m.type).join(', ')}`);
  }
}
