/**
 * What genlab relies on inside tslab 1.0.22 (a 2024 release), checked against the installed tslab so that an
 * upgrade (or a Node version) that moves any of it fails here, loudly, rather than in a lecture:
 *
 * - the display hook: lib/display/notebook.ts finds `tslab/dist/jupyter.js` in Node's module cache and calls its
 *   `lastWriteDisplayData(content, update)` with a whole MIME bundle; `update` picks update_display_data;
 * - zeromq: scripts/tslab-kernel.js (the kernel genlab registers) queues each socket's sends and lifts IOPub's
 *   high-water mark by patching the socket classes of the zeromq tslab loads;
 * - the TypeScript tslab compiles cells with (its own bundled copy): genlab's declarations must type-check with it.
 *
 * The kernel is started as Jupyter starts it (scripts/tslab-kernel.js with a connection file) and spoken to over
 * zeromq with the Jupyter wire protocol, without Jupyter, so this runs wherever the unit tests run (also on the
 * other Node versions scripts/test.ts tests).
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kernelEntry, repoRoot } from '../scripts/jupyter';
import { freePort } from './helpers';

const ROOT = repoRoot();
const TSLAB_DIR = path.dirname(require.resolve('tslab/package.json', { paths: [ROOT] }));

/**
 * The TypeScript tslab bundles, as genlab last checked it. A tslab that bundles another one fails the test below:
 * check that the notebooks still type-check and run (`npm run lectures -- --quick`), then update this.
 */
const TSLAB_TYPESCRIPT = '5.0.4';

// ---- the Jupyter wire protocol, just enough for a client -------------------------------------------------------

/** zeromq as tslab loads it (the copy scripts/tslab-kernel.js patches). */
const zmq = require(require.resolve('zeromq', { paths: [TSLAB_DIR] })) as typeof import('zeromq');

interface Message {
  header: { msg_id: string; msg_type: string };
  parent_header: { msg_id?: string };
  content: Record<string, unknown>;
}

const DELIM = '<IDS|MSG>';
const key = randomBytes(16).toString('hex');
const session = randomBytes(8).toString('hex');

function sign(parts: string[]): string {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function encode(msgType: string, content: object): { id: string; frames: string[] } {
  const id = randomBytes(8).toString('hex');
  const header = { msg_id: id, msg_type: msgType, session, username: 'genlab-test', date: new Date().toISOString(), version: '5.3' };
  const parts = [JSON.stringify(header), '{}', '{}', JSON.stringify(content)];
  return { id, frames: [DELIM, sign(parts), ...parts] };
}

function decode(frames: Buffer[]): Message {
  const at = frames.findIndex((f) => f.toString() === DELIM);
  const parts = frames.slice(at + 2, at + 6).map((f) => f.toString());
  assert.equal(frames[at + 1].toString(), sign(parts), 'the kernel signs its messages with the connection key');
  return { header: JSON.parse(parts[0]), parent_header: JSON.parse(parts[1]), content: JSON.parse(parts[3]) };
}

let kernel: ChildProcess | undefined;
let kernelLog = '';
let shell: import('zeromq').Dealer;
let iopub: import('zeromq').Subscriber;
const received: Message[] = []; // every message from the shell and IOPub channels, in order of arrival
let wake: (() => void) | undefined;

/** Reads every message of a socket into `received` until it is closed. */
function collect(socket: AsyncIterable<Buffer[]>): void {
  void (async () => {
    for await (const frames of socket) {
      received.push(decode(frames));
      wake?.();
    }
  })().catch(() => undefined); // closed in after()
}

/** Sends a request on the shell channel; resolves its reply and the IOPub messages it caused (up to idle). */
async function request(msgType: string, content: object, timeoutMs = 60_000): Promise<{ reply: Message; outputs: Message[] }> {
  const { id, frames } = encode(msgType, content);
  await shell.send(frames);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mine = received.filter((m) => m.parent_header.msg_id === id);
    const reply = mine.find((m) => m.header.msg_type === msgType.replace(/_request$/, '_reply'));
    if (reply && mine.some((m) => m.header.msg_type === 'status' && m.content.execution_state === 'idle')) {
      return { reply, outputs: mine.filter((m) => m !== reply && m.header.msg_type !== 'status') };
    }
    if (Date.now() > deadline) throw new Error(`no ${msgType} reply and idle status in ${timeoutMs} ms; kernel log:\n${kernelLog}`);
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, 200).unref();
    });
  }
}

/** Runs a cell; resolves the execute_reply content and the cell's outputs. */
async function execute(code: string): Promise<{ reply: Record<string, unknown>; outputs: Message[] }> {
  const { reply, outputs } = await request('execute_request', { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false });
  return { reply: reply.content, outputs };
}

before(async () => {
  const ports = await Promise.all([0, 1, 2, 3, 4].map(() => freePort()));
  const [shellPort, iopubPort, stdinPort, controlPort, hbPort] = ports;
  const connection = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-tslab-')), 'kernel.json');
  fs.writeFileSync(connection, JSON.stringify({
    transport: 'tcp', ip: '127.0.0.1', key, signature_scheme: 'hmac-sha256',
    shell_port: shellPort, iopub_port: iopubPort, stdin_port: stdinPort, control_port: controlPort, hb_port: hbPort,
  }));
  // As Jupyter runs the registered kernel (kernel.json argv), in the notebooks' folder, with this test's Node.
  kernel = spawn(process.execPath, [kernelEntry(ROOT), 'kernel', '--config-path', connection], {
    cwd: path.join(ROOT, 'notebooks'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  kernel.stdout?.on('data', (d: Buffer) => (kernelLog += d.toString()));
  kernel.stderr?.on('data', (d: Buffer) => (kernelLog += d.toString()));
  shell = new zmq.Dealer();
  shell.connect(`tcp://127.0.0.1:${shellPort}`);
  iopub = new zmq.Subscriber();
  iopub.receiveHighWaterMark = 0; // keep every message: the burst test counts them
  iopub.connect(`tcp://127.0.0.1:${iopubPort}`);
  iopub.subscribe();
  collect(shell);
  collect(iopub);
  // The kernel is up, and IOPub connected, once a kernel_info request shows up on IOPub as busy/idle.
  for (let i = 0; ; i++) {
    try {
      await request('kernel_info_request', {}, 3000);
      break;
    } catch (e) {
      if (i >= 40 || kernel.exitCode !== null) throw new Error(`the tslab kernel did not answer: ${(e as Error).message}\n${kernelLog}`);
    }
  }
});

after(async () => {
  shell?.close();
  iopub?.close();
  if (kernel && kernel.exitCode === null && kernel.signalCode === null) {
    kernel.kill('SIGKILL');
    await new Promise((r) => kernel?.once('exit', r));
  }
});

// ---- the contracts --------------------------------------------------------------------------------------------

test(`tslab bundles TypeScript ${TSLAB_TYPESCRIPT}, and genlab's declarations type-check with it`, () => {
  const ts = require(require.resolve('@tslab/typescript-for-tslab', { paths: [TSLAB_DIR] })) as typeof import('typescript');
  assert.equal(
    ts.version,
    TSLAB_TYPESCRIPT,
    `tslab now compiles notebooks with TypeScript ${ts.version}, not ${TSLAB_TYPESCRIPT}: run the lectures, then update TSLAB_TYPESCRIPT`,
  );
  // A cell importing both entry points by name, compiled with tslab's options (converter.js) but with the library
  // checks tslab skips turned on for genlab's own .d.ts files: syntax newer than tslab's TypeScript (or a type it
  // lacks) shows up here instead of as `any` in a notebook.
  const cell = path.join(ROOT, 'notebooks', '__genlab_types_check.ts');
  const source = [
    `import { tf, BernoulliRBM, show, lineFigure } from 'genlab';`,
    `import { loadMnist } from 'genlab/datasets';`,
    `const rbm: BernoulliRBM = new BernoulliRBM({ nVisible: 4, nHidden: 2, seed: 1 });`,
    `export const n: number = tf.scalar(1).size + rbm.nHidden;`,
    `export { show, lineFigure, loadMnist };`,
  ].join('\n');
  const options: import('typescript').CompilerOptions = {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    resolveJsonModule: true,
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (f, lang, ...rest) => (f === cell ? ts.createSourceFile(f, source, lang) : getSourceFile(f, lang, ...rest));
  host.fileExists = (f) => f === cell || fileExists(f);
  const program = ts.createProgram([cell], options, host);
  const genlabFiles = program.getSourceFiles().filter((f) => f.fileName === cell || f.fileName.startsWith(path.join(ROOT, 'dist') + path.sep));
  assert.ok(genlabFiles.some((f) => f.fileName === path.join(ROOT, 'dist', 'lib', 'index.d.ts')), "'genlab' resolves to this checkout's dist/lib/index.d.ts");
  assert.ok(genlabFiles.length > 20, `genlab's declarations are read (${genlabFiles.length} files)`);
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...genlabFiles.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ];
  const shown = diagnostics.map((d) => `${d.file ? path.relative(ROOT, d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  assert.deepEqual(shown, [], `TypeScript ${ts.version} (tslab's) reports errors in genlab's declarations`);
});

test('the kernel compiles cells with that TypeScript and genlab\'s types: a type error names genlab\'s class', async () => {
  const { reply, outputs } = await execute(`require('tslab').versions.typescript`);
  assert.equal(reply.status, 'ok', JSON.stringify(reply));
  // tslab prints a cell's last value on stdout
  assert.equal(outputs.filter((m) => m.header.msg_type === 'stream').map((m) => m.content.text).join('').trim(), TSLAB_TYPESCRIPT);
  const bad = await execute(`import { BernoulliRBM } from 'genlab';\nconst wrong: string = new BernoulliRBM({ nVisible: 4, nHidden: 2 });`);
  // tslab aborts requests arriving within 200 ms of an error: wait before anything else, whatever the asserts say
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(bad.reply.status, 'error');
  const text = bad.outputs.map((m) => JSON.stringify(m.content)).join('\n');
  // the class is generic in its data shape: `BernoulliRBM<[number]>`
  assert.match(text, /Type 'BernoulliRBM(<[^']*>)?' is not assignable to type 'string'/);
});

test('the display hook: genlab sends whole MIME bundles through tslab\'s lastWriteDisplayData, and updates in place', async () => {
  const notebookJs = JSON.stringify(path.join(ROOT, 'dist', 'lib', 'display', 'notebook.js'));
  const { reply, outputs } = await execute(
    [
      `const nb = require(${notebookJs});`,
      `const sent = [nb.inNotebook(), nb.displayBundle({ 'text/html': '<b>bundle</b>', 'text/plain': 'bundle', 'application/json': { a: 1 } })];`,
      `const live = new nb.LiveOutput();`,
      `sent.push(live.update({ 'text/plain': 'one' }), live.update({ 'text/plain': 'two', 'text/html': '<i>two</i>' }));`,
      `// the internal hook, not tslab's public one-MIME-type fallback`,
      `const hook = Object.keys(require.cache).filter((f) => f.endsWith(require('path').join('tslab', 'dist', 'jupyter.js')));`,
      `console.log(JSON.stringify({ sent, hook: hook.length, writer: typeof require.cache[hook[0]].exports.lastWriteDisplayData }));`,
    ].join('\n'),
  );
  assert.equal(reply.status, 'ok', JSON.stringify(reply));
  const stdout = outputs.filter((m) => m.header.msg_type === 'stream').map((m) => m.content.text).join('');
  assert.deepEqual(JSON.parse(stdout), { sent: [true, true, true, true], hook: 1, writer: 'function' });
  const shown = outputs.filter((m) => /display_data$/.test(m.header.msg_type));
  assert.deepEqual(
    shown.map((m) => [m.header.msg_type, Object.keys(m.content.data as object).sort().join(' ')]),
    [
      ['display_data', 'application/json text/html text/plain'],
      ['display_data', 'text/plain'],
      ['update_display_data', 'text/html text/plain'],
    ],
  );
  assert.deepEqual((shown[0].content.data as Record<string, unknown>)['application/json'], { a: 1 });
  const ids = shown.map((m) => (m.content.transient as { display_id?: string }).display_id);
  assert.equal(ids[0], undefined, 'a plain display has no display id');
  assert.ok(ids[1] && ids[1] === ids[2], 'the live output updates the display it created');
});

test('zeromq: the registered kernel queues every socket send, so a burst of 3000 outputs arrives whole', async () => {
  const n = 3000;
  const { reply, outputs } = await execute(
    [
      `const tslab = require('tslab');`,
      `const zmq = require(require.resolve('zeromq', { paths: [require('path').dirname(require.resolve('tslab/package.json'))] }));`,
      `console.log(['Publisher', 'Router', 'Reply', 'Dealer'].map((c) => zmq[c].prototype.send.name).join(' '), zmq.Publisher.prototype.bind.name);`,
      `for (let i = 0; i < ${n}; i++) tslab.display.text('line ' + i);`,
    ].join('\n'),
  );
  assert.equal(reply.status, 'ok', `${JSON.stringify(reply)}\n${kernelLog}`);
  const stdout = outputs.filter((m) => m.header.msg_type === 'stream').map((m) => m.content.text).join('');
  assert.equal(stdout.trim(), 'queuedSend queuedSend queuedSend queuedSend unlimitedBind');
  const lines = outputs.filter((m) => m.header.msg_type === 'display_data').map((m) => (m.content.data as Record<string, string>)['text/plain']);
  assert.equal(lines.length, n, `${n} outputs sent, ${lines.length} arrived`);
  assert.equal(lines[n - 1], `line ${n - 1}`);
  assert.equal(kernel?.exitCode, null, `the kernel is still running:\n${kernelLog}`);
});

test('a shutdown request ends the kernel process (Jupyter then has nothing to kill)', async () => {
  const exited = new Promise<number | null>((resolve) => kernel?.once('exit', (code) => resolve(code)));
  const { frames } = encode('shutdown_request', { restart: false });
  await shell.send(frames);
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running after 10 s'), 10_000).unref())]);
  assert.equal(code, 0, `${code}\n${kernelLog}`);
});
