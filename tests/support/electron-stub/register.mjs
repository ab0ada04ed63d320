import { register } from 'node:module';

/** `node --import <this file> out/main/electron-main.js`: `electron` resolves to the recording stub next to this file. */
const stub = new URL('./electron.mjs', import.meta.url).href;
const hooks = `export async function resolve(specifier, context, next) {
  return specifier === 'electron' ? { url: ${JSON.stringify(stub)}, shortCircuit: true } : next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
