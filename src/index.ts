/** Worker entry: the Hono app and the Durable Object classes wrangler binds. */
import { createApp } from "./api/app";

export { ExchangeObject } from "./objects/exchange-object";
export { GroupObject } from "./objects/group-object";
export { InboxObject } from "./objects/inbox-object";
export { QueueObject } from "./objects/queue-object";
export { RegistryObject } from "./objects/registry-object";
export { StreamObject } from "./objects/stream-object";
export { TopicObject } from "./objects/topic-object";
export { VhostObject } from "./objects/vhost-object";

export default createApp();
