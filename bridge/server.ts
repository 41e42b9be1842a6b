/**
 * The bridge's TCP server: one AmqpConnection per accepted socket, all in front of one broker.
 *
 *   const bridge = await startBridge({ broker: "http://localhost:8787", port: 5672 });
 *   ...
 *   await bridge.close();
 */
import net from "node:net";
import { AmqpConnection } from "./connection.ts";
import { ExclusiveQueues } from "./exclusive-queues.ts";

export interface BridgeOptions {
  /** The broker's HTTP(S) origin, e.g. `https://broker.example.workers.dev`. */
  readonly broker: string;
  /** 5672 by default; 0 picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Proposed in connection.tune, as RabbitMQ's defaults. */
  readonly heartbeat?: number;
  readonly frameMax?: number;
  readonly channelMax?: number;
  /**
   * A consumer takes up to this many times its AMQP prefetch from the broker and holds the
   * extra deliveries until the client has room (default 10; 1 takes exactly the prefetch). The
   * client never holds more than its prefetch.
   */
  readonly lookahead?: number;
  readonly log?: (line: string) => void;
}

export interface Bridge {
  readonly port: number;
  readonly host: string;
  /** Closes every AMQP connection (320 CONNECTION_FORCED) and stops listening. */
  close(): Promise<void>;
}

export const VERSION = "0.1.0";

/** Measured with `npm run bench:amqp` (docs/amqp-bridge.md, "Performance"). */
export const DEFAULT_LOOKAHEAD = 10;

export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const broker = new URL(options.broker);
  if (broker.protocol !== "http:" && broker.protocol !== "https:") {
    throw new TypeError(`--broker must be an http: or https: URL, not ${options.broker}`);
  }
  const lookahead = options.lookahead ?? DEFAULT_LOOKAHEAD;
  if (!Number.isInteger(lookahead) || lookahead < 1 || lookahead > 100) {
    throw new TypeError(`lookahead must be an integer from 1 to 100, not ${lookahead}`);
  }
  const exclusiveQueues = new ExclusiveQueues();
  const connections = new Set<AmqpConnection>();
  const log = options.log ?? (() => {});
  const server = net.createServer((socket) => {
    const connection = new AmqpConnection(socket, {
      broker: broker.origin,
      exclusiveQueues,
      channelMax: options.channelMax ?? 2047,
      frameMax: options.frameMax ?? 131072,
      heartbeat: options.heartbeat ?? 60,
      lookahead,
      version: VERSION,
      log,
    });
    connections.add(connection);
    void connection.ended.then(() => connections.delete(connection));
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 5672, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port =
    typeof address === "object" && address !== null ? address.port : (options.port ?? 5672);
  return {
    port,
    host,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const ends = [...connections].map((connection) => {
        connection.shutdown();
        return connection.ended;
      });
      await Promise.race([Promise.all(ends), new Promise((resolve) => setTimeout(resolve, 5000))]);
      await closed;
    },
  };
}
