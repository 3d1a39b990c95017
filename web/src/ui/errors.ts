// Where an error of the API belongs on the page. A refused PATCH names the
// failing items by their index in the body that was sent
// (customerUserLicenses[2].skuId); the page maps the index back to the
// SKU it sent there, so the message appears on that SKU's row. Everything
// else (a header, the provider instance, the body as a whole) goes to the
// top of the page.
import type { ErrorBody } from "./api";

export interface Placed {
  /** Messages by the skuId of the row they belong to. */
  rows: Map<string, string[]>;
  /** Messages for the top of the page, each prefixed by its property. */
  general: string[];
}

const item = /^customerUserLicenses\[(\d+)\](?:\.|$)/;

export function placeErrors(body: ErrorBody | undefined, sentSkuIds: readonly string[]): Placed {
  const placed: Placed = { rows: new Map(), general: [] };
  for (const e of body?.errors ?? []) {
    const name = e.propertyName ?? "";
    const messages = e.description?.length ? e.description : ["Invalid."];
    const m = item.exec(name);
    const sku = m ? sentSkuIds[Number(m[1])] : undefined;
    if (sku !== undefined) {
      placed.rows.set(sku, [...(placed.rows.get(sku) ?? []), ...messages]);
      continue;
    }
    for (const msg of messages) placed.general.push(name ? `${name}: ${msg}` : msg);
  }
  return placed;
}
