/**
 * A stand-in for the `electron` module that records what the main bundle calls while it loads
 * (`app.whenReady()` never resolves, so only the before-ready setup runs) and prints the calls as
 * JSON when the process exits. Loaded by register.mjs; the Electron binary cannot run here.
 */
const calls = [];
const record = (name) => (...args) => {
  calls.push({ name, args: args.filter((arg) => typeof arg !== 'function') });
};

export const app = {
  requestSingleInstanceLock: () => {
    record('app.requestSingleInstanceLock')();
    return true;
  },
  enableSandbox: record('app.enableSandbox'),
  exit: record('app.exit'),
  quit: record('app.quit'),
  on: record('app.on'),
  commandLine: { hasSwitch: () => false },
  whenReady: () => {
    record('app.whenReady')();
    return new Promise(() => {});
  },
};
export const protocol = { registerSchemesAsPrivileged: record('protocol.registerSchemesAsPrivileged'), handle: record('protocol.handle') };
export const ipcMain = { on: record('ipcMain.on'), handle: record('ipcMain.handle') };
export class BrowserWindow {}
export const dialog = {};
export const globalShortcut = {};
export const screen = {};
export const session = {};
export const shell = {};
export const utilityProcess = {};

process.on('exit', () => process.stdout.write(JSON.stringify(calls)));
