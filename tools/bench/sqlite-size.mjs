// @ts-check
// How big a Durable Object's SQLite database is, read from its files on disk.
//
// workerd keeps each object's database in WAL mode: `<id>.sqlite` plus `<id>.sqlite-wal`. The WAL file is
// reused in place after each checkpoint (about every 1,000 pages), so its size is a high-water mark of
// about 4 MB per object, whatever the object holds; and the main file lags behind the pages still waiting
// in the WAL. Neither file alone is "the state". What SQLite itself calls the database size is the page
// count after the last commit times the page size: that is what the main file will be once checkpointed.
// It is read here without opening the database (so without touching the running objects):
//   - the last valid commit frame of the WAL (its header carries the database size in pages after that
//     commit; frames of earlier WAL generations carry other salts and are ignored), or, if the WAL holds
//     no commit of the current generation,
//   - the main file's header (page size at byte 16, page count at byte 28).
// File formats: https://www.sqlite.org/fileformat2.html (sections 1.3 and 4).
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";

const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/**
 * `length` bytes at `position`, or null when the file is shorter.
 * @param {number} fd
 * @param {number} position
 * @param {number} length
 */
function readAt(fd, position, length) {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, position);
  return n === length ? buf : null;
}

/**
 * {pageSize, pages} from the main file's header, or null if there is no usable header.
 * @param {string} path
 */
function mainHeader(path) {
  if (!existsSync(path)) return null;
  const fd = openSync(path, "r");
  try {
    const h = readAt(fd, 0, 100);
    if (!h || h.toString("latin1", 0, 15) !== "SQLite format 3") return null;
    const raw = h.readUInt16BE(16);
    const pageSize = raw === 1 ? 65536 : raw;
    const fileBytes = fstatSync(fd).size;
    // The in-header size is valid only when the change counter matches "version-valid-for" (byte 92).
    const pages =
      h.readUInt32BE(24) === h.readUInt32BE(92) && h.readUInt32BE(28) > 0 ? h.readUInt32BE(28) : Math.floor(fileBytes / pageSize);
    return { pageSize, pages };
  } finally {
    closeSync(fd);
  }
}

/**
 * Database size in pages after the WAL's last commit of its current generation, or null.
 * @param {string} path
 */
function walCommittedPages(path) {
  if (!existsSync(path)) return null;
  const fd = openSync(path, "r");
  try {
    const h = readAt(fd, 0, WAL_HEADER);
    if (!h) return null;
    const magic = h.readUInt32BE(0);
    if (magic !== 0x377f0682 && magic !== 0x377f0683) return null;
    const pageSize = h.readUInt32BE(8);
    const salt1 = h.readUInt32BE(16);
    const salt2 = h.readUInt32BE(20);
    const size = fstatSync(fd).size;
    /** @type {{ pageSize: number, pages: number } | null} */
    let last = null;
    for (let at = WAL_HEADER; at + FRAME_HEADER + pageSize <= size; at += FRAME_HEADER + pageSize) {
      const f = readAt(fd, at, FRAME_HEADER);
      if (!f || f.readUInt32BE(8) !== salt1 || f.readUInt32BE(12) !== salt2) break; // end of this generation
      const commitPages = f.readUInt32BE(4);
      if (commitPages > 0) last = { pageSize, pages: commitPages };
    }
    return last;
  } finally {
    closeSync(fd);
  }
}

/**
 * Logical size in bytes of the database whose main file is `mainPath` (0 if it does not exist yet).
 * @param {string} mainPath
 */
export function databaseBytes(mainPath) {
  const wal = walCommittedPages(`${mainPath}-wal`);
  if (wal) return wal.pages * wal.pageSize;
  const main = mainHeader(mainPath);
  return main ? main.pages * main.pageSize : 0;
}
