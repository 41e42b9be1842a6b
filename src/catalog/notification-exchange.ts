/**
 * The exchange the notification app publishes to (docs/notifications.md): direct and durable,
 * declared in a vhost the first time a notification user is created there. Each user's inbox is
 * bound to it with the user's id as binding key, so a publish with routing key "<id>" (from
 * /send or from any broker client) reaches that inbox.
 */
import { NOTIFICATION_LIMITS } from "../config";
import type { ExchangeDeclaration } from "../protocol/declarations";

export function notificationsExchange(vhost: string): ExchangeDeclaration {
  return {
    name: NOTIFICATION_LIMITS.exchange,
    vhost,
    type: "direct",
    durable: true,
    auto_delete: false,
    internal: false,
    arguments: {},
  };
}
