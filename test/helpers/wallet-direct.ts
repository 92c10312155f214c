import { ORIGIN } from "./api";
import { newDevice, type Device } from "./device";
import { sendWithDpopNonce } from "./dpop-nonce";
import { accessProof, keyProof, nonce } from "./wallet";

/** A credential request sent through a given fetch (e.g. the app with overridden bindings). */
export async function withAccessVia(
  fetcher: (req: Request) => Promise<Response>,
  device: Device,
  accessToken: string,
  configuration: string,
): Promise<Response> {
  const url = `${ORIGIN}/credential`;
  const key = await newDevice();
  const body = JSON.stringify({ credential_configuration_id: configuration, proofs: { jwt: [await keyProof(key, await nonce())] } });
  return sendWithDpopNonce(async (dpopNonce) =>
    fetcher(
      new Request(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `DPoP ${accessToken}`,
          dpop: await accessProof(device, url, accessToken, dpopNonce),
        },
        body,
      }),
    ),
  );
}
