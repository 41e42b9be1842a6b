/**
 * The SASL responses of connection.start-ok that RabbitMQ accepts by default: PLAIN
 * (RFC 4616: `[authzid] NUL user NUL password`) and AMQPLAIN (a field table without its length
 * prefix, with LOGIN and PASSWORD). The broker checks the credentials; this only reads them.
 */
import codec from "amqplib/lib/codec.js";

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export function parseCredentials(mechanism: string, response: Buffer): Credentials | null {
  if (mechanism === "PLAIN") {
    const parts = response.toString("utf8").split("\u0000");
    if (parts.length !== 3) return null;
    const [, user = "", password = ""] = parts;
    return user === "" ? null : { user, password };
  }
  if (mechanism === "AMQPLAIN") {
    let fields: Record<string, unknown>;
    try {
      fields = codec.decodeFields(response);
    } catch {
      return null;
    }
    const text = (value: unknown): string =>
      typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString("utf8") : "";
    const user = text(fields.LOGIN);
    return user === "" ? null : { user, password: text(fields.PASSWORD) };
  }
  return null;
}
