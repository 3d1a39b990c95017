// Starts Swagger UI on the spec this server embeds. "Try it out" sends
// requests to this server only: the spec's own servers (a local default
// and the published API) are replaced by the address the page came from,
// which is also the only one the page's Content-Security-Policy allows.
declare const SwaggerUIBundle: (options: Record<string, unknown>) => unknown;

interface Spec {
  servers?: { url: string; description?: string }[];
}

async function start(): Promise<void> {
  // The page is /docs, so "." is the server's root (or a proxy's prefix).
  const root = new URL(".", document.baseURI).href.replace(/\/$/, "");
  const target = document.getElementById("swagger-ui");
  try {
    const res = await fetch(new URL("openapi.json", document.baseURI), { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(`GET openapi.json answered ${res.status}`);
    const spec = (await res.json()) as Spec;
    spec.servers = [{ url: root, description: "This licensesd" }];
    SwaggerUIBundle({
      spec,
      dom_id: "#swagger-ui",
      deepLinking: true,
      // No call to the public validator: nothing leaves this server.
      validatorUrl: null,
      displayRequestDuration: true,
      tryItOutEnabled: false,
      persistAuthorization: false,
    });
  } catch (err) {
    if (target) target.textContent = `The API reference could not load the spec: ${String(err)}`;
  }
}

void start();
