/**
 * The IDX file format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/).
 *
 * Layout (all integers big-endian):
 *   bytes 0-1  zero
 *   byte  2    data type: 0x08 = unsigned byte (the only type these data sets use)
 *   byte  3    number of dimensions r
 *   4 * r      the size of each dimension (uint32)
 *   then       prod(sizes) data bytes, row-major
 * so the magic number (first four bytes as uint32) is 2049 for a label file ([n]) and 2051 for an image
 * file ([n, 28, 28]). Files may be gzipped (as distributed); gzip is detected by its own magic bytes.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { assertKnownOptions, optionKeys } from '../lib/core/validate';

/** Magic number of an IDX label file: unsigned bytes, one dimension. */
export const IDX_LABELS_MAGIC = 0x00000801; // 2049
/** Magic number of an IDX image file: unsigned bytes, three dimensions [n, rows, cols]. */
export const IDX_IMAGES_MAGIC = 0x00000803; // 2051
/** IDX type code of unsigned bytes, the only data type genlab reads. */
export const IDX_UBYTE = 0x08;
/** Largest number of dimensions accepted (the data sets use 1 and 3). */
export const IDX_MAX_RANK = 8;

const GZIP_MAGIC = [0x1f, 0x8b] as const;
/** Default cap on the decompressed size: 1 GiB, above the 47 MB of the largest MNIST-style file. */
const DEFAULT_MAX_BYTES = 1 << 30;

/** The contents of an IDX file. */
export interface IdxData {
  /** Size of each dimension, e.g. `[60000, 28, 28]` for an image file or `[60000]` for a label file. */
  shape: number[];
  /** The values, row-major, `shape` multiplied out in length. A view into the file's bytes (no copy). */
  data: Uint8Array;
}

/** Options for {@link readIdx} and {@link parseIdx}. */
export interface ReadIdxOptions {
  /** Refuse files that decompress to more than this many bytes (default 1 GiB): guards against gzip bombs. */
  maxBytes?: number;
  /** When set, the file must have exactly this many dimensions (1 for labels, 3 for images). */
  rank?: number;
}

const READ_IDX_OPTION_KEYS = optionKeys<ReadIdxOptions>({ maxBytes: true, rank: true });

/** Error thrown for a file that is not a valid IDX file; the message names the file and the problem. */
export class IdxFormatError extends Error {
  constructor(
    /** The file (or label) that failed to parse. */
    readonly file: string,
    /** What is wrong with it. */
    readonly problem: string,
  ) {
    super(`${file}: not a valid IDX file: ${problem}`);
    this.name = 'IdxFormatError';
  }
}

/**
 * Reads an IDX file, gzipped (`.gz`, detected by content) or raw, and checks its header.
 *
 * Errors name the file and the problem (missing, truncated, wrong magic, unsupported type, size mismatch);
 * nothing is allocated beyond the file itself and its decompressed size (capped by `maxBytes`).
 */
export function readIdx(file: string, opts: ReadIdxOptions = {}): IdxData {
  assertKnownOptions('readIdx', opts, READ_IDX_OPTION_KEYS);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read IDX file: ${(e as Error).message}`);
  }
  return parseIdx(bytes, file, opts);
}

/** Parses the bytes of an IDX file (gzipped or raw); `name` is used in error messages. */
export function parseIdx(bytes: Uint8Array, name = 'IDX data', opts: ReadIdxOptions = {}): IdxData {
  assertKnownOptions('parseIdx', opts, READ_IDX_OPTION_KEYS);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  let raw = bytes;
  if (bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    try {
      raw = zlib.gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (e) {
      const tooBig = (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
      const problem = tooBig ? `decompresses to more than maxBytes ${maxBytes} bytes` : `corrupt or truncated gzip data (${(e as Error).message})`;
      throw new IdxFormatError(name, problem);
    }
  } else if (bytes.length > maxBytes) {
    throw new IdxFormatError(name, `${bytes.length} bytes is more than maxBytes ${maxBytes}`);
  }
  if (raw.length < 4) throw new IdxFormatError(name, `only ${raw.length} bytes; a header needs at least 4`);
  if (raw[0] !== 0 || raw[1] !== 0) {
    throw new IdxFormatError(name, `bad magic number 0x${hex(raw, 0, 4)} (should start with two zero bytes)`);
  }
  const type = raw[2];
  const rank = raw[3];
  if (type !== IDX_UBYTE) {
    throw new IdxFormatError(name, `data type 0x${type.toString(16).padStart(2, '0')} is not supported (only unsigned bytes, 0x08)`);
  }
  if (rank < 1 || rank > IDX_MAX_RANK) throw new IdxFormatError(name, `${rank} dimensions (expected 1 to ${IDX_MAX_RANK})`);
  if (opts.rank !== undefined && rank !== opts.rank) {
    throw new IdxFormatError(name, `${rank} dimensions where ${opts.rank} were expected`);
  }
  const headerLength = 4 + 4 * rank;
  if (raw.length < headerLength) {
    throw new IdxFormatError(name, `truncated header: ${raw.length} bytes, ${rank} dimensions need ${headerLength}`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const shape: number[] = [];
  let size = 1; // a float product: no overflow wrap-around, compared against the real length below
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    size *= d;
  }
  const available = raw.length - headerLength;
  if (size !== available) {
    const what = size > available ? 'truncated' : 'trailing bytes';
    throw new IdxFormatError(name, `${what}: shape [${shape.join(', ')}] needs ${size} data bytes, file has ${available}`);
  }
  return { shape, data: raw.subarray(headerLength) };
}

/** Encodes unsigned bytes as an (uncompressed) IDX file; the inverse of {@link parseIdx}. */
export function encodeIdx(shape: readonly number[], data: Uint8Array): Uint8Array {
  if (shape.length < 1 || shape.length > IDX_MAX_RANK) throw new RangeError(`shape must have 1 to ${IDX_MAX_RANK} dimensions; got ${shape.length}`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new RangeError(`data has ${data.length} values; shape [${shape.join(', ')}] needs ${size}`);
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = IDX_UBYTE;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}

function hex(b: Uint8Array, start: number, end: number): string {
  return Array.from(b.subarray(start, end), (x) => x.toString(16).padStart(2, '0')).join('');
}
