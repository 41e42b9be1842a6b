/**
 * The exchanges every vhost has from its creation (AMQP 0-9-1 section 3.1.3; RabbitMQ adds
 * amq.match and amq.rabbitmq.trace). The default exchange "" is routed by the Worker itself.
 */
import type { ExchangeDeclaration } from "./declarations";

const BUILTIN_TYPES = {
  "amq.direct": "direct",
  "amq.fanout": "fanout",
  "amq.topic": "topic",
  "amq.headers": "headers",
  "amq.match": "headers",
} as const;

export function isBuiltinExchange(name: string): name is keyof typeof BUILTIN_TYPES {
  return Object.hasOwn(BUILTIN_TYPES, name);
}

export function builtinExchange(vhost: string, name: string): ExchangeDeclaration | null {
  if (!isBuiltinExchange(name)) {
    return null;
  }
  return {
    name,
    vhost,
    type: BUILTIN_TYPES[name],
    durable: true,
    auto_delete: false,
    internal: false,
    arguments: {},
  };
}

export function builtinExchanges(vhost: string): ExchangeDeclaration[] {
  return Object.keys(BUILTIN_TYPES).flatMap((name) => builtinExchange(vhost, name) ?? []);
}
