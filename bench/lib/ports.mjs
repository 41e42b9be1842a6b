// Free ports on 127.0.0.1 (never a fixed one: the machine is shared). Node built-ins only.

import net from "node:net";
import { HOST } from "./common.mjs";

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/** `count` consecutive free ports (first one returned), tried at most 50 times. */
export async function freePortBlock(count) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portIsFree(p);
    if (ok) return base;
  }
  throw new Error(`no block of ${count} free ports found on ${HOST}`);
}
