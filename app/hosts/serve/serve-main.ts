import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { rendererDir } from '../../engine/app-paths';
import { composeAppEngine, type AppEngine } from '../../engine/compose-app-engine';
import { PROFILE_NAMES, type ProfileName } from '../../engine/model-profile';
import { DEFAULT_MAX_VIEWERS, parseIceServersJson, type IceServer } from '../../shared/share.contract';
import { isHostValue } from './host-allowlist';
import { installProcessGuard } from './process-guard';
import { startServeHost, type ServeHandle } from './serve-host';
import { ChromiumRendererLauncher } from './remote-chromium-launcher';
import { RendererPool } from '../../engine/share/renderer-pool';
import { DEFAULT_PEER_CONNECT_TIMEOUT_MS } from '../../engine/share/peer-deadlines';
import { resolveDataDir } from '../../engine/settings/data-dir';
import { parseVmcTarget } from '../../shared/vmc.contract';

/**
 * `npm run serve -- [--port <n>] [--lan] [--profile auto|dev|scripted] [--llm-model f.gguf] [--stt-model f.bin] [--voice f.onnx] [--data-dir d]`: the engine headless, plus the renderer build and a
 * WebSocket with the same messages as Electron IPC. Loopback only unless --lan is given.
 * Share: `[--ice-servers '<json>'] [--ice-transport-policy all|relay] [--max-viewers <n>] [--view-token <t>] [--peer-connect-timeout <s>]`.
 * Remote talk (opt-in): `--remote-talk [--renderer-pool <n>] [--talk-token <t>] [--chromium-path <p>]`.
 * VMC output to a VTuber tool: `--vmc-out host:port` (this run; otherwise the VMC setting, off by default).
 * Scale-out behind a load balancer (deploy/README.md): `--bind <address>` (listen there instead of 127.0.0.1),
 * `--public-host <name:port>` (the balancer's address, repeatable), `--token <t>` (one for all engines),
 * `--shared-data-dir` (the data folder is shared with the other engines: conversations are leased per journal).
 * Settings come from `<data dir>/settings.json` (AVATAR_DATA_DIR or the platform's data folder); flags win over them.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '5173' },
      lan: { type: 'boolean', default: false },
      token: { type: 'string' },
      profile: { type: 'string', default: process.env.AVATAR_PROFILE ?? 'auto' },
      'llm-model': { type: 'string' },
      'stt-model': { type: 'string' },
      voice: { type: 'string' },
      'data-dir': { type: 'string' },
      'ice-servers': { type: 'string' },
      'ice-transport-policy': { type: 'string', default: 'all' },
      'max-viewers': { type: 'string', default: String(DEFAULT_MAX_VIEWERS) },
      'view-token': { type: 'string' },
      'peer-connect-timeout': { type: 'string', default: String(DEFAULT_PEER_CONNECT_TIMEOUT_MS / 1000) },
      'remote-talk': { type: 'boolean', default: false },
      'renderer-pool': { type: 'string' },
      'talk-token': { type: 'string' },
      'chromium-path': { type: 'string' },
      'vmc-out': { type: 'string' },
      bind: { type: 'string' },
      'public-host': { type: 'string', multiple: true },
      'shared-data-dir': { type: 'boolean', default: false },
    },
  });
  const profile = values.profile as ProfileName;
  if (!PROFILE_NAMES.includes(profile)) {
    console.error(`--profile must be one of ${PROFILE_NAMES.join(', ')}, got "${values.profile}".`);
    process.exit(2);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a number from 0 to 65535, got "${values.port}".`);
    process.exit(2);
  }
  // Share: STUN/TURN servers for both peers (JSON like RTCConfiguration.iceServers), relay-only, viewer cap.
  let iceServers: IceServer[] = [];
  try {
    iceServers = values['ice-servers'] ? parseIceServersJson(values['ice-servers']) : [];
  } catch (error) {
    console.error(`--ice-servers: ${(error as Error).message}`);
    process.exit(2);
  }
  const iceTransportPolicy = values['ice-transport-policy'];
  if (iceTransportPolicy !== 'all' && iceTransportPolicy !== 'relay') {
    console.error(`--ice-transport-policy must be all or relay, got "${iceTransportPolicy}".`);
    process.exit(2);
  }
  const maxViewers = Number(values['max-viewers']);
  if (!Number.isInteger(maxViewers) || maxViewers < 1 || maxViewers > 64) {
    console.error(`--max-viewers must be a number from 1 to 64, got "${values['max-viewers']}".`);
    process.exit(2);
  }
  // A viewer, WHEP session or talker whose WebRTC connection is not up within this long loses its place (slow TURN may need more).
  const peerConnectTimeoutSec = Number(values['peer-connect-timeout']);
  if (!Number.isInteger(peerConnectTimeoutSec) || peerConnectTimeoutSec < 1 || peerConnectTimeoutSec > 600) {
    console.error(`--peer-connect-timeout must be a number of seconds from 1 to 600, got "${values['peer-connect-timeout']}".`);
    process.exit(2);
  }
  // Remote talk: each talker gets one of this many pre-warmed avatar renderers (headless Chromium pages).
  if (values['renderer-pool'] !== undefined && !values['remote-talk']) {
    console.error('--renderer-pool only applies with --remote-talk (remote conversations are opt-in).');
    process.exit(2);
  }
  const rendererPoolSize = Number(values['renderer-pool'] ?? '1');
  if (!Number.isInteger(rendererPoolSize) || rendererPoolSize < 1 || rendererPoolSize > 16) {
    console.error(`--renderer-pool must be a number from 1 to 16, got "${values['renderer-pool']}".`);
    process.exit(2);
  }
  let vmcOut: { host: string; port: number } | undefined;
  try {
    vmcOut = values['vmc-out'] !== undefined ? parseVmcTarget(values['vmc-out']) : undefined;
  } catch (error) {
    console.error(`--vmc-out: ${(error as Error).message}`);
    process.exit(2);
  }
  if (values.bind !== undefined && (values.lan || !isIP(values.bind))) {
    console.error(values.lan ? '--bind and --lan exclude each other (--lan listens on every address).' : `--bind must be an IP address, got "${values.bind}".`);
    process.exit(2);
  }
  const publicHosts = values['public-host'] ?? [];
  const badHost = publicHosts.find((entry) => !isHostValue(entry));
  if (badHost !== undefined) {
    console.error(`--public-host must be a name or address with an optional port (avatar.example.com:443), got "${badHost}".`);
    process.exit(2);
  }
  if (!existsSync(join(rendererDir, 'index.html'))) {
    console.error(`The renderer is not built (${rendererDir} has no index.html): run \`npm run build\` first.`);
    process.exit(1);
  }
  let composed: AppEngine;
  try {
    composed = await composeAppEngine({
      profile,
      dataDir: resolveDataDir({ explicitDir: values['data-dir'] }),
      llmModelPath: values['llm-model'],
      sttModelPath: values['stt-model'],
      voiceModelPath: values.voice,
      vmcOut,
      sharedDataDir: values['shared-data-dir'],
    });
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  for (const warning of composed.warnings) console.warn(warning);
  const { engine, summary } = composed;
  let handle: ServeHandle;
  try {
    handle = await startServeHost({
      engine,
      rendererDir,
      port,
      host: values.bind ?? (values.lan ? '0.0.0.0' : '127.0.0.1'),
      token: values.token,
      publicHosts,
      nameConversations: values['shared-data-dir'],
      share: {
        ice: { iceServers, iceTransportPolicy },
        maxViewers,
        viewToken: values['view-token'],
        peerConnectTimeoutMs: peerConnectTimeoutSec * 1000,
        remoteTalk: values['remote-talk'] ? { talkToken: values['talk-token'] } : undefined,
      },
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(
      code === 'EADDRINUSE'
        ? `Port ${port} is already in use: choose another with \`npm run serve -- --port <n>\` (0 picks a free one).`
        : `Could not start the server: ${(error as Error).message}`,
    );
    process.exit(1);
  }
  for (const line of summary) console.log(`  ${line}`);
  const vmc = composed.vmc.status;
  if (vmc.enabled) console.log(`VMC output (${vmc.naming} names, ${vmc.source === 'flag' ? '--vmc-out' : 'the setting'}): udp://${vmc.target}`);
  const started = engine.start();
  console.log('Local talking avatar: open this address in Chromium (the token is new every start):');
  console.log(handle.url);
  console.log(`Share viewer (OBS Browser Source; add &share=1 to the app address to share at launch): ${handle.viewUrl}`);
  console.log(`WHEP (OBS WHEP source): ${new URL('/whep', handle.url).href}  bearer token: ${handle.viewToken}`);
  let rendererPool: RendererPool | null = null;
  if (handle.talkUrl) {
    console.log(`Remote talk (${rendererPoolSize} at once; the talk token, not the view token): ${handle.talkUrl}`);
    rendererPool = new RendererPool(new ChromiumRendererLauncher({ executablePath: values['chromium-path'] }), {
      size: rendererPoolSize,
      url: `${handle.url}&remote=1`,
      log: (line) => console.warn(`Remote talk: ${line}`),
    });
    rendererPool.start().catch((error: unknown) =>
      console.error(`Remote talk: renderers failed to start: ${error instanceof Error ? error.message : String(error)}`),
    );
    // Say once when every renderer is warm (avatar drawn, engine session open): talkers get one at once.
    const talkHub = handle.remoteTalk;
    const readyPoll = setInterval(() => {
      if (talkHub && talkHub.status.free + talkHub.status.pending + talkHub.status.talking < rendererPoolSize) return;
      clearInterval(readyPoll);
      console.log(`Remote talk ready: ${rendererPoolSize} avatar renderer(s) warm.`);
    }, 250);
  }
  started.then(
    () => console.log('Engine ready: all workers warm.'),
    (error: unknown) =>
      console.error(`Engine failed to start; it stays degraded (/healthz and the page say why): ${error instanceof Error ? error.message : String(error)}`),
  );

  let stopping = false;
  const stop = async (exitCode = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await rendererPool?.close();
    await handle.close();
    await engine.shutdown();
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  // Errors that escape a request are logged and the host keeps serving; a corrupt engine shuts down cleanly.
  installProcessGuard({
    log: (line) => console.error(line),
    onFatal: (reason) => {
      console.error(`Shutting down: ${reason}.`);
      void stop(1);
    },
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
