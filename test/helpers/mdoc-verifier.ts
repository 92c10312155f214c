import { CoseKey, Curve, KeyType, type MdocContext } from "@owf/mdoc";

/**
 * Verifying issued mdocs with an independent implementation (@owf/mdoc, the OpenWallet Foundation's
 * mdoc-ts), which asks its caller for a crypto context: here WebCrypto plus @peculiar/x509 only.
 */
const EC = { name: "ECDSA", namedCurve: "P-256" };
const ES256 = { name: "ECDSA", hash: "SHA-256" };

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// @peculiar/x509 resolves algorithms through tsyringe, which refuses to load without the Reflect
// metadata API; workerd has none, so a WeakMap-backed subset is installed before the dynamic import.
export type X509 = typeof import("@peculiar/x509");
let x509: X509;
export async function loadX509(): Promise<X509> {
  const reflect = Reflect as unknown as Record<string, unknown>;
  if (typeof reflect.getMetadata !== "function") {
    const store = new WeakMap<object, Map<unknown, unknown>>();
    const own = (t: object) => store.get(t);
    reflect.defineMetadata = (k: unknown, v: unknown, t: object) => {
      if (!store.has(t)) store.set(t, new Map());
      store.get(t)!.set(k, v);
    };
    reflect.getOwnMetadata = (k: unknown, t: object) => own(t)?.get(k);
    reflect.getMetadata = (k: unknown, t: object) => {
      for (let o: object | null = t; o; o = Object.getPrototypeOf(o)) if (own(o)?.has(k)) return own(o)!.get(k);
      return undefined;
    };
  }
  const mod = await import("@peculiar/x509");
  mod.cryptoProvider.set(crypto);
  x509 = mod;
  return mod;
}

/**
 * The crypto context @owf/mdoc asks its caller for, built on WebCrypto and @peculiar/x509 only. Issuer
 * verification needs digest, COSE_Sign1 verify and the X.509 helpers; MAC and signing are never called.
 */
export function owfContext(): Pick<MdocContext, "crypto" | "cose" | "x509"> {
  const notUsed = () => {
    throw new Error("not used for issuer verification");
  };
  const cert = (der: Uint8Array) => new x509.X509Certificate(der);
  return {
    crypto: {
      random: (n) => crypto.getRandomValues(new Uint8Array(n)),
      digest: async ({ digestAlgorithm, bytes }) => new Uint8Array(await crypto.subtle.digest(digestAlgorithm, bytes)),
      calculateEphemeralMacKey: notUsed,
    },
    cose: {
      sign1: {
        sign: notUsed,
        async verify({ key, sign1 }) {
          if (sign1.signatureAlgorithmName !== "ES256") return false;
          const publicKey = await crypto.subtle.importKey("raw", key.publicKey, EC, false, ["verify"]);
          return crypto.subtle.verify(ES256, publicKey, sign1.signature, sign1.toBeSigned);
        },
      },
      mac0: { sign: notUsed, verify: notUsed },
    },
    x509: {
      // Credo and mdoc-ts read the certificate's *issuer* name here (hence the name); ISO 18013-5 wants
      // issuing_country to match the DS *subject* C=. Both are FR in our chain (checked above).
      getIssuerNameField: ({ certificate, field }) => cert(certificate).issuerName.getField(field),
      async getPublicKey({ certificate, alg }) {
        if (alg !== "ES256") throw new Error(`unexpected alg ${alg}`);
        const key = await cert(certificate).publicKey.export(EC, ["verify"]);
        const raw = new Uint8Array((await crypto.subtle.exportKey("raw", key)) as ArrayBuffer);
        return CoseKey.create({ keyType: KeyType.Ec, curve: Curve["P-256"], x: raw.slice(1, 33), y: raw.slice(33, 65) });
      },
      async verifyCertificateChain({ trustedCertificates, x5chain, now = new Date() }) {
        const chain = x5chain.map(cert);
        const anchors = trustedCertificates.map(cert);
        const within = (c: InstanceType<X509["X509Certificate"]>) => c.notBefore <= now && now <= c.notAfter;
        for (const c of chain) if (!within(c)) throw new Error(`certificate not valid at ${now.toISOString()}: ${c.subject}`);
        for (let i = 0; i + 1 < chain.length; i++) {
          if (!(await chain[i]!.verify({ publicKey: chain[i + 1]!.publicKey, signatureOnly: true }))) throw new Error("broken chain");
        }
        const last = chain[chain.length - 1]!;
        let anchor: InstanceType<X509["X509Certificate"]> | undefined;
        for (const a of anchors) {
          if (a.subject === last.issuer && (await last.verify({ publicKey: a.publicKey, signatureOnly: true }))) anchor = a;
        }
        if (!anchor) throw new Error("no trusted IACA issued this certificate");
        if (!within(anchor)) throw new Error("IACA not valid now");
        if (!anchor.getExtension(x509.BasicConstraintsExtension)?.ca) throw new Error("trust anchor is not a CA");
        const eku = chain[0]!.getExtension(x509.ExtendedKeyUsageExtension);
        if (!eku?.usages.includes("1.0.18013.5.1.2")) throw new Error("leaf is not an mDL Document Signer");
      },
      async getCertificateData({ certificate }) {
        const c = cert(certificate);
        return {
          issuerName: c.issuer,
          subjectName: c.subject,
          serialNumber: c.serialNumber,
          thumbprint: hex(new Uint8Array(await c.getThumbprint("SHA-256"))),
          notBefore: c.notBefore,
          notAfter: c.notAfter,
          pem: c.toString("pem"),
        };
      },
    },
  };
}
