import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../app/engine/app-paths';
import { resolveCatalogPath, shippedResourcesDir } from '../../app/engine/models/model-paths';
import { WORKER_ENTRIES } from '../../app/native-workers/registry';

/**
 * What `npm run dist` packs, read from electron-builder.yml the way electron-builder reads it (its
 * own YAML parser and minimatch patterns, over the production dependency tree npm reports):
 * every native binary a runtime loads lies outside the asar, the catalog ships as an extra resource
 * where the engine looks for it, no model weights are packed, and the whisper addon is built for
 * every CPU level before packing. The fuses are checked in electron-build-hardening.test.ts.
 */

const require = createRequire(import.meta.url);
const { load: parseYaml } = require('js-yaml') as { load(text: string): unknown };
const { minimatch } = require('minimatch') as { minimatch(path: string, pattern: string, options?: { dot?: boolean }): boolean };

interface BuilderConfig {
  files: string[];
  asarUnpack: string[];
  extraResources: { from: string; to: string }[];
  asar: boolean;
}
const config = parseYaml(readFileSync(join(appRoot, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const packageJson = JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

const matches = (path: string, pattern: string): boolean => minimatch(path, pattern, { dot: true });
const unpacked = (path: string): boolean => config.asarUnpack.some((pattern) => matches(path, pattern));
/** electron-builder packs production node_modules unless a `!` pattern of `files` drops them. */
const droppedFromNodeModules = (path: string): boolean => config.files.filter((pattern) => pattern.startsWith('!')).some((pattern) => matches(path, pattern.slice(1)));

/** Files a native runtime loads through dlopen or opens by path from C++ (which cannot read inside an asar). */
const NATIVE_FILE = /\.(node|so(\.\d+)*|dylib|dll)$/;

function filesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

/** The production dependency tree npm would install for the package (what electron-builder packs). */
function productionPackageDirs(): string[] {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: appRoot, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  return [...new Set(out.split('\n').filter((line) => line.includes(`${sep}node_modules${sep}`)))];
}

const toPosix = (path: string): string => path.split(sep).join('/');

describe('electron-builder package layout', () => {
  it('unpacks every native binary of the production dependencies that is packed', () => {
    const natives = productionPackageDirs()
      .flatMap((dir) => filesUnder(dir))
      .map((path) => toPosix(relative(appRoot, path)))
      .filter((path) => NATIVE_FILE.test(path) && !droppedFromNodeModules(path));
    // The runtimes the engine loads are among them (the check below would otherwise prove nothing).
    for (const runtime of ['node_modules/sherpa-onnx-', 'node_modules/onnxruntime-node/', 'node_modules/@node-llama-cpp/', 'node_modules/smart-whisper/variants/']) {
      expect(natives.some((path) => path.startsWith(runtime)), `a native file under ${runtime}`).toBe(true);
    }
    expect(natives.filter((path) => !unpacked(path))).toEqual([]);
  });

  it('unpacks the ONNX files native code opens by path', () => {
    const onnx = filesUnder(join(appRoot, 'node_modules', '@ricky0123', 'vad-web', 'dist')).filter((path) => path.endsWith('.onnx'));
    expect(onnx.length).toBeGreaterThan(0);
    for (const path of onnx) expect(unpacked(toPosix(relative(appRoot, path))), path).toBe(true);
  });

  it('packs the built entries of every runtime process and worker', () => {
    expect(config.files).toContain('out/**');
    const entries = ['runtime-host', ...Object.values(WORKER_ENTRIES).map((entry) => entry.buildName)].map((name) => `out/main/${name}.js`);
    for (const entry of entries) {
      expect(config.files.filter((pattern) => pattern.startsWith('!')).some((pattern) => matches(entry, pattern.slice(1))), entry).toBe(false);
    }
  });

  it('ships the catalog beside app.asar, where the packaged engine reads it, and no model weights', () => {
    expect(config.extraResources).toContainEqual({ from: 'resources/models/catalog.json', to: 'models/catalog.json' });
    expect(existsSync(join(appRoot, 'resources', 'models', 'catalog.json'))).toBe(true);
    const packagedRoot = join('/opt', 'Local Talking Avatar', 'resources', 'app.asar');
    expect(shippedResourcesDir(packagedRoot)).toBe(join('/opt', 'Local Talking Avatar', 'resources'));
    expect(shippedResourcesDir(appRoot)).toBe(join(appRoot, 'resources'));
    expect(resolveCatalogPath(undefined, {})).toBe(join(appRoot, 'resources', 'models', 'catalog.json'));
    // Only the build output and package.json are app files, and the build holds no model weights
    // (the language and speech models' GGUF / ggml files live in the user's models folder).
    expect(config.files.filter((pattern) => !pattern.startsWith('!'))).toEqual(['out/**', 'package.json']);
    const outDir = join(appRoot, 'out');
    const built = existsSync(outDir) ? filesUnder(outDir) : [];
    const weights = built.filter((path) => {
      const head = readFileSync(path).subarray(0, 4).toString('latin1');
      return head === 'GGUF' || head === 'lmgg' || head === 'ggjt';
    });
    expect(weights).toEqual([]);
  });

  it('builds the whisper addon for every CPU level before packing, never for the build machine alone', () => {
    const dist = packageJson.scripts.dist!;
    const addonStep = dist.indexOf('build-addon.mjs --all');
    expect(addonStep).toBeGreaterThan(-1);
    expect(addonStep).toBeLessThan(dist.indexOf('electron-builder'));
    const levels = JSON.parse(readFileSync(join(appRoot, 'app', 'native-workers', 'stt', 'whisper-addon', 'cpu-levels.json'), 'utf8')) as Record<string, { march: string }[]>;
    expect(levels.x64!.map((level) => level.march)).toEqual(['x86-64-v2', 'x86-64-v3', 'x86-64-v4']);
    expect(Object.values(levels).flat().filter((level) => level.march === 'native')).toEqual([]);
  });
});
