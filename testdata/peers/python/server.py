"""Echo server built on Python `websockets`, started by wsclient's internal/peertest.

One process serves every behaviour, chosen per connection by the request path:

  /  (any other path)           echo: text as text, binary as binary
  /close?code=N&reason=R&after=K
                                echo K messages (default 0), then close with
                                code N and reason R (no code: 1000)
  /ping?payload=P               send a ping with payload P (default "hello");
                                when its pong arrives send the text message
                                "pong:" + P; then echo
  /headers                      send the request headers as a JSON object
                                (lower-case names), then echo
  /request                      send {method, url, headers, protocol,
                                extensions} as JSON, then echo

Configuration: one JSON argument, for example
  {"compression": true, "protocols": ["chat"], "maxSize": 67108864}
Compression ("permessage-deflate" with websockets' defaults) is on unless
"compression" is false.

Output on stdout: "LISTENING <port>" once, then one JSON object per line for
each event (connect, message, pong, close, error).

Works with the new asyncio API (websockets >= 13, websockets.asyncio.server)
and with the legacy API (websockets.serve, as in Debian 12's websockets 10).
"""

import asyncio
import json
import signal
import sys
import urllib.parse

import websockets

try:
    from websockets.asyncio.server import serve as _new_serve
except ImportError:  # websockets < 13
    _new_serve = None

CONFIG = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def request_path(ws):
    req = getattr(ws, "request", None)
    if req is not None and getattr(req, "path", None) is not None:
        return req.path
    return ws.path


def request_headers(ws):
    req = getattr(ws, "request", None)
    if req is not None and getattr(req, "headers", None) is not None:
        return req.headers
    return ws.request_headers


def response_headers(ws):
    resp = getattr(ws, "response", None)
    if resp is not None and getattr(resp, "headers", None) is not None:
        return resp.headers
    return ws.response_headers


def headers_dict(headers):
    out = {}
    for name, value in headers.raw_items():
        key = name.lower()
        out[key] = out[key] + ", " + value if key in out else value
    return out


async def handler(ws):
    target = request_path(ws)
    parsed = urllib.parse.urlsplit(target)
    path = parsed.path
    query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)

    def q(name, default=None):
        return query[name][0] if name in query else default

    extensions = response_headers(ws).get("Sec-WebSocket-Extensions", "") or ""
    emit(
        {
            "event": "connect",
            "url": target,
            "protocol": ws.subprotocol or "",
            "extensions": extensions,
        }
    )

    async def do_close():
        code = int(q("code", "1000"))
        try:
            await ws.close(code, q("reason", ""))
        except Exception as err:  # invalid code: report and drop
            emit({"event": "error", "url": target, "error": repr(err)})
            ws.transport.abort()

    close_after = -1
    try:
        if path == "/close":
            close_after = int(q("after", "0") or "0")
            if close_after == 0:
                await do_close()
                return
        elif path == "/ping":
            payload = q("payload", "hello")
            waiter = await ws.ping(payload.encode())
            await waiter
            emit({"event": "pong", "url": target, "data": payload})
            await ws.send("pong:" + payload)
        elif path == "/headers":
            await ws.send(json.dumps(headers_dict(request_headers(ws))))
        elif path == "/request":
            await ws.send(
                json.dumps(
                    {
                        "method": "GET",
                        "url": target,
                        "headers": headers_dict(request_headers(ws)),
                        "protocol": ws.subprotocol or "",
                        "extensions": extensions,
                    }
                )
            )

        echoed = 0
        async for message in ws:
            binary = isinstance(message, (bytes, bytearray, memoryview))
            emit(
                {
                    "event": "message",
                    "url": target,
                    "binary": binary,
                    "size": len(message) if binary else len(message.encode()),
                }
            )
            await ws.send(message)
            echoed += 1
            if close_after >= 0 and echoed >= close_after:
                await do_close()
                break
    except websockets.exceptions.ConnectionClosed:
        pass
    except Exception as err:
        emit({"event": "error", "url": target, "error": repr(err)})
        raise
    finally:
        await ws.wait_closed()
        emit(
            {
                "event": "close",
                "url": target,
                "code": received_close_code(ws),
                "reason": received_close_reason(ws),
            }
        )


def received_close_code(ws):
    rcvd = getattr(ws, "close_rcvd", None)
    if rcvd is not None:
        return rcvd.code
    code = getattr(ws, "close_code", None)
    return code if code is not None else 1006


def received_close_reason(ws):
    rcvd = getattr(ws, "close_rcvd", None)
    if rcvd is not None:
        return rcvd.reason
    return getattr(ws, "close_reason", "") or ""


async def main():
    kwargs = {
        "max_size": CONFIG.get("maxSize") or 64 * 1024 * 1024,
        "ping_interval": None,
        "compression": "deflate" if CONFIG.get("compression", True) else None,
    }
    if CONFIG.get("protocols"):
        kwargs["subprotocols"] = CONFIG["protocols"]
    serve = _new_serve if _new_serve is not None else websockets.serve

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)

    async with serve(handler, "127.0.0.1", 0, **kwargs) as server:
        port = server.sockets[0].getsockname()[1]
        sys.stdout.write("LISTENING %d\n" % port)
        sys.stdout.flush()
        await stop


if __name__ == "__main__":
    print("websockets", websockets.__version__, file=sys.stderr, flush=True)
    asyncio.run(main())
