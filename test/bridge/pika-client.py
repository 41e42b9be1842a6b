"""pika (Debian's python3-pika), unchanged, against the AMQP bridge: run by pika.test.mjs with
the bridge's port as argv[1]; prints one JSON object of observations for the test to check."""
import json
import sys

import pika
from pika.exceptions import (
    ChannelClosedByBroker,
    ConnectionClosedByBroker,
    ProbableAuthenticationError,
    UnroutableError,
)

port = int(sys.argv[1])
out = {}


def params(user="guest", password="guest", vhost="/"):
    return pika.ConnectionParameters(
        host="127.0.0.1",
        port=port,
        virtual_host=vhost,
        credentials=pika.PlainCredentials(user, password),
        heartbeat=30,
        blocked_connection_timeout=10,
        socket_timeout=10,
    )


try:
    pika.BlockingConnection(params(password="wrong"))
    out["wrong_password"] = "connected"
except ProbableAuthenticationError as error:
    out["wrong_password"] = "refused: %s" % (error,)
except ConnectionClosedByBroker as error:
    out["wrong_password"] = "closed %d %s" % (error.reply_code, error.reply_text)

try:
    pika.BlockingConnection(params(user="pika-user", password="pika-pass", vhost="/"))
    out["vhost_refused"] = "connected"
except ConnectionClosedByBroker as error:
    out["vhost_refused"] = [error.reply_code, error.reply_text]
except Exception as error:  # pika versions differ in what they raise during open
    out["vhost_refused"] = repr(error)

conn = pika.BlockingConnection(params())
ch = conn.channel()
ch.confirm_delivery()
ok = ch.queue_declare("pika-q", durable=True)
out["declare"] = [ok.method.queue, ok.method.message_count, ok.method.consumer_count]

props = pika.BasicProperties(
    content_type="application/json",
    delivery_mode=2,
    priority=3,
    correlation_id="c-1",
    reply_to="r-q",
    message_id="m-1",
    timestamp=1700000000,
    type="t",
    app_id="pika-test",
    headers={"h-str": "v", "h-int": 7, "h-list": [1, "a"], "h-table": {"k": True}},
)
for i in range(5):
    ch.basic_publish("", "pika-q", json.dumps({"n": i}).encode(), props)

try:
    ch.basic_publish("", "pika-nowhere", b"x", mandatory=True)
    out["unroutable"] = "confirmed"
except UnroutableError as error:
    out["unroutable"] = ["returned", len(error.messages)]

method, got_props, body = ch.basic_get("pika-q", auto_ack=False)
out["get"] = {
    "body": body.decode(),
    "message_count": method.message_count,
    "redelivered": method.redelivered,
    "content_type": got_props.content_type,
    "delivery_mode": got_props.delivery_mode,
    "priority": got_props.priority,
    "correlation_id": got_props.correlation_id,
    "timestamp": got_props.timestamp,
    "headers": {k: (v.decode() if isinstance(v, bytes) else v) for k, v in got_props.headers.items()},
}
ch.basic_nack(method.delivery_tag, requeue=True)

ch.basic_qos(prefetch_count=2)
seen = []


def on_message(channel, deliver, properties, payload):
    seen.append([json.loads(payload)["n"], deliver.redelivered])
    channel.basic_ack(deliver.delivery_tag)
    if len(seen) == 5:
        channel.stop_consuming()


ch.basic_consume("pika-q", on_message, consumer_tag="pika-consumer")
conn.call_later(15, ch.stop_consuming)
ch.start_consuming()
out["consumed"] = sorted(seen)

try:
    ch.queue_declare("pika-missing", passive=True)
    out["passive_missing"] = "found"
except ChannelClosedByBroker as error:
    out["passive_missing"] = [error.reply_code, error.reply_text]

ch2 = conn.channel()
ch2.queue_declare("pika-durable", durable=True)
try:
    ch2.queue_declare("pika-durable", durable=False)
    out["inequivalent"] = "accepted"
except ChannelClosedByBroker as error:
    out["inequivalent"] = [error.reply_code, error.reply_text]

conn.close()
print(json.dumps(out))
