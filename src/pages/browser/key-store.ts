import type { KeyPairStore } from "../../../client/index";

/**
 * The device key pair kept in IndexedDB, which stores CryptoKey objects by structured clone: the
 * private key stays non-extractable, script can sign with it but never read it, and it survives
 * reloads, so a person who comes back to the page is the same device the ticket is bound to.
 */
const DB_NAME = "antichambre";
const STORE = "keys";
const KEY = "device-key";

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function openDb(): Promise<IDBDatabase> {
  const r = indexedDB.open(DB_NAME, 1);
  r.onupgradeneeded = () => r.result.createObjectStore(STORE);
  return request(r);
}

async function withStore<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    const tx = db.transaction(STORE, mode);
    const result = await request(fn(tx.objectStore(STORE)));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    return result;
  } finally {
    db.close();
  }
}

export const indexedDbKeyPairStore: KeyPairStore = {
  async load() {
    const pair = (await withStore("readonly", (s) => s.get(KEY))) as CryptoKeyPair | undefined;
    return pair?.privateKey && pair.publicKey ? pair : null;
  },
  async save(pair) {
    await withStore("readwrite", (s) => s.put({ privateKey: pair.privateKey, publicKey: pair.publicKey }, KEY));
  },
  async clear() {
    await withStore("readwrite", (s) => s.delete(KEY));
  },
};
