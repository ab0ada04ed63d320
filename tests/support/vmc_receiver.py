"""An independent VMC receiver for the tests: python-osc parses every UDP packet on 127.0.0.1.

Prints "listening <port>" once bound, then one JSON line per bundle: the time it was received
(Unix seconds), its /VMC/Ext/T value, blend values (/VMC/Ext/Blend/Val), bones and root
(/VMC/Ext/Bone/Pos, /VMC/Ext/Root/Pos: name, position, rotation), OK arguments and whether
/VMC/Ext/Blend/Apply came. A packet that is not a valid bundle becomes {"error": ...}.
"""
import json
import socket
import sys
import time

from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage


def messages_of(bundle):
    for content in bundle:
        if isinstance(content, OscBundle):
            yield from messages_of(content)
        else:
            yield content


def describe(data):
    if not OscBundle.dgram_is_bundle(data):
        message = OscMessage(data)
        return {"error": f"not a bundle: {message.address}"}
    record = {"t": None, "blend": {}, "bones": {}, "root": None, "ok": None, "apply": False}
    for message in messages_of(OscBundle(data)):
        params = list(message.params)
        if message.address == "/VMC/Ext/T":
            record["t"] = params[0]
        elif message.address == "/VMC/Ext/Blend/Val":
            record["blend"][params[0]] = params[1]
        elif message.address == "/VMC/Ext/Blend/Apply":
            record["apply"] = True
        elif message.address == "/VMC/Ext/Bone/Pos":
            record["bones"][params[0]] = params[1:]
        elif message.address == "/VMC/Ext/Root/Pos":
            record["root"] = params
        elif message.address == "/VMC/Ext/OK":
            record["ok"] = params
    return record


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    print(f"listening {sock.getsockname()[1]}", flush=True)
    while True:
        data, _ = sock.recvfrom(65536)
        received_at = time.time()
        try:
            record = describe(data)
        except Exception as error:  # a malformed packet is reported, not fatal
            record = {"error": str(error)}
        record["receivedAt"] = received_at
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
