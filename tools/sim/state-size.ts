/**
 * Storage per person in line, MODELED (not measured) from the row layout of durable-objects/
 * queue-shard.ts and SQLite's record format: a `tickets` row plus its two index entries.
 *
 * tickets (rowid table, seq is the rowid):
 *   person    TEXT  base64url HMAC-SHA-256 = 43 bytes
 *   jkt       TEXT  base64url SHA-256 thumbprint = 43 bytes
 *   a         INT   epoch ms (< 2^47): 6-byte integer
 *   joined_at INT   epoch ms: 6 bytes
 *   record header: 1 length byte + 5 serial types (seq stored as NULL: it is the rowid)
 *   cell: payload-length varint + rowid varint (≤ 3 bytes below 2 M seq) + 2-byte cell pointer
 * UNIQUE(person) index entry: header + person + rowid, cell overhead as above.
 * tickets_by_order (a, seq) entry: header + a + seq + rowid.
 * Page fill: appends in rowid/(a, seq) order leave pages nearly full (SQLite splits the rightmost page
 * unevenly for appends); person pseudonyms are random, so that index settles near 70 % full.
 */
export interface StateSizeModel {
  readonly label: "modeled, not measured";
  readonly rowBytes: number;
  readonly personIndexBytes: number;
  readonly orderIndexBytes: number;
  /** All three, divided by their page fill. */
  readonly bytesPerTicket: number;
  /** The coordinator's waiting_seconds row, shared by everyone stamped in that second. */
  readonly coordinatorBytesPerSecondBucket: number;
}

const PSEUDONYM = 43;
const THUMBPRINT = 43;
const EPOCH_MS_INT = 6;
const ROWID_VARINT = 3;
const CELL_POINTER = 2;
const PAYLOAD_LENGTH_VARINT = 1;
const APPEND_FILL = 0.95;
const RANDOM_FILL = 0.7;

export function stateSizeModel(): StateSizeModel {
  const row = 6 + PSEUDONYM + THUMBPRINT + EPOCH_MS_INT + EPOCH_MS_INT + PAYLOAD_LENGTH_VARINT + ROWID_VARINT + CELL_POINTER;
  const person = 3 + PSEUDONYM + ROWID_VARINT + PAYLOAD_LENGTH_VARINT + CELL_POINTER;
  // seq as a 3-byte int, then the rowid (= seq) again: an index entry always ends with the rowid.
  const order = 4 + EPOCH_MS_INT + 3 + ROWID_VARINT + PAYLOAD_LENGTH_VARINT + CELL_POINTER;
  return {
    label: "modeled, not measured",
    rowBytes: row,
    personIndexBytes: person,
    orderIndexBytes: order,
    bytesPerTicket: Math.round(row / APPEND_FILL + person / RANDOM_FILL + order / APPEND_FILL),
    // (second INTEGER PRIMARY KEY, n INTEGER): rowid varint + header + n, plus the cell pointer.
    coordinatorBytesPerSecondBucket: 5 + 3 + 3 + CELL_POINTER,
  };
}
