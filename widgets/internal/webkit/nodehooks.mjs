// Module resolution hooks for node --test: a widget's modules import the
// kit as './kit/<file>' because the server serves it under
// <assets>/kit/, but on disk the kit lives here. With
//
//   node --import ./widgets/internal/webkit/nodehooks.mjs --test widgets/<w>/web/assets/*.test.mjs
//
// any import that resolves to <something>/assets/kit/<file> loads
// <file> from this directory instead. Browsers never see this file.

import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

// --import runs this on the main thread; register() loads it again in the
// hooks thread, where it only provides resolve().
if (isMainThread) register(import.meta.url);

const kitDir = new URL('./', import.meta.url);
const kitPath = /\/assets\/kit\/([^/]+)$/;

export async function resolve(specifier, context, next) {
  const { parentURL } = context;
  if (parentURL && parentURL.startsWith('file:') && /^\.{0,2}\//.test(specifier)) {
    const m = kitPath.exec(new URL(specifier, parentURL).pathname);
    if (m) return { url: new URL(m[1], kitDir).href, shortCircuit: true };
  }
  return next(specifier, context);
}
