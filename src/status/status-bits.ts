import { STATUS_BITS, isStatusValue, type StatusValue } from "./status-values";

/**
 * The status array of draft-ietf-oauth-status-list §4.1 with 2 bits per entry: entry i lives in byte
 * floor(i / 4), at bit offset 2 * (i mod 4) counted from the least significant bit.
 */
const PER_BYTE = 8 / STATUS_BITS;
const MASK = (1 << STATUS_BITS) - 1;

/** A zeroed array for `size` entries (all valid) with the given non-zero entries set. */
export function packStatuses(size: number, entries: Iterable<readonly [idx: number, status: StatusValue]>): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(size / PER_BYTE));
  for (const [idx, status] of entries) {
    if (!Number.isInteger(idx) || idx < 0 || idx >= size) throw new RangeError(`status index ${idx} is outside the list`);
    const shift = (idx % PER_BYTE) * STATUS_BITS;
    const at = Math.floor(idx / PER_BYTE);
    bytes[at] = (bytes[at]! & ~(MASK << shift)) | (status << shift);
  }
  return bytes;
}

/** Entry `idx` of a packed array. */
export function statusAt(bytes: Uint8Array, idx: number): StatusValue {
  const byte = bytes[Math.floor(idx / PER_BYTE)];
  if (byte === undefined || idx < 0) throw new RangeError(`status index ${idx} is outside the list`);
  const value = (byte >> ((idx % PER_BYTE) * STATUS_BITS)) & MASK;
  if (!isStatusValue(value)) throw new RangeError(`status index ${idx} holds the unused value ${value}`);
  return value;
}
