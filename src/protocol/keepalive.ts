/**
 * The keep-alive of the hibernating sockets (queue consumers, notification inboxes): a ping
 * spelled exactly so is answered by the runtime without waking the Durable Object
 * (ctx.setWebSocketAutoResponse). The inbox also answers a ping spelled any other way, from its
 * parser (inbox-frames.ts).
 */
export const PING_TEXT = '{"type":"ping"}';
export const PONG_TEXT = '{"type":"pong"}';
