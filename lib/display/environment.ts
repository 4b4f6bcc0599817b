/**
 * The computing environment as a notebook shows it: backend, versions, threads, fast kernels (the first cell of
 * every lecture calls {@link showEnvironment}). The facts come from the engine's {@link describeEnvironment}.
 */
import { BACKEND_ENV_VAR, describeEnvironment, EnvironmentDescription } from '../engine/backend';
import { escapeHtml } from './html';
import { displayBundle } from './notebook';

/** Rows (label, value) shared by the text and HTML forms. */
function environmentRows(env: EnvironmentDescription): [string, string][] {
  const backend =
    `${env.choice}${env.simd ? ' (SIMD)' : ''}${env.forced ? ` (forced by ${BACKEND_ENV_VAR})` : ''}` +
    (env.gpu ? ' on GPU' : '');
  const build = env.tensorflowBuild;
  const rows: [string, string][] = [
    ['backend', backend],
    ['threads', String(env.threads)],
    ['GPU', env.gpu ? `yes${env.gpuName ? `: ${env.gpuName}` : ''}` : 'no'],
    ['genlab', env.versions.genlab],
    ['TensorFlow.js', `${env.versions.tfjs} (backend package ${env.versions.backend})`],
  ];
  if (build) {
    rows.push([
      'TensorFlow',
      `${env.versions.tensorflow ?? '?'} (native, ${build.variant.toUpperCase()} build against pip's ${build.wheel})`,
    ]);
  }
  rows.push(
    ['Node.js', env.versions.node],
    ['machine', `${env.platform}, ${env.cpu}`],
    ['quick mode', env.quickMode ? 'on (GENLAB_QUICK=1: small data, few epochs)' : 'off'],
    [
      'fast kernels',
      env.ownKernels
        ? "not needed (TensorFlow's own kernels)"
        : env.kernels.native
          ? `native addon (OpenBLAS products), ${env.kernels.threads} thread${env.kernels.threads === 1 ? '' : 's'}`
          : env.kernels.note,
    ],
  );
  for (const s of env.skipped) rows.push([`skipped ${s.choice}`, s.reason]);
  return rows;
}

/** The environment as aligned plain text (terminals, logs). */
export function environmentText(env: EnvironmentDescription): string {
  const rows = environmentRows(env);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

/** The environment as a small HTML table (notebooks, exported pages). */
export function environmentHtml(env: EnvironmentDescription): string {
  const body = environmentRows(env)
    .map(
      ([k, v]) =>
        `<tr><th style="text-align:left;padding-right:1em">${escapeHtml(k)}</th>` +
        `<td style="text-align:left">${escapeHtml(v)}</td></tr>`,
    )
    .join('');
  return `<table class="genlab-environment">${body}</table>`;
}

/**
 * Shows the environment: an HTML table in a tslab notebook (with a text form for consoles), aligned text elsewhere.
 * Notebooks call it in their first code cell. Returns nothing, so the notebook shows the table only once.
 */
export async function showEnvironment(): Promise<void> {
  const env = await describeEnvironment();
  const text = environmentText(env);
  if (!displayBundle({ 'text/html': environmentHtml(env), 'text/plain': text })) process.stdout.write(text + '\n');
}

