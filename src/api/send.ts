/**
 * POST /send: the article's producer (cmd/producer/producer.go) on the broker. It takes the
 * article's form fields `fromID`, `toID`, `message` (JSON bodies too), publishes the article's
 * Notification JSON to the `notifications` exchange with the recipient's id as routing key, and
 * answers once the recipient's inbox has stored it:
 *
 *   200 {"message": "Notification sent successfully!"}
 *   400 {"message": "failed to parse ID from form value fromID: strconv.Atoi: parsing \"x\": invalid syntax"}
 *   404 {"message": "User not found"}
 *
 * Extensions (JSON only): `data` (an object kept with the notification), and fan-out to many
 * recipients with `toIDs` (up to 1,000 ids) or `topic` (every inbox bound to the exchange with
 * that routing key, e.g. "followers.2"), answered once every inbox has stored it.
 */
import type { Hono } from "hono";
import { NOTIFICATION_LIMITS } from "../config";
import { BrokerError } from "../errors";
import { appendNotifications } from "../gateway/notification-topic";
import { publishMessages } from "../gateway/publish";
import { inboxStub } from "../gateway/stubs";
import type { PublishedMessage } from "../protocol/message";
import { byteLength, DEFAULT_VHOST } from "../protocol/names";
import {
  atoi,
  checkData,
  encodeNotification,
  type NotificationUser,
} from "../protocol/notification";
import { readJson } from "./body";
import type { AppContext, AppEnv } from "./context";
import { checkNotificationAccess } from "./notification-access";
import { resource } from "./routes";

const SENT = "Notification sent successfully!";
const USER_NOT_FOUND = "User not found";
/** A topic is a routing key that can never be a user id (those are digits). */
const TOPIC = /^[A-Za-z_][A-Za-z0-9_.-]{0,254}$/;
const MAX_FORM_BYTES = 64 * 1024;

type Fields = Record<string, unknown>;

/** The request's fields: a JSON object, or the form (urlencoded or multipart) as strings. */
async function readFields(c: AppContext): Promise<Fields> {
  const type = c.req.header("Content-Type") ?? "";
  if (/^application\/json\b/i.test(type)) {
    const body = await readJson(c, MAX_FORM_BYTES);
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new BrokerError("bad_request", "body must be a JSON object");
    }
    return body as Fields;
  }
  if (Number(c.req.header("Content-Length") ?? "0") > MAX_FORM_BYTES) {
    throw new BrokerError(
      "payload_too_large",
      `request body is larger than ${MAX_FORM_BYTES} bytes`,
    );
  }
  if (/^multipart\/form-data\b/i.test(type)) {
    try {
      const form = await c.req.parseBody();
      return Object.fromEntries(
        Object.entries(form).map(([key, value]) => [key, typeof value === "string" ? value : ""]),
      );
    } catch {
      throw new BrokerError("bad_request", "malformed multipart form");
    }
  }
  // curl -d sends application/x-www-form-urlencoded; Go's PostForm reads it with no type too.
  // Read as bytes: the runtime warns when text() is called on a form body.
  const text = new TextDecoder().decode(await c.req.arrayBuffer());
  if (text.length > MAX_FORM_BYTES) {
    throw new BrokerError(
      "payload_too_large",
      `request body is larger than ${MAX_FORM_BYTES} bytes`,
    );
  }
  return Object.fromEntries(new URLSearchParams(text));
}

/** The article's getIDFromRequest: Atoi on the field, its error text as the 400 reason. */
function idField(fields: Fields, name: string): number {
  return idValue(fields[name], name);
}

function idValue(raw: unknown, name: string): number {
  const text = typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw : "";
  const parsed = atoi(text);
  if (!parsed.ok) {
    throw new BrokerError(
      "bad_request",
      `failed to parse ID from form value ${name}: ${parsed.error}`,
    );
  }
  return parsed.value;
}

function messageField(fields: Fields): string {
  const message = fields.message ?? "";
  if (typeof message !== "string") throw new BrokerError("bad_request", "message must be a string");
  if (byteLength(message) > NOTIFICATION_LIMITS.maxMessageBytes) {
    throw new BrokerError(
      "payload_too_large",
      `message is larger than ${NOTIFICATION_LIMITS.maxMessageBytes} bytes`,
    );
  }
  return message;
}

function dataField(fields: Fields): Record<string, unknown> | undefined {
  if (fields.data === undefined || fields.data === null) return undefined;
  const problem = checkData(fields.data);
  if (problem) {
    const tooLarge = problem.includes("larger");
    throw new BrokerError(tooLarge ? "payload_too_large" : "bad_request", problem);
  }
  return fields.data as Record<string, unknown>;
}

function recipientsField(fields: Fields): number[] {
  const raw = fields.toIDs;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > NOTIFICATION_LIMITS.maxRecipients) {
    throw new BrokerError(
      "bad_request",
      `toIDs must be a list of 1 to ${NOTIFICATION_LIMITS.maxRecipients} user ids`,
    );
  }
  const ids = raw.map((value: unknown, i) => idValue(value, `toIDs.${i}`));
  return [...new Set(ids)];
}

async function lookUp(c: AppContext, id: number): Promise<NotificationUser | null> {
  if (id < 0) return null;
  const answer = await inboxStub(c.env, DEFAULT_VHOST, String(id)).profile();
  if (answer.ok) return answer.user;
  if (answer.code === "not_found") return null;
  throw BrokerError.from(answer);
}

function notification(routingKey: string, body: Uint8Array): PublishedMessage {
  return {
    exchange: NOTIFICATION_LIMITS.exchange,
    routingKey,
    properties: { content_type: "application/json", delivery_mode: 2, type: "notification" },
    body,
  };
}

/**
 * Publishes to the notifications exchange (a missing exchange has no inbox to reach), then
 * appends what reached someone to the `notifications` topic, keyed by recipient
 * (docs/streams.md); answers once both are stored.
 */
async function publish(c: AppContext, messages: PublishedMessage[]): Promise<boolean[]> {
  let routed: boolean[];
  try {
    routed = await publishMessages(c.env, DEFAULT_VHOST, NOTIFICATION_LIMITS.exchange, messages);
  } catch (error) {
    if (error instanceof BrokerError && error.code === "not_found")
      return messages.map(() => false);
    throw error;
  }
  await appendNotifications(
    c.env,
    DEFAULT_VHOST,
    messages.filter((_, i) => routed[i]),
  );
  return routed;
}

export function sendRoutes(app: Hono<AppEnv>): void {
  resource(app, "/send", {
    POST: async (c) => {
      await checkNotificationAccess(c, { kind: "send", vhost: DEFAULT_VHOST });
      const fields = await readFields(c);
      const fromID = idField(fields, "fromID");
      const targets = ["toID", "toIDs", "topic"].filter((key) => fields[key] !== undefined);
      if (targets.length > 1) {
        throw new BrokerError("bad_request", "give one of toID, toIDs and topic");
      }
      if (fields.toIDs !== undefined) return sendToMany(c, fromID, fields);
      if (fields.topic !== undefined) return sendToTopic(c, fromID, fields);
      const toID = idField(fields, "toID");
      const message = messageField(fields);
      const data = dataField(fields);
      const [from, to] = await Promise.all([lookUp(c, fromID), lookUp(c, toID)]);
      if (!from || !to) throw new BrokerError("not_found", USER_NOT_FOUND);
      const body = encodeNotification({ from, to, message, data });
      const [routed] = await publish(c, [notification(String(to.id), body)]);
      // A user whose inbox binding was removed by hand is as unreachable as an unknown one.
      if (!routed) throw new BrokerError("not_found", USER_NOT_FOUND);
      return c.json({ message: SENT });
    },
  });
}

async function sendToMany(c: AppContext, fromID: number, fields: Fields): Promise<Response> {
  const recipients = recipientsField(fields);
  const message = messageField(fields);
  const data = dataField(fields);
  const from = await lookUp(c, fromID);
  if (!from) throw new BrokerError("not_found", USER_NOT_FOUND);
  // The inbox fills in `to` itself, so one payload serves every recipient.
  const body = encodeNotification({ from, message, data });
  const routed = await publish(
    c,
    recipients.map((id) => notification(String(id), body)),
  );
  const notFound = recipients.filter((_, i) => !routed[i]);
  if (notFound.length === recipients.length) throw new BrokerError("not_found", USER_NOT_FOUND);
  return c.json({
    message: SENT,
    recipients: recipients.length,
    delivered: recipients.length - notFound.length,
    not_found: notFound,
  });
}

async function sendToTopic(c: AppContext, fromID: number, fields: Fields): Promise<Response> {
  const topic = fields.topic;
  if (typeof topic !== "string" || !TOPIC.test(topic)) {
    throw new BrokerError(
      "bad_request",
      "topic must be a routing key that starts with a letter or '_' (user ids are digits)",
    );
  }
  const message = messageField(fields);
  const data = dataField(fields);
  const from = await lookUp(c, fromID);
  if (!from) throw new BrokerError("not_found", USER_NOT_FOUND);
  const [routed] = await publish(c, [
    notification(topic, encodeNotification({ from, message, data })),
  ]);
  if (!routed) throw new BrokerError("not_found", `No user is subscribed to topic '${topic}'`);
  return c.json({ message: SENT, topic });
}
