/**
 * Atomic model files: a small, general checkpoint format shared by every genlab model.
 *
 * A checkpoint is a directory holding
 * - `manifest.json`: `{ format, version, kind, config, payload, payloadBytes, payloadSha256, tensors: [...],
 *   manifestSha256 }` -- the model kind (e.g. `'BernoulliRBM'`), its JSON configuration, and for every tensor its
 *   name, dtype, shape, byte offset, byte length and SHA-256;
 * - one binary payload file `tensors-<hash>.bin` with the tensors' little-endian bytes back to back.
 *
 * Saving is atomic. The new payload is written under a fresh name and flushed to disk, then a new manifest is
 * written to a temporary file, flushed, and renamed over `manifest.json` (a rename within one directory is atomic
 * on POSIX file systems). Only after that are payload files the new manifest does not name removed. A process
 * that dies at any point therefore leaves either the previous checkpoint or the new one, never a mixture.
 *
 * Loading verifies everything it reads -- the manifest's own checksum, the payload's size and SHA-256, and each
 * tensor's SHA-256 -- and refuses a corrupted or truncated checkpoint with an error naming the file.
 *
 * Storage: float32 tensors are stored as they are (4 bytes per element), or, with `storage: 'float16'`, as IEEE 754
 * half-precision numbers (2 bytes, rounded to nearest, ties to even): half the size, for the pretrained weights that
 * ship with genlab. Loading converts them back to float32. int32 tensors are always stored exactly. A manifest that
 * stores any tensor as float16 has format version 2 (version 1 readers refuse it rather than misread it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { ready, tf } from '../engine/backend';
import { assertKnownOptions, describeValue, optionKeys } from './validate';

/** Any JSON value (what a checkpoint's `config` may hold). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Tensor dtypes a checkpoint stores. */
export type CheckpointDtype = 'float32' | 'int32';

/**
 * How float32 tensors are stored: `'float32'` (exact; the default) or `'float16'` (IEEE 754 half precision: half
 * the bytes, about 3 significant digits -- relative rounding error at most 2^-11 -- and magnitudes up to 65504).
 */
export type CheckpointStorage = 'float32' | 'float16';
const STORAGES: readonly CheckpointStorage[] = ['float32', 'float16'];

/** What {@link saveCheckpoint} writes and {@link loadCheckpoint} returns. */
export interface CheckpointData {
  /** The model kind, e.g. `'BernoulliRBM'`; {@link loadCheckpoint} can insist on it. */
  kind: string;
  /** Model configuration (sizes, options): any JSON value. */
  config: JsonValue;
  /** Named tensors (weights, biases, ...), float32 or int32. On load the caller owns (must dispose) them. */
  tensors: Record<string, tf.Tensor>;
}

/** One tensor's entry in the manifest. */
export interface CheckpointTensorEntry {
  name: string;
  dtype: CheckpointDtype;
  shape: number[];
  /** Byte offset in the payload file. */
  offset: number;
  /** Byte length (4 bytes per element; 2 for float16 storage). */
  byteLength: number;
  /** `'float16'` when a float32 tensor is stored in half precision (absent: stored as its dtype). */
  storage?: 'float16';
  /** Hex SHA-256 of the tensor's bytes. */
  sha256: string;
}

/** The parsed `manifest.json`. */
export interface CheckpointManifest {
  format: typeof FORMAT;
  version: number;
  kind: string;
  config: JsonValue;
  /** File name of the binary payload, relative to the checkpoint directory. */
  payload: string;
  payloadBytes: number;
  payloadSha256: string;
  tensors: CheckpointTensorEntry[];
  /** ISO time of the save (informational). */
  savedAt: string;
  /** Hex SHA-256 of the manifest's JSON without this field. */
  manifestSha256: string;
}

/** Options for {@link saveCheckpoint}. */
export interface SaveCheckpointOptions {
  /**
   * Test hook: called after the new payload and the temporary manifest are on disk and just before the manifest
   * is swapped in. If it throws (or the process dies here), the previous checkpoint stays the one that loads.
   */
  beforeCommit?: () => void;
  /**
   * How float32 tensors are stored (see {@link CheckpointStorage}): `'float32'` (default) or `'float16'`. A value
   * beyond float16's range (|x| > 65504) is refused, naming the tensor. int32 tensors are stored exactly either way.
   */
  storage?: CheckpointStorage;
}

const SAVE_CHECKPOINT_OPTION_KEYS = optionKeys<SaveCheckpointOptions>({ beforeCommit: true, storage: true });

const FORMAT = 'genlab-checkpoint' as const;
/** The format version written without float16 tensors (and read by every genlab since checkpoints exist). */
const VERSION = 1;
/** The format version written when some tensor is stored as float16 (version 1 readers refuse it). */
const VERSION_FLOAT16 = 2;
const MANIFEST = 'manifest.json';
const PAYLOAD_PATTERN = /^tensors-[0-9a-f]{16}\.bin$/;
const TEMP_PATTERN = /\.tmp-[0-9a-f]+$/;

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes `bytes` to `file` and flushes it to the disk before returning. */
function writeFileDurable(file: string, bytes: Uint8Array | string): void {
  const fd = fs.openSync(file, 'w');
  try {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    let written = 0;
    while (written < buf.length) written += fs.writeSync(fd, buf, written, buf.length - written);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Flushes a directory entry (after a rename) where the platform allows it. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Not supported on every platform (e.g. Windows); the rename itself is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** JSON of the manifest without its checksum field, with stable key order (as written). */
function manifestBody(m: Omit<CheckpointManifest, 'manifestSha256'>): string {
  return JSON.stringify({
    format: m.format,
    version: m.version,
    kind: m.kind,
    config: m.config,
    payload: m.payload,
    payloadBytes: m.payloadBytes,
    payloadSha256: m.payloadSha256,
    tensors: m.tensors,
    savedAt: m.savedAt,
  });
}

/**
 * Saves `data` as a checkpoint directory `dir` (created if missing), atomically replacing a checkpoint already
 * there. Refuses to write into an existing non-empty directory that is not a genlab checkpoint.
 *
 * @example
 * await saveCheckpoint('models/rbm', { kind: 'BernoulliRBM', config: { nVisible: 784, nHidden: 16 }, tensors: { W } });
 */
export async function saveCheckpoint(dir: string, data: CheckpointData, options: SaveCheckpointOptions = {}): Promise<void> {
  assertKnownOptions('saveCheckpoint', options, SAVE_CHECKPOINT_OPTION_KEYS);
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`dir must be a non-empty path string; got ${describeValue(dir)}`);
  if (typeof data?.kind !== 'string' || data.kind.length === 0) {
    throw new TypeError(`data.kind must be a non-empty string; got ${describeValue(data?.kind)}`);
  }
  if (data.tensors === null || typeof data.tensors !== 'object') {
    throw new TypeError(`data.tensors must be an object of named tensors; got ${describeValue(data.tensors)}`);
  }
  const configJson = JSON.stringify(data.config ?? null);
  const storage = options.storage ?? 'float32';
  if (!STORAGES.includes(storage)) throw new RangeError(`storage must be one of 'float32', 'float16'; got ${describeValue(storage)}`);

  // Gather the tensors' bytes (float32 / int32, 4 bytes per element, or float16, 2; little-endian on every platform
  // Node runs on).
  const entries: CheckpointTensorEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(data.tensors)) {
    if (!(t instanceof tf.Tensor)) throw new TypeError(`data.tensors.${name} must be a tf.Tensor; got ${describeValue(t)}`);
    if (t.dtype !== 'float32' && t.dtype !== 'int32') {
      throw new TypeError(`data.tensors.${name} must have dtype float32 or int32; got ${t.dtype}`);
    }
    const values = (await t.data()) as Float32Array | Int32Array;
    const half = storage === 'float16' && t.dtype === 'float32';
    const stored = half ? toFloat16(name, values as Float32Array) : values;
    const bytes = new Uint8Array(stored.buffer.slice(stored.byteOffset, stored.byteOffset + stored.byteLength));
    const entry: CheckpointTensorEntry = { name, dtype: t.dtype, shape: [...t.shape], offset, byteLength: bytes.byteLength, sha256: sha256(bytes) };
    if (half) entry.storage = 'float16';
    entries.push(entry);
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const payloadBytes = Buffer.concat(chunks);
  const payloadSha256 = sha256(payloadBytes);
  const payloadName = `tensors-${payloadSha256.slice(0, 16)}.bin`;

  // The target must be absent, empty, or a genlab checkpoint: never clobber someone else's files.
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new Error(`cannot save checkpoint: ${dir} exists and is not a directory`);
    const present = fs.readdirSync(dir);
    if (present.length > 0 && !present.includes(MANIFEST) && !present.every((f) => PAYLOAD_PATTERN.test(f) || TEMP_PATTERN.test(f))) {
      throw new Error(`cannot save checkpoint: ${dir} is a non-empty directory without ${MANIFEST}; refusing to overwrite it`);
    }
  } else {
    fs.mkdirSync(dir, { recursive: true });
  }

  const tag = randomBytes(6).toString('hex');
  // 1. The payload under a temporary name, flushed, then renamed to its content-addressed name. If a file of that
  //    name exists it has the same content (same hash), so the rename never changes what the old manifest reads.
  const payloadTemp = path.join(dir, `${payloadName}.tmp-${tag}`);
  writeFileDurable(payloadTemp, payloadBytes);
  fs.renameSync(payloadTemp, path.join(dir, payloadName));

  // 2. The manifest to a temporary file, flushed.
  const body = {
    format: FORMAT,
    version: entries.some((e) => e.storage === 'float16') ? VERSION_FLOAT16 : VERSION,
    kind: data.kind,
    config: JSON.parse(configJson) as JsonValue,
    payload: payloadName,
    payloadBytes: payloadBytes.byteLength,
    payloadSha256,
    tensors: entries,
    savedAt: new Date().toISOString(),
  };
  const manifest: CheckpointManifest = { ...body, manifestSha256: sha256(manifestBody(body)) };
  const manifestTemp = path.join(dir, `${MANIFEST}.tmp-${tag}`);
  writeFileDurable(manifestTemp, JSON.stringify(manifest, null, 1) + '\n');
  fsyncDir(dir);

  try {
    options.beforeCommit?.();
  } catch (err) {
    fs.rmSync(manifestTemp, { force: true });
    throw err;
  }

  // 3. Commit: one atomic rename. From here on the new checkpoint is the one that loads.
  fs.renameSync(manifestTemp, path.join(dir, MANIFEST));
  fsyncDir(dir);

  // 4. Tidy up payloads the new manifest does not reference and temporaries left by earlier crashed saves.
  for (const f of fs.readdirSync(dir)) {
    if ((PAYLOAD_PATTERN.test(f) && f !== payloadName) || TEMP_PATTERN.test(f)) fs.rmSync(path.join(dir, f), { force: true });
  }
}

function corrupt(file: string, why: string): Error {
  return new Error(`corrupted checkpoint: ${file} ${why}; the file was damaged or only partly written -- save the model again`);
}

/** Reads and verifies `dir/manifest.json` (format, version, own checksum). */
export function readCheckpointManifest(dir: string): CheckpointManifest {
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`dir must be a non-empty path string; got ${describeValue(dir)}`);
  const file = path.join(dir, MANIFEST);
  if (!fs.existsSync(file)) {
    throw new Error(`no checkpoint at ${dir}: ${file} not found (save a model there first, e.g. await model.save('${dir}'))`);
  }
  const text = fs.readFileSync(file, 'utf8');
  let m: CheckpointManifest;
  try {
    m = JSON.parse(text) as CheckpointManifest;
  } catch {
    throw corrupt(file, `is not valid JSON (${text.length} bytes)`);
  }
  if (m === null || typeof m !== 'object' || m.format !== FORMAT) throw corrupt(file, `is not a ${FORMAT} manifest`);
  if (m.version !== VERSION && m.version !== VERSION_FLOAT16) {
    throw new Error(`${file} has checkpoint format version ${String(m.version)}; this genlab reads versions ${VERSION} and ${VERSION_FLOAT16}`);
  }
  if (typeof m.manifestSha256 !== 'string' || sha256(manifestBody(m)) !== m.manifestSha256) {
    throw corrupt(file, 'fails its checksum');
  }
  return m;
}

/**
 * Loads and verifies a checkpoint written by {@link saveCheckpoint}. With `expectedKind`, refuses a checkpoint of
 * another kind. The returned tensors belong to the caller (dispose them).
 */
export async function loadCheckpoint(dir: string, expectedKind?: string): Promise<CheckpointData & { manifest: CheckpointManifest }> {
  await ready(); // loading is an entry point: the tensors it makes need the backend
  const manifest = readCheckpointManifest(dir);
  if (expectedKind !== undefined && manifest.kind !== expectedKind) {
    const an = (word: string) => `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;
    throw new Error(`checkpoint at ${dir} holds ${an(String(manifest.kind))}, not ${an(expectedKind)}`);
  }
  if (typeof manifest.payload !== 'string' || !PAYLOAD_PATTERN.test(manifest.payload)) {
    throw corrupt(path.join(dir, MANIFEST), `names an invalid payload file ${describeValue(manifest.payload)}`);
  }
  const payloadFile = path.join(dir, manifest.payload);
  if (!fs.existsSync(payloadFile)) throw corrupt(payloadFile, 'is missing');
  const bytes = fs.readFileSync(payloadFile);
  if (bytes.byteLength !== manifest.payloadBytes) {
    const how = bytes.byteLength < manifest.payloadBytes ? 'is truncated' : 'is too long';
    throw corrupt(payloadFile, `${how}: expected ${manifest.payloadBytes} bytes, found ${bytes.byteLength}`);
  }
  if (sha256(bytes) !== manifest.payloadSha256) throw corrupt(payloadFile, 'fails its SHA-256 checksum');

  const tensors: Record<string, tf.Tensor> = {};
  try {
    for (const e of manifest.tensors) {
      const size = e.shape.reduce((p, d) => p * d, 1);
      const half = e.storage === 'float16';
      if ((half && e.dtype !== 'float32') || (e.storage !== undefined && !half)) {
        throw corrupt(path.join(dir, MANIFEST), `gives tensor '${e.name}' an unknown storage ${describeValue(e.storage)} for dtype ${e.dtype}`);
      }
      if (e.byteLength !== size * (half ? 2 : 4) || e.offset < 0 || e.offset + e.byteLength > bytes.byteLength) {
        throw corrupt(payloadFile, `has an inconsistent entry for tensor '${e.name}'`);
      }
      const slice = bytes.subarray(e.offset, e.offset + e.byteLength);
      if (sha256(slice) !== e.sha256) throw corrupt(payloadFile, `fails the checksum of tensor '${e.name}'`);
      const copy = new Uint8Array(slice).buffer; // aligned copy
      const values = e.dtype === 'int32' ? new Int32Array(copy) : half ? fromFloat16(new Uint16Array(copy)) : new Float32Array(copy);
      tensors[e.name] = tf.tensor(values, e.shape, e.dtype);
    }
  } catch (err) {
    for (const t of Object.values(tensors)) t.dispose();
    throw err;
  }
  return { kind: manifest.kind, config: manifest.config, tensors, manifest };
}

// ---------------------------------------------------------------------------------------------------------
// IEEE 754 half precision (binary16): 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bits nearest to float32 `value` (round to nearest, ties to even); overflow gives +-Infinity. */
function float16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff; //                                                  float32 exponent, bias 127
  const frac = x & 0x7fffff; //                                                                     23 bits
  if (exp === 0xff) return sign | 0x7c00 | (frac ? 0x200 : 0); //                               Infinity, NaN
  const e = exp - 127 + 15; //                                                          binary16 exponent field
  if (e >= 0x1f) return sign | 0x7c00; //                                                  too large: Infinity
  if (e <= 0) {
    // subnormal result: value = m * 2^-24 with m = (1.frac) * 2^(e - 1 + 10), i.e. the 24-bit significand >> (14 - e)
    if (e < -10) return sign; //                                           below half the smallest subnormal: 0
    const significand = frac | 0x800000;
    const shift = 14 - e;
    const m = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    return sign | (rest > halfway || (rest === halfway && m & 1) ? m + 1 : m);
  }
  const h = (e << 10) | (frac >>> 13);
  const rest = frac & 0x1fff; //                                                   the 13 bits rounded away
  // rounding up may carry into the exponent, which is right (up to Infinity at the top)
  return sign | (rest > 0x1000 || (rest === 0x1000 && h & 1) ? h + 1 : h);
}

/** The value of binary16 bits `h`. */
function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24; //                                                  zero, subnormal
  if (e === 0x1f) return f ? NaN : sign * Infinity;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** Largest finite binary16 value. */
const FLOAT16_MAX = 65504;

/** float32 values as binary16 bits; refuses values beyond float16's range (they would become Infinity). */
function toFloat16(name: string, values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Math.abs(v) > FLOAT16_MAX) {
      throw new RangeError(`data.tensors.${name} has a value ${v} beyond float16's range (|x| <= ${FLOAT16_MAX}) at index ${i}; store it as float32`);
    }
    out[i] = float16Bits(v);
  }
  return out;
}

/** binary16 bits back to float32 values (exact: every binary16 value is a float32 value). */
function fromFloat16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = float16Value(bits[i]);
  return out;
}
