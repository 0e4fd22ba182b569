// load_heapsnapshot.mjs: load a .heapsnapshot file with Chrome DevTools' own loader and print
// what DevTools computes from it, for tests/integration/test_devtools.py.
//
// Usage: node load_heapsnapshot.mjs DEVTOOLS_DIR FILE
//   DEVTOOLS_DIR holds node_modules/chrome-devtools-frontend and node_modules/typescript
//   (tests/devtools/setup.sh installs them).
//
// DevTools ships its front end as TypeScript sources. This script turns the heap snapshot
// worker (front_end/entrypoints/heap_snapshot_worker: HeapSnapshotLoader, HeapSnapshot and
// what they import) into JavaScript with TypeScript's transpileModule, into a temporary folder,
// and runs it unchanged, except for three modules that only gather others for the UI: i18n
// (progress messages), core/text_utils' barrel file (the loader needs only TextUtils.js, the
// rest pulls in CodeMirror) and models/heap_snapshot's, which also pulls in the UI-side proxy.
// The file is fed to HeapSnapshotLoader in chunks, as DevTools' Memory tab does, and the
// snapshot is built with the same two-part initialisation (dominators and retained sizes are
// computed by SecondaryInitManager over a MessageChannel).
//
// Prints one JSON object: {"nodes": [[name, self_size, retained_size, id, distance], ...] for
// every node but the root, "root_retained": ..., "total_size": ..., "node_count": ...,
// "summary": {class name: [count, self, retained]}}.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {pathToFileURL} from 'node:url';

const [devtoolsDir, file] = process.argv.slice(2);
if (!devtoolsDir || !file) {
  console.error('usage: node load_heapsnapshot.mjs DEVTOOLS_DIR FILE');
  process.exit(2);
}
const require = createRequire(path.join(devtoolsDir, 'node_modules', 'x.js'));
const ts = require('typescript');
const frontEnd = path.join(devtoolsDir, 'node_modules', 'chrome-devtools-frontend', 'front_end');

// Node 20 has no Promise.withResolvers (DevTools' sources use it).
if (!Promise.withResolvers) {
  Promise.withResolvers = function() {
    let resolve, reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return {promise, resolve, reject};
  };
}

const STUBS = {
  'core/i18n/i18n.js': `
    const text = (s, values) => JSON.stringify({string: s, values: values || {}});
    const known = {
      serializeUIString: text,
      registerUIStrings: () => ({}),
      getLocalizedString: (_, s, values) => text(s, values),
      getLazilyComputedLocalizedString: (_, s, values) => () => text(s, values),
      lockedString: s => s,
      lockedLazyString: s => () => s,
    };
    // Modules the loader imports for other reasons register UI strings at load time.
    export const i18n = new Proxy(known, {get: (t, k) => t[k] || (() => () => '')});
    export const ByteUtilities = {bytesToString: n => String(n)};`,
  'core/text_utils/text_utils.js': `
    import * as TextUtils from './TextUtils.js';
    export {TextUtils};`,
  'models/heap_snapshot/heap_snapshot.js': `
    import * as ChildrenProvider from './ChildrenProvider.js';
    import * as HeapSnapshotModel from './HeapSnapshotModel.js';
    export {ChildrenProvider, HeapSnapshotModel};`,
};

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'devtools-'));
const done = new Set();

function transpile(rel) {
  if (done.has(rel)) {
    return;
  }
  done.add(rel);
  let js = STUBS[rel];
  if (js === undefined) {
    const src = fs.readFileSync(path.join(frontEnd, rel.replace(/\.js$/, '.ts')), 'utf8');
    js = ts.transpileModule(src, {
           compilerOptions: {
             module: ts.ModuleKind.ES2022,
             target: ts.ScriptTarget.ES2022,
             useDefineForClassFields: true,
           },
           fileName: rel.replace(/\.js$/, '.ts'),
         }).outputText;
  }
  const dest = path.join(out, rel);
  fs.mkdirSync(path.dirname(dest), {recursive: true});
  fs.writeFileSync(dest, js);
  // Follow what the JavaScript still imports (type-only imports are gone).
  for (const m of js.matchAll(/(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]/g)) {
    transpile(path.normalize(path.join(path.dirname(rel), m[1])));
  }
  for (const m of js.matchAll(/import\s*\(?\s*['"](\.[^'"]+)['"]/g)) { // side effects, dynamic
    transpile(path.normalize(path.join(path.dirname(rel), m[1])));
  }
}

transpile('entrypoints/heap_snapshot_worker/HeapSnapshotLoader.js');
transpile('entrypoints/heap_snapshot_worker/HeapSnapshot.js');
const Loader = await import(pathToFileURL(path.join(out, 'entrypoints/heap_snapshot_worker/HeapSnapshotLoader.js')));
const Snapshot = await import(pathToFileURL(path.join(out, 'entrypoints/heap_snapshot_worker/HeapSnapshot.js')));

const events = [];
const dispatcher = {sendEvent: (name, data) => events.push([name, data])};
const loader = new Loader.HeapSnapshotLoader(dispatcher);
const fd = fs.openSync(file, 'r');
const buf = Buffer.alloc(1 << 20);
for (;;) {
  const n = fs.readSync(fd, buf, 0, buf.length, null);
  if (!n) {
    break;
  }
  loader.write(buf.toString('utf8', 0, n));
}
fs.closeSync(fd);
loader.close();
const channel = new MessageChannel();
new Snapshot.SecondaryInitManager(channel.port2);
const snapshot = await loader.buildSnapshot(channel.port1);
channel.port1.close();
channel.port2.close();

const broken = events.filter(e => String(e[0]).includes('Broken'));
if (broken.length) {
  console.error('DevTools reported a broken snapshot:', JSON.stringify(broken));
  process.exit(1);
}
const nodes = [];
const node = snapshot.createNode(0);
for (let i = 1; i < snapshot.nodeCount; i++) {
  node.nodeIndex = i * snapshot.nodeFieldCount;
  nodes.push([node.name(), node.selfSize(), node.retainedSize(), node.id(), node.distance()]);
}
const summary = {};
const aggregates = snapshot.aggregatesWithFilter(new (await import(pathToFileURL(
    path.join(out, 'models/heap_snapshot/HeapSnapshotModel.js')))).NodeFilter());
for (const a of Object.values(aggregates)) { // keyed by DevTools' own class key; a.name is ours
  const s = summary[a.name] || (summary[a.name] = [0, 0, 0]);
  s[0] += a.count;
  s[1] += a.self;
  s[2] = Math.max(s[2], a.maxRet);
}
process.stdout.write(JSON.stringify({
  node_count: snapshot.nodeCount,
  root_retained: snapshot.rootNode().retainedSize(),
  total_size: snapshot.totalSize,
  nodes,
  summary,
}) + '\n');
fs.rmSync(out, {recursive: true, force: true});
// No process.exit(): standard output to a pipe is written asynchronously and would be cut.
