/**
 * `workers-broker amqp --broker https://... [--port 5672] [--host 127.0.0.1] [--lookahead 10]`: the AMQP 0-9-1
 * bridge in front of a broker. `npm run amqp` starts it in front of `npm start`.
 */
import { parseArgs } from "node:util";
import { startBridge, VERSION } from "./server.ts";

const USAGE = `usage: workers-broker amqp --broker <http(s)://host[:port]> [--port 5672] [--host 127.0.0.1]
                     [--lookahead 10]

Listens for AMQP 0-9-1 clients (amqplib, pika, the Java and .NET clients) and drives the broker
over its HTTP and WebSocket APIs. Clients log in with their broker user name and password.
--lookahead N: each consumer takes up to N times its AMQP prefetch from the broker and holds the
extra deliveries until its client has room (1: exactly the prefetch; prefetch 1 is always exact).
Environment: BROKER_URL, AMQP_PORT, AMQP_HOST, AMQP_LOOKAHEAD stand in for the flags.`;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      broker: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      lookahead: { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    },
  });
  if (values.version) {
    console.log(VERSION);
    return;
  }
  const command = positionals[0] ?? "amqp";
  if (values.help || command !== "amqp") {
    console.log(USAGE);
    if (!values.help) process.exitCode = 2;
    return;
  }
  const broker = values.broker ?? process.env.BROKER_URL ?? "http://localhost:8787";
  const port = Number(values.port ?? process.env.AMQP_PORT ?? "5672");
  const host = values.host ?? process.env.AMQP_HOST ?? "127.0.0.1";
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError(`not a port: ${values.port}`);
  const lookaheadText = values.lookahead ?? process.env.AMQP_LOOKAHEAD;
  const lookahead = lookaheadText === undefined ? undefined : Number(lookaheadText);
  const bridge = await startBridge({
    broker,
    port,
    host,
    ...(lookahead === undefined ? {} : { lookahead }),
    log: (line) => console.log(`[amqp] ${line}`),
  });
  console.log(`AMQP 0-9-1 bridge on amqp://${bridge.host}:${bridge.port} -> ${broker}`);
  const stop = () => {
    console.log("stopping: closing AMQP connections");
    void bridge.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (import.meta.main ?? process.argv[1] === new URL(import.meta.url).pathname) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
