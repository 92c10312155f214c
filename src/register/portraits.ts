/**
 * Synthetic licence portraits: four 16×16 baseline JPEGs (SOF0, 4:2:0, Huffman-optimised, no metadata),
 * about 400 bytes each, drawn as a head and shoulders on a plain background (skin, hair, clothing and
 * background differ per variant). Generated once with sharp (libjpeg, quality 75, progressive off) from
 * raw RGB pixels and embedded here so the Worker has no image dependency; every one starts with FFD8
 * (SOI), ends with FFD9 (EOI) and decodes (test/register/register.test.ts checks the markers and
 * Huffman-decodes every block of each).
 *
 * Synthetic people only: nobody's face is in this repository.
 */
const PORTRAITS_BASE64: readonly string[] = [
  // variant 0
  "/9j/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/" +
    "2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAAR" +
    "CAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAAAAUG/8QAHxAAAgIBBAMAAAAAAAAAAAAAAQIDBBEABRIhByIx" +
    "/8QAFQEBAQAAAAAAAAAAAAAAAAAAAAL/xAAZEQACAwEAAAAAAAAAAAAAAAAAEwMSQUL/2gAMAwEAAhEDEQA/ANlbSfdN/NR7" +
    "c8NOrXSZo68jRtK7mRRydSDxATOBjJPfzGlVJ9r38VEtzzU7Vd5ljsSNI0ToY1PF2JPEh84OcEdfcah2PIu10bs9aSvcZ4ZG" +
    "jbii4JBx17aV/Iu13rsFaOvcV5pFjXki4BJx37atEzrchkaa6f/Z",
  // variant 1
  "/9j/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/" +
    "2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAAR" +
    "CAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAAAAUG/8QAIBAAAgIBBAMBAAAAAAAAAAAAAQIDBBEABQYSEyEx" +
    "Qv/EABQBAQAAAAAAAAAAAAAAAAAAAAT/xAAaEQACAgMAAAAAAAAAAAAAAAAAExEhASIy/9oADAMBAAIRAxEAPwDScks3b3JF" +
    "29b1itRrVksMlWRonmd2kUdnUg9VCZ6jGScnOANON2btHkjbe16xZo2az2FS1I0rwujRqersSerB89TnBGRjJGpm7882dbU1" +
    "OaC95a0rRl0RCMg4P6+etNo55s7WoacMF7y2ZVjDuiAZJwP1896LuyZoajKebP/Z",
  // variant 2
  "/9j/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/" +
    "2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAAR" +
    "CAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAAAAYH/8QAHxAAAgIBBAMAAAAAAAAAAAAAAQIDBBEAEiEiBQdB" +
    "/8QAFQEBAQAAAAAAAAAAAAAAAAAAAQT/xAAaEQACAgMAAAAAAAAAAAAAAAAAEgETAhFB/9oADAMBAAIRAxEAPwDTe1myUMjL" +
    "HGobahILE5HJHzjTtWshBIzRyKW2uSSpGBwT851Jy+wfHULk9eSvbZonaNtqrgkHHHbSL2D46/cgrx17atK6xruVcAk457aj" +
    "SW2NuFS9P//Z",
  // variant 3
  "/9j/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/" +
    "2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAAR" +
    "CAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAAAAMF/8QAHxAAAgICAgMBAAAAAAAAAAAAAQIDBAURAAYSITEi" +
    "/8QAFAEBAAAAAAAAAAAAAAAAAAAABP/EABgRAAIDAAAAAAAAAAAAAAAAAAASAxFB/9oADAMBAAIRAxEAPwDV7tlcg2dhx8F2" +
    "atVirrOwru0byOzOv6dSD4gL8Gtk+96HHScrkFzs2PnuzWastdp1Fh2keN1ZF/LsSfEhvh3oj1rZ5PsOexV52qzJbSetIyCR" +
    "UUj7o+vIbB1x17PYqi61YUtvPZkVDIyKB90PXkdAb4ZJGvBTxpWn/9k=",
];

function decodeBase64(b64: string): Uint8Array {
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The decoded variants, shared (read-only by convention: copy before mutating). */
export const PORTRAITS: readonly Uint8Array[] = PORTRAITS_BASE64.map(decodeBase64);

export const PORTRAIT_WIDTH = 16;
export const PORTRAIT_HEIGHT = 16;
